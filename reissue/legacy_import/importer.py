"""One file's import, whole or not at all, in constant memory: the rows are read, checked and
written a batch at a time in one transaction; a bad row anywhere rolls back what was written
before it, and the rows after it are still checked (every bad row is reported), not written.
Only one batch of rows is held at a time, with the set of the file's ID numbers (their hashes)
for the check of a person on two rows."""

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.models import Office
from offices.scoping import offices_worked_in

from ..permissions import access_office_for_registration
from .columns import header_aliases, map_headers
from .files import ImportRefused, clean_file_name
from .rows import RowChecker, RowProblem
from .writer import BulkWriter

IMPORT_PERMISSION = "reissue.import_cases"
BATCH_SIZE = 1000

# progress(stage, rows done, rows in all): every row is checked, then (unless a dry run) written.
CHECKING, WRITING = "checking", "writing"
Progress = Callable[[str, int, int], None]


@dataclass
class ImportOutcome:
    """What a run found and did. `problems` holds the first `problems_kept` bad rows only;
    `problem_count` counts them all. `references` is kept only if the run was asked to."""

    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    created: int = 0
    references: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problem_count


def batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    """Yield the rows `size` at a time, reading no further ahead than one batch."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


class _RollBack(Exception):
    """Raised inside the transaction to undo what a failed import has written so far."""


def _changed_meanwhile() -> ImportRefused:
    # Someone registered a case or an applicant of the file since its rows were checked.
    return ImportRefused(
        _(
            "The cases changed while the file was being imported, so nothing was imported. "
            "Import the file again."
        )
    )


def access_import(user) -> None:
    """Raise PermissionDenied unless `user` may import legacy cases."""
    if not (user.is_active and user.has_perm(IMPORT_PERMISSION)):
        raise PermissionDenied(_("You may not import cases."))


def _may_register_in(user, office: Office) -> bool:
    try:
        access_office_for_registration(user, office)
    except PermissionDenied:
        return False
    return True


class LegacyCaseImport:
    """Check and import the rows of one file for `acting_user`.

    `office_code` narrows the offices the rows may name to one (the command's --office).
    """

    def __init__(
        self, *, acting_user: AbstractUser, office_code: str = "", source_name: str = ""
    ) -> None:
        access_import(acting_user)
        self.acting_user = acting_user
        self.source_name = clean_file_name(source_name)
        self.offices = {office.code: office for office in Office.objects.all()}
        self.allowed_office_ids = {
            office.pk
            for office in offices_worked_in(acting_user)
            if not office_code or office.code == office_code.strip().upper()
            if _may_register_in(acting_user, office)
        }
        self.aliases = header_aliases()
        self.now = timezone.now()  # every case of the file is registered at this moment

    def map_headers(self, headers: Sequence[Any]) -> dict[str, int]:
        """Return {column: index in the row} for the columns we know."""
        return map_headers(headers, self.aliases)

    def run(
        self,
        headers: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        total: int | None = None,
        problems_kept: int | None = None,
        keep_references: bool = True,
    ) -> ImportOutcome:
        """Check every row; unless `dry_run` and if all are good, import them, atomically.

        `rows` is read one batch at a time (an iterator is never read whole); `total` is
        their number for `progress` (by default len(rows)). A dry run writes nothing and
        opens no transaction, so that its progress can be seen by others as it goes.
        """
        total = len(rows) if total is None and isinstance(rows, Sequence) else total
        outcome = ImportOutcome(rows=0, dry_run=dry_run)
        try:
            with transaction.atomic() if not dry_run else nullcontext():
                self._check_and_write(
                    headers, rows, outcome, progress, total, problems_kept, keep_references
                )
                if not outcome.ok:
                    raise _RollBack
        except _RollBack:
            outcome.references, outcome.created = [], 0
        except IntegrityError as exc:
            raise _changed_meanwhile() from exc
        return outcome

    def _check_and_write(
        self, headers, rows, outcome: ImportOutcome, progress, total, problems_kept, keep_refs
    ) -> None:
        """Check the rows a batch at a time and write each good batch at once, while every
        row so far is good; past the first bad row, only check (and report)."""
        checker = RowChecker(
            acting_user=self.acting_user,
            offices=self.offices,
            allowed_office_ids=self.allowed_office_ids,
            now=self.now,
        )
        columns, writer = self.map_headers(headers), None
        for batch in batches(rows, BATCH_SIZE):
            first = outcome.rows + 2  # the header is row 1
            checked, problems = checker.check_batch(batch, first_number=first, columns=columns)
            outcome.rows += len(batch)
            del batch  # the rows of one batch only are held
            outcome.problem_count += len(problems)
            room = None if problems_kept is None else max(problems_kept - len(outcome.problems), 0)
            outcome.problems += problems[:room]
            if progress:
                progress(CHECKING, outcome.rows, total or outcome.rows)
            if outcome.dry_run or not outcome.ok:
                continue
            # The writer's locks (the audit chain's head, the offices' sequences) are taken
            # at the first write and held to the end: a case or an applicant registered by
            # a clerk meanwhile breaks a unique constraint, and the IntegrityError refuses
            # the file.
            writer = writer or BulkWriter(
                acting_user=self.acting_user, source_name=self.source_name or "-", now=self.now
            )
            references = writer.write(checked)
            outcome.created += len(references)
            if keep_refs:
                outcome.references += references
            del checked, references
            if progress:
                progress(WRITING, outcome.created, total or outcome.rows)
        if writer is not None and outcome.ok:
            writer.finish()
