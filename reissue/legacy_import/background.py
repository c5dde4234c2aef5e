"""A file too long to check within a request: checked, then imported, by a worker.

The upload (`ImportUpload`, the file encrypted) carries the work's state and progress for the
page its uploader watches: *checking* (rows checked of the total), *checked* (with the bad
rows and why, or the first rows and the confirm button), *waiting to be imported*,
*importing* (rows checked and written), *imported* or *failed* (why; nothing written).

Both steps are idempotent. The check writes nothing; run again, it checks again. The import
writes in one transaction that also marks the upload imported, under the upload's row lock:
a retried import (its worker died) finds the upload imported, or finds nothing written (the
dead worker's transaction was rolled back) and imports it whole.

While the import's transaction is open its progress would be invisible (and rolled back with a
failed import), so on PostgreSQL it is written through a second connection of its own. SQLite
has one writer at a time: there the page shows the import's progress only when it is done.
"""

import base64
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jobs.workers import stale_after

from ..models import UPLOAD_KEPT, ImportState, ImportUpload
from .columns import cell, preview_values
from .files import ImportRefused, browser_limits, count_rows, stream_table
from .importer import CHECKING, ImportOutcome, LegacyCaseImport, PassedCheck

# The first rows the checked page shows, for the user to see the names read right.
SAMPLE_ROWS = 10


class UploadProgress:
    """`LegacyCaseImport.run`'s progress, written on the upload where its page reads it."""

    def __init__(self, upload_pk: int, state: str) -> None:
        self.upload_pk = upload_pk
        self.state = state  # the run's: a row another run finished is left as it is
        self.alias = router.db_for_write(ImportUpload) or DEFAULT_DB_ALIAS
        self.side = None  # the second connection, opened when first needed

    def __call__(self, stage: str, done: int, total: int) -> None:
        counter = "rows_checked" if stage == CHECKING else "rows_written"
        self.update(**{counter: done, "total_rows": total})

    def update(self, **fields) -> None:
        fields["updated_at"] = timezone.now()
        db = connections[self.alias]
        if not db.in_atomic_block or db.vendor == "sqlite":
            ImportUpload.objects.filter(pk=self.upload_pk, state=self.state).update(**fields)
            return
        if self.side is None:
            self.side = db.copy()
        meta = ImportUpload._meta
        quote = self.side.ops.quote_name
        columns = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in fields)
        state_column = meta.get_field("state").column
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} SET {columns} "
                f"WHERE {quote(meta.pk.column)} = %s AND {quote(state_column)} = %s",
                [*fields.values(), self.upload_pk, self.state],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


# A worker's work in progress: never deleted under it.
WORKING_STATES = (ImportState.CHECKING, ImportState.QUEUED, ImportState.IMPORTING)


def purge_uploads(now: datetime.datetime | None = None) -> tuple[int, int]:
    """Drop the uploads left alone for a day; return (deleted, marked failed).

    An upload a worker is checking or importing is never deleted. One whose work has not
    moved for a day and the sweep's requeue window (its worker stopped and no other took it
    up) is marked failed, its file dropped, so its page tells the uploader to send it again.
    """
    now = now or timezone.now()
    failed = ImportUpload.objects.filter(
        state__in=WORKING_STATES, updated_at__lt=now - UPLOAD_KEPT - stale_after()
    ).update(
        state=ImportState.FAILED,
        failure=_("The worker stopped; upload the file again."),
        content="",
        sample=[],
        updated_at=now,
    )
    deleted, _by_model = (
        ImportUpload.objects.exclude(state__in=WORKING_STATES)
        .filter(updated_at__lt=now - UPLOAD_KEPT)
        .delete()
    )
    return deleted, failed


def upload_for_worker(upload: ImportUpload, file_format: str) -> None:
    """Hand a saved upload to the worker's check."""
    upload.state, upload.file_format = ImportState.CHECKING, file_format
    upload.updated_at = timezone.now()
    upload.save(update_fields=["state", "file_format", "updated_at"])


def _read(upload: ImportUpload):
    """Return the upload's header and rows (read as they are asked for)."""
    return stream_table(_data(upload), file_name=_name(upload), limits=browser_limits())


def _data(upload: ImportUpload) -> bytes:
    return base64.b64decode(upload.content)


def _name(upload: ImportUpload) -> str:
    return f"upload.{upload.file_format}"  # the format the uploader chose, not the name's


def _importer(upload: ImportUpload) -> LegacyCaseImport:
    return LegacyCaseImport(acting_user=upload.owner, source_name=upload.file_name)


def _problems(outcome: ImportOutcome) -> list[dict]:
    # Row numbers and errors only: the page shows no more, and the values hold personal data.
    return [{"number": p.number, "errors": p.errors} for p in outcome.problems]


def _sample(upload: ImportUpload, importer: LegacyCaseImport) -> list[dict]:
    headers, rows = _read(upload)
    columns = importer.map_headers(headers)
    sample = []
    for number, row in enumerate(rows, start=2):
        if len(sample) == SAMPLE_ROWS:
            break
        values = preview_values({c: cell(row, i) for c, i in columns.items()})
        sample.append({"number": number, "values": values})
    return sample


def _fail(upload_pk: int, state: str, reason: str) -> None:
    """Mark the upload failed if it is still in this run's `state` (not finished by another)."""
    ImportUpload.objects.filter(pk=upload_pk, state=state).update(
        state=ImportState.FAILED,
        failure=reason,
        content="",
        sample=[],
        passed_check={},  # goes with the file
        updated_at=timezone.now(),
    )


