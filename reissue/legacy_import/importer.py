"""One file's import, whole or not at all: every row checked in batches, then written in
the same transaction, the writer's locks taken only once every row has passed."""

from collections.abc import Callable, Sequence
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
from .rows import CheckedRow, RowChecker, RowProblem
from .writer import BulkWriter

IMPORT_PERMISSION = "reissue.import_cases"
BATCH_SIZE = 1000

# progress(stage, rows done, rows in all): every row is checked, then (unless a dry run) written.
CHECKING, WRITING = "checking", "writing"
Progress = Callable[[str, int, int], None]


@dataclass
class ImportOutcome:
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0
    references: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


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
        rows: Sequence[Sequence[Any]],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportOutcome:
        """Check every row; unless `dry_run` and if all are good, import them, atomically."""
        outcome = ImportOutcome(rows=len(rows), dry_run=dry_run)
        try:
            with transaction.atomic():
                checked = self._check(headers, rows, outcome, progress)
                if not outcome.ok:
                    raise _RollBack
                if not dry_run:
                    self._write(checked, outcome, progress)
        except _RollBack:
            outcome.references = []
        except IntegrityError as exc:
            raise _changed_meanwhile() from exc
        outcome.created = len(outcome.references)
        return outcome

    def _check(self, headers, rows, outcome: ImportOutcome, progress) -> list[list[CheckedRow]]:
        """Check every row; return the good ones in batches, while all are good and they are
        to be written (a dry run, or a file with a bad row, keeps none)."""
        checker = RowChecker(
            acting_user=self.acting_user,
            offices=self.offices,
            allowed_office_ids=self.allowed_office_ids,
            now=self.now,
        )
        columns, batches = self.map_headers(headers), []
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            checked, problems = checker.check_batch(batch, first_number=start + 2, columns=columns)
            outcome.problems += problems
            if not outcome.dry_run and outcome.ok:
                batches.append(checked)
            if progress:
                progress(CHECKING, start + len(batch), len(rows))
        return batches

    def _write(self, batches: list[list[CheckedRow]], outcome: ImportOutcome, progress) -> None:
        # Not re-checked under the writer's locks (the audit chain's head and the offices'
        # sequences, which hold up every clerk's writes): a case or an applicant registered
        # since the check breaks the database's unique constraints (one open case per
        # applicant, one applicant per ID number), and the IntegrityError refuses the file.
        writer = BulkWriter(
            acting_user=self.acting_user, source_name=self.source_name or "-", now=self.now
        )
        for checked in batches:
            outcome.references += writer.write(checked)
            if progress:
                progress(WRITING, len(outcome.references), outcome.rows)
        writer.finish()
