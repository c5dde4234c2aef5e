"""Writes of the exports: the access-log record of a file holding personal numbers in full,
and the exports built in the background (asked for, built once, downloaded, purged)."""

import base64
import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.datastructures import MultiValueDict
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.chain import chain_append
from audit.models import AccessKind, PersonalDataAccess
from common.exceptions import ObjectNotFound, Refusal
from offices.scoping import office_ids_visible_to

from .files import describe_filters
from .models import EXPORT_KEPT, BackgroundExport, ExportFormat, ExportStatus


def export_with_full_numbers_record(
    *,
    acting_user: AbstractUser,
    model: type[models.Model],
    count: int,
    file_format: str,
    filters: MultiValueDict,  # the list's query parameters (a QueryDict)
) -> PersonalDataAccess:
    """Log an export of `count` rows of `model`'s list with full personal numbers, as one
    access-log record naming the format and the list's `filters` (ID numbers in them masked)."""
    reason = _("export of %(count)d %(objects)s (%(format)s, %(filters)s)") % {
        "count": count,
        "objects": model._meta.verbose_name_plural,
        "format": file_format,
        "filters": describe_filters(filters),
    }
    # One record, appended to the chain in a transaction of its own (chain_append's).
    return chain_append(
        PersonalDataAccess(
            kind=AccessKind.EXPORT,
            actor=acting_user,
            content_type=ContentType.objects.get_for_model(model),
            object_id=0,
            case=None,
            field="export",
            reason=reason,
        )
    )


# Exports built in the background --------------------------------------------------------------


#: Exports one user may have queued or being built at once (settings.BACKGROUND_EXPORTS_PER_USER).
DEFAULT_EXPORTS_PER_USER = 3


class ExportRefused(Refusal):
    """The export cannot be built as asked; `message` says why, for its requester."""


@dataclass(frozen=True)
class BuiltExport:
    """What an export's source built: the file, and what the access log says of it."""

    content: bytes
    rows: int
    file_name: str
    ascii_file_name: str  # for clients that read no UTF-8 names
    full_numbers: bool
    records: int  # the objects of the list exported, as the access log counts them
    filters: MultiValueDict  # the list's query parameters, as the access log names them
    #: The permission that let the file hold full numbers; empty when they are masked.
    full_numbers_permission: str = ""


def export_source(builder):
    """Declare `builder` a source of background exports: only a function so marked is run for
    a kept export, whatever dotted path its row names."""
    builder.is_export_source = True
    return builder


def may_export(user: AbstractUser, permission: str) -> bool:
    return user.is_active and user.has_perm(permission)