def _failed_unexpectedly() -> str:
    return _("The import stopped on an unexpected error; nothing was imported. Try again.")


def check_upload(upload_pk: int, language: str) -> str:
    """Check every row of a waiting upload, writing nothing; keep what the page shows."""
    with translation.override(language):
        return _check_upload(upload_pk)


def _check_upload(upload_pk: int) -> str:
    upload = ImportUpload.objects.select_related("owner").filter(pk=upload_pk).first()
    if upload is None or upload.state != ImportState.CHECKING:
        return _("not waiting to be checked")
    progress = UploadProgress(upload_pk, ImportState.CHECKING)
    try:
        progress.update(rows_checked=0, rows_written=0, total_rows=None)
        total = count_rows(_data(upload), file_name=_name(upload), limits=browser_limits())
        progress.update(total_rows=total)
        importer = _importer(upload)
        headers, rows = _read(upload)
        outcome = importer.run(
            headers,
            rows,
            dry_run=True,
            progress=progress,
            total=total,
            problems_kept=settings.IMPORT_MAX_ERRORS_LISTED,
            keep_references=False,
        )
        sample = _sample(upload, importer) if outcome.ok else []
    except (ImportRefused, PermissionDenied) as exc:
        _fail(upload_pk, ImportState.CHECKING, str(exc))
        return _("refused")
    except Exception:
        _fail(upload_pk, ImportState.CHECKING, _failed_unexpectedly())
        raise
    finally:
        progress.close()
    ImportUpload.objects.filter(pk=upload_pk, state=ImportState.CHECKING).update(
        state=ImportState.CHECKED,
        total_rows=outcome.rows,
        rows_checked=outcome.rows,
        problem_count=outcome.problem_count,
        problems=_problems(outcome),
        sample=sample,
        passed_check=outcome.passed_check.as_json() if outcome.passed_check else {},
        # A file with a bad row will never be imported: its personal numbers go at once.
        **({} if outcome.ok else {"content": ""}),
        updated_at=timezone.now(),
    )
    return _("%(rows)d rows checked, %(problems)d with errors") % {
        "rows": outcome.rows,
        "problems": outcome.problem_count,
    }


def confirm_upload(upload: ImportUpload) -> bool:
    """Queue the import of a checked upload without errors; False if it is not one."""
    with transaction.atomic():
        locked = ImportUpload.objects.select_for_update().filter(pk=upload.pk).first()
        if (
            locked is None
            or locked.state != ImportState.CHECKED
            or locked.problem_count
            or not locked.content
        ):
            return False
        locked.state, locked.rows_written = ImportState.QUEUED, 0
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "rows_written", "updated_at"])
    return True


def import_upload(upload_pk: int, language: str) -> str:
    """Import a confirmed upload whole or not at all, once however often it is run."""
    with translation.override(language):
        return _import_upload(upload_pk)


def _import_upload(upload_pk: int) -> str:
    with transaction.atomic():
        upload = (
            ImportUpload.objects.select_for_update()
            .select_related("owner")
            .filter(pk=upload_pk)
            .first()
        )
        if upload is None or upload.state not in (ImportState.QUEUED, ImportState.IMPORTING):
            return _("not waiting to be imported")  # imported already, or never confirmed
        # IMPORTING again after a worker died mid-import: its transaction wrote nothing.
        upload.state, upload.rows_checked, upload.rows_written = ImportState.IMPORTING, 0, 0
        upload.updated_at = timezone.now()
        upload.save(update_fields=["state", "rows_checked", "rows_written", "updated_at"])
    progress = UploadProgress(upload_pk, ImportState.IMPORTING)
    try:
        with transaction.atomic():
            headers, rows = _read(upload)
            outcome = _importer(upload).run(
                headers,
                rows,
                rows_again=lambda: _read(upload)[1],
                # The worker's check of this very file: the rows are not checked again for
                # what only their cells decide.
                passed_check=PassedCheck.from_json(upload.passed_check),
                progress=progress,
                total=upload.total_rows,
                problems_kept=settings.IMPORT_MAX_ERRORS_LISTED,
                keep_references=False,
            )
            return _record_import(upload_pk, outcome)
    except (ImportRefused, PermissionDenied) as exc:
        _fail(upload_pk, ImportState.IMPORTING, str(exc))
        return _("refused")
    except Exception:
        _fail(upload_pk, ImportState.IMPORTING, _failed_unexpectedly())
        raise
    finally:
        progress.close()


def _record_import(upload_pk: int, outcome: ImportOutcome) -> str:
    """Mark the upload imported, in the import's transaction; or failed (nothing written)."""
    upload = ImportUpload.objects.select_for_update().get(pk=upload_pk)
    if upload.state != ImportState.IMPORTING:
        transaction.set_rollback(True)  # another run finished it meanwhile
        return _("imported by another run")
    if outcome.ok:
        upload.state, upload.failure = ImportState.IMPORTED, ""
    else:
        # The cases changed since the check: a row no longer passes. Nothing was written.
        upload.state = ImportState.FAILED
        upload.failure = _(
            "Nothing was imported: %(count)d rows no longer pass the checks. "
            "Import the file again to see them."
        ) % {"count": outcome.problem_count}
        upload.problems, upload.problem_count = _problems(outcome), outcome.problem_count
    upload.rows_checked, upload.rows_written = outcome.rows, outcome.created
    # The file and its first rows are not needed any more (they hold personal numbers).
    upload.content, upload.sample, upload.updated_at = "", [], timezone.now()
    upload.passed_check = {}
    upload.save()
    if not outcome.ok:
        return _("refused")
    return _("%(count)d cases imported") % {"count": outcome.created}