@transaction.atomic
def background_export_request(
    *,
    requester: AbstractUser,
    model: type[models.Model],
    source: str,
    permission: str,
    file_format: str,
    params: list[tuple[str, str]],
    columns: list[str],
    search_state: dict | None = None,
) -> BackgroundExport:
    """Keep an export to build in the background, and enqueue its task in the same transaction
    (the queue is in this database: both are written, or neither)."""
    from .tasks import build_background_export

    if not may_export(requester, permission):
        raise PermissionDenied(_("You may not export this list."))
    if file_format not in ExportFormat.values:
        raise ExportRefused(_("Choose CSV, XLSX or JSON."))
    # One request of the user's at a time past this point, so two cannot both pass the count.
    get_user_model().objects.select_for_update().filter(pk=requester.pk).first()
    fail_exports_whose_task_failed(requester=requester)
    most = getattr(settings, "BACKGROUND_EXPORTS_PER_USER", DEFAULT_EXPORTS_PER_USER)
    pending = BackgroundExport.objects.filter(
        requester=requester, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    )
    if pending.count() >= most:
        raise ExportRefused(
            _(
                "You already have %(count)d exports being built, the most at a time; ask "
                "again once one is ready on My exports."
            )
            % {"count": most}
        )
    export = BackgroundExport.objects.create(
        requester=requester,
        content_type=ContentType.objects.get_for_model(model),
        source=source,
        permission=permission,
        file_format=file_format,
        params=[[str(key), str(value)] for key, value in params],
        columns=[str(name) for name in columns],
        search_state=search_state or {},
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    result = build_background_export.enqueue(export.pk)
    BackgroundExport.objects.filter(pk=export.pk).update(task_id=result.id)
    return export


def background_export_build(export_id: int) -> str:
    """Build the export's file, once: run again (a retry, a worker that died mid-build) it
    builds what is not built yet, and a built or failed export is left as it is.

    The build reads outside any transaction of ours (a long one would hold SQLite's write
    lock); the file, its state and the access-log record are written in one at the end.
    """
    with transaction.atomic():
        export = BackgroundExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return "nothing to do"
        export.status = ExportStatus.RUNNING
        export.started_at = timezone.now()
        export.attempts += 1
        export.save(update_fields=["status", "started_at", "attempts"])
    requester = export.requester
    if not may_export(requester, export.permission):
        return _fail(export, _("You may no longer export this list."))
    try:
        with translation.override(export.language):
            builder = import_string(export.source)
            if not getattr(builder, "is_export_source", False):
                raise ImproperlyConfigured(f"{export.source} is not an export source.")
            built = builder(export)
    except ExportRefused as refusal:
        return _fail(export, refusal.message)
    except Exception:
        _fail(export, _("The export could not be built; ask for it again."))
        raise
    return _store(export, built)


def _store(export: BackgroundExport, built: BuiltExport) -> str:
    with transaction.atomic():
        locked = BackgroundExport.objects.select_for_update().get(pk=export.pk)
        if locked.status != ExportStatus.RUNNING:
            return "nothing to do"  # another run stored it meanwhile: keep that one
        now = timezone.now()
        locked.content = base64.b64encode(built.content).decode("ascii")
        locked.sha256 = hashlib.sha256(built.content).hexdigest()
        locked.size = len(built.content)
        locked.rows = built.rows
        locked.file_name = built.file_name[:200]
        locked.ascii_file_name = built.ascii_file_name[:200]
        locked.full_numbers = built.full_numbers
        locked.full_numbers_permission = built.full_numbers_permission if built.full_numbers else ""
        locked.office_ids = office_ids_visible_to(locked.requester)
        locked.status = ExportStatus.DONE
        locked.finished_at = now
        locked.expires_at = now + EXPORT_KEPT
        locked.save()
        if built.full_numbers:  # once, when the file is built, as an export on the page is
            export_with_full_numbers_record(
                acting_user=locked.requester,
                model=locked.content_type.model_class(),
                count=built.records,
                file_format=locked.get_file_format_display(),
                filters=built.filters,
            )
    return f"{built.rows} rows"


def _fail(export: BackgroundExport, reason: str) -> str:
    now = timezone.now()
    BackgroundExport.objects.filter(pk=export.pk).exclude(status=ExportStatus.DONE).update(
        status=ExportStatus.FAILED, failure=reason, finished_at=now, expires_at=now + EXPORT_KEPT
    )
    return reason


def background_export_file(*, export_id: int, acting_user: AbstractUser) -> BackgroundExport:
    """Return the requester's built export with its file read (`export.file`); each download
    of a file with full numbers is written to the access log.

    Another user's export, a superuser's look included, is not found: only its requester
    may have it.
    """
    export = (
        BackgroundExport.objects.select_related("content_type")
        .filter(pk=export_id, requester=acting_user, status=ExportStatus.DONE)
        .filter(expires_at__gt=timezone.now())
        .first()
    )
    if export is None:
        raise ObjectNotFound(_("No such export, or it is no longer kept."))
    if not may_export(acting_user, export.permission):
        raise PermissionDenied(_("You may no longer export this list."))
    _refuse_if_no_longer_covered(export, acting_user)
    content = base64.b64decode(export.content)
    if hashlib.sha256(content).hexdigest() != export.sha256:
        raise Refusal(_("The stored export does not match its checksum; ask for it again."))
    if export.full_numbers:
        _record_download(export=export, acting_user=acting_user)
    export.file = content
    return export


def _refuse_if_no_longer_covered(export: BackgroundExport, user: AbstractUser) -> None:
    """Refuse the file to a user who may no longer see what it holds: its full numbers, or
    the rows of an office it covered."""
    permission = export.full_numbers_permission
    if export.full_numbers and not (permission and may_export(user, permission)):
        raise PermissionDenied(
            _("You may no longer see the full ID numbers in this file; ask for the export again.")
        )
    visible = office_ids_visible_to(user)
    covered = export.office_ids
    if visible is not None and (covered is None or not set(covered) <= set(visible)):
        raise PermissionDenied(
            _("This file covers offices you no longer see; ask for the export again.")
        )


def _record_download(*, export: BackgroundExport, acting_user: AbstractUser) -> None:
    chain_append(
        PersonalDataAccess(
            kind=AccessKind.EXPORT,
            actor=acting_user,
            content_type=export.content_type,
            object_id=export.pk,
            case=None,
            field="export",
            reason=_("download of export %(id)d: %(rows)d rows of %(objects)s (%(format)s)")
            % {
                "id": export.pk,
                "rows": export.rows,
                "objects": export.list_name,
                "format": export.get_file_format_display(),
            },
        )
    )


def fail_exports_whose_task_failed(*, requester: AbstractUser | None = None) -> int:
    """Mark failed the exports still queued or being built whose task failed for good (its
    worker died JOBS_MAX_ATTEMPTS times: jobs.workers, or the build raised), so My exports says
    so and they stop counting against the requester's limit; return how many."""
    stuck = BackgroundExport.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING],
        task_id__in=DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).values("id"),
    )
    if requester is not None:
        stuck = stuck.filter(requester=requester)
    now = timezone.now()
    return stuck.update(
        status=ExportStatus.FAILED,
        failure=_("The export could not be built; ask for it again."),
        finished_at=now,
        expires_at=now + EXPORT_KEPT,
    )


def purge_expired_exports(now: datetime.datetime | None = None) -> int:
    """Delete the exports past their day (their files hold personal data), and any never
    finished within a day; return how many. Those whose task failed for good are first
    marked failed, to be shown so for their day."""
    fail_exports_whose_task_failed()
    now = now or timezone.now()
    unfinished = Q(expires_at__isnull=True, created_at__lt=now - EXPORT_KEPT)
    with transaction.atomic():
        deleted, _by_model = BackgroundExport.objects.filter(
            Q(expires_at__lt=now) | unfinished
        ).delete()
    return deleted
