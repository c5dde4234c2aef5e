"""One file's import, whole or not at all, in constant memory, in two passes over the rows.

The check reads and checks every row a batch at a time, writing and locking nothing: a bad
file is refused with every bad row and holds nobody up. The write reads the rows again and,
in one transaction (one import's write at a time), checks each batch again (under the
ID-number claims, and the row locks of the applicants it claimed) and writes it; a row that
no longer passes (a clerk registered its person meanwhile) rolls back what was written before
it and lets go of every lock; the rows after it are still checked (and reported), not
written. The audit chain's head is locked only at the end, for the audit entries
(`BulkWriter.finish`). The claims are released after each batch and, after a rollback,
outside the transaction (they outlast it). Only one batch of rows is held at a time, with
the set of the file's ID numbers (their hashes) for the check of a person on two rows, and a
digest of each batch's cells: the write checks again only what the database may have
changed of a batch whose cells it reads as the check read them (`batch_digest`); a batch
read otherwise is checked again in full. A worker's check that every row passed is kept
(`PassedCheck`): the import its user confirms then makes the write pass only.

`check_and_write` is the write pass alone, each batch checked in full: for a file no one
looks over before it is imported (`manage.py import_cases`), after a read that notes only
the offices its rows name (`survey`)."""

import functools
import hashlib
import importlib
import itertools
import logging
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.models import Office
from offices.scoping import offices_worked_in

from ..id_number_claims import release_id_numbers, wait_for_other_imports
from ..permissions import access_office_for_registration
from .cells import cell_text
from .columns import cell, header_aliases, map_headers
from .files import ImportRefused, clean_file_name
from .rows import RowChecker, RowProblem
from .writer import BulkWriter

logger = logging.getLogger(__name__)

IMPORT_PERMISSION = "reissue.import_cases"
BATCH_SIZE = 1000

# progress(stage, rows done, rows in all): every row is checked, then (unless a dry run) written.
CHECKING, WRITING = "checking", "writing"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PassedCheck:
    """What the write needs of a check every row passed: each batch's digest and the offices
    the rows name. A worker keeps it on the upload between the check and the confirmation
    (`as_json`), so that the import does not check the file's rows a second time.

    Kept with the fingerprint of the code that checked (`check_rules_fingerprint`): a check
    made before a release read back after it is no check (None), and the file is checked in
    full, by the rules of the code that writes it."""

    digests: tuple[bytes, ...]
    office_ids: frozenset[int]

    def as_json(self) -> dict:
        return {
            "digests": [d.hex() for d in self.digests],
            "offices": sorted(self.office_ids),
            "rules": check_rules_fingerprint(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "PassedCheck | None":
        if not data or data.get("rules") != check_rules_fingerprint():
            return None
        return cls(
            digests=tuple(bytes.fromhex(d) for d in data["digests"]),
            office_ids=frozenset(data["offices"]),
        )


#: The packages whose code decides whether a row passes: its cells read, the models' fields,
#: validators and `clean`, registration's rules, the offices. Any change to them (a release)
#: makes a kept check no check.
CHECK_RULES_PACKAGES = ("common", "offices", "reissue")


@functools.cache
def check_rules_fingerprint() -> str:
    """Return a digest of the source of CHECK_RULES_PACKAGES, as this process runs them."""
    digest = hashlib.sha256()
    for package in CHECK_RULES_PACKAGES:
        root = Path(importlib.import_module(package).__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class FileSurvey:
    """What reading a file's rows once tells before they are checked (`survey`)."""

    rows: int
    office_ids: frozenset[int]  # the offices its rows name that its user may import for


@dataclass
class ImportOutcome:
    """What a run found and did. `problems` holds the first `problems_kept` bad rows only;
    `problem_count` counts them all. `references` is kept only if the run was asked to.
    `passed_check`: a check's, if every row passed it."""

    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    created: int = 0
    references: list[str] = field(default_factory=list)
    dry_run: bool = False
    passed_check: PassedCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.problem_count


def batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    """Yield the rows `size` at a time, reading no further ahead than one batch."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def batch_digest(batch: Sequence[Sequence[Any]]) -> bytes:
    """Return a digest of the batch's cells, each by its type and value: two batches with
    the same digest are read and checked alike, but for what the database knows."""
    digest = hashlib.blake2b(digest_size=32)
    for row in batch:
        # A pickle says each value's type and ends where the row does (a tenth of a repr's
        # time). Equal cells pickle alike, unless one object stands for two of them
        # (pickled once): then the batch is only checked again in full.
        digest.update(pickle.dumps(tuple(row), protocol=5))
    return digest.digest()


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


def _another_import_writing() -> ImportRefused:
    return ImportRefused(
        _(
            "Another file is being imported at this moment, so nothing was imported. Import "
            "the file again when it has finished."
        )
    )


def _not_the_file_checked() -> ImportRefused:
    # A row of an office the check did not find (the upload is kept unchanged, so only a
    # reader changed by an upgrade in between): that office's sequence was not locked first.
    return ImportRefused(
        _(
            "The file no longer reads as it did when it was checked, so nothing was imported. "
            "Upload it again."
        )
    )


def _stopped() -> ImportRefused:
    # The database stopped the write (most often a deadlock with a clerk's work).
    return ImportRefused(
        _(
            "The import was stopped by other work on the same cases, so nothing was "
            "imported. Import the file again."
        )
    )


def _release_claims() -> None:
    """Release the batch's ID-number claims after the transaction (they outlast a rollback);
    if the connection cannot, close it: a pooled connection must not keep them."""
    try:
        release_id_numbers()
    except DatabaseError:
        logger.exception("The ID-number claims of an import could not be released")
        connection.close()


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
        rows_again: Callable[[], Iterable[Sequence[Any]]] | None = None,
        passed_check: PassedCheck | None = None,
    ) -> ImportOutcome:
        """Check every row; unless `dry_run` and if all are good, import them, atomically.

        Two passes, each reading `rows` one batch at a time (an iterator is never read
        whole): the check, with no transaction and no lock (so that others see its
        progress, and a bad file holds nobody up); then, if every row passed, the write, in
        one transaction, checking each batch again just before writing it (a clerk may
        have registered one of its people meanwhile: the file is refused, those rows with
        their reasons). An iterator cannot be read twice: give `rows_again`, which reads
        the rows afresh. `total` is their number for `progress` (by default len(rows)).

        `passed_check`: the outcome's of an earlier dry run of these very rows, every one of
        which passed (a worker's check, before the user confirmed): the write starts at once,
        checking again only what the database may have changed (a batch that does not read
        as it did then: in full); a row of an office that check did not name refuses the file.
        """
        total = len(rows) if total is None and isinstance(rows, Sequence) else total
        if passed_check is not None and not dry_run:
            rows_again = lambda: rows  # noqa: E731 (checked already: the rows are read once)
        elif rows_again is None and not dry_run:
            if not isinstance(rows, Sequence):
                raise TypeError("An iterator of rows is read twice: give rows_again.")
            rows_again = lambda: rows  # noqa: E731 (a list reads again as it is)
        if passed_check is None or dry_run:
            checked = ImportOutcome(rows=0, dry_run=dry_run)
            digests: list[bytes] = []  # each batch's (batch_digest), for the write pass
            office_ids = self._check(
                headers, rows, checked, progress, total, problems_kept, digests
            )
            if checked.ok:
                checked.passed_check = PassedCheck(tuple(digests), frozenset(office_ids))
            if dry_run or not checked.ok:
                return checked
            passed_check = checked.passed_check
        return self._write_all(
            headers, rows_again(), passed_check, progress, total, problems_kept, keep_references
        )

    def survey(self, headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> FileSurvey:
        """Read the rows through once, keeping only their number and the offices they name
        (those the user may import for: a row of another is refused by its check)."""
        index = self.map_headers(headers).get("office")
        count, codes = 0, set()
        for row in rows:
            count += 1
            if index is not None:
                codes.add(cell_text(cell(row, index)).upper())
        offices = (self.offices.get(code) for code in codes)
        return FileSurvey(
            rows=count,
            office_ids=frozenset(
                office.pk for office in offices if office and office.pk in self.allowed_office_ids
            ),
        )

    def check_and_write(
        self,
        headers: Sequence[Any],
        rows: Iterable[Sequence[Any]],
        *,
        survey: FileSurvey,
        progress: Progress | None = None,
        problems_kept: int | None = None,
        keep_references: bool = True,
    ) -> ImportOutcome:
        """Check every row and import them all if all are good, in one pass: each batch is
        checked in full just before it is written, in the transaction (`survey`: the same
        rows', for the sequences of their offices, locked first).

        For a file that no one will look over first (`manage.py import_cases`): `run`'s
        check reads and checks every row once more. The price: the file's offices wait for
        their sequences while the rows are checked, up to the first bad row; from there the
        written rows are rolled back, the locks let go, and the rest is only checked, so that
        every bad row is reported."""
        check = PassedCheck(digests=(), office_ids=survey.office_ids)  # nothing checked yet
        return self._write_all(
            headers, rows, check, progress, survey.rows, problems_kept, keep_references
        )

    def _write_all(
        self, headers, rows, passed_check, progress, total, problems_kept, keep_references
    ) -> ImportOutcome:
        """Write the rows in one transaction (`_write`); past a bad row, roll back what was
        written, let go of every lock, and only check the rest."""
        written = ImportOutcome(rows=0)
        checker = self._checker(for_writing=True)
        digests = list(passed_check.digests)
        good_rows = self._checked_batches(checker, headers, rows, written, problems_kept, digests)
        write = (written, progress, total, keep_references, passed_check)
        try:
            with transaction.atomic():
                if not wait_for_other_imports(seconds=settings.IMPORT_WAIT_SECONDS):
                    raise _another_import_writing()
                self._write(good_rows, *write)
                if not written.ok:
                    raise _RollBack
        except _RollBack:
            written.references, written.created = [], 0
        except IntegrityError as exc:
            raise _changed_meanwhile() from exc
        except DatabaseError as exc:
            # A deadlock, a lock or statement timeout, ...: the user is told, the log keeps it.
            logger.exception("The write pass of the import of %r failed", self.source_name)
            raise _stopped() from exc
        finally:
            _release_claims()
        if not written.ok:
            checker.for_writing = False  # nothing is locked or claimed any more
            for _checked in good_rows:
                if progress:
                    progress(CHECKING, written.rows, total or written.rows)
        return written

    def _checker(self, *, for_writing: bool) -> RowChecker:
        return RowChecker(
            acting_user=self.acting_user,
            offices=self.offices,
            allowed_office_ids=self.allowed_office_ids,
            now=self.now,
            for_writing=for_writing,
        )

    def _checked_batches(
        self, checker, headers, rows, outcome: ImportOutcome, problems_kept, digests: list[bytes]
    ):
        """Yield each batch's good rows, counting the rows and keeping the problems.

        Checking (not `checker.for_writing`), keep each batch's digest in `digests`; writing,
        a batch of the digest kept passed every check of its cells alone: only what the
        database may have changed since is checked again (the known numbers, the claims) and
        the file's repeats. Any other batch (the file read otherwise) is checked in full.
        """
        columns = self.map_headers(headers)
        for index, batch in enumerate(batches(rows, BATCH_SIZE)):
            first = outcome.rows + 2  # the header is row 1
            if not checker.for_writing:
                digests.append(batch_digest(batch))
            cells_checked = (
                checker.for_writing
                and index < len(digests)
                and digests[index] == batch_digest(batch)
            )
            checked, problems = checker.check_batch(
                batch, first_number=first, columns=columns, cells_checked=cells_checked
            )
            outcome.rows += len(batch)
            del batch  # the rows of one batch only are held
            outcome.problem_count += len(problems)
            room = None if problems_kept is None else max(problems_kept - len(outcome.problems), 0)
            outcome.problems += problems[:room]
            yield checked

    def _check(
        self, headers, rows, outcome: ImportOutcome, progress, total, problems_kept, digests
    ):
        """The first pass: check every row, writing and locking nothing, keeping each batch's
        digest in `digests`; return the offices the rows name (the write pass locks their
        sequences first)."""
        office_ids: set[int] = set()
        checker = self._checker(for_writing=False)
        good_rows = self._checked_batches(checker, headers, rows, outcome, problems_kept, digests)
        for checked in good_rows:
            office_ids.update(row.case.office_id for row in checked)
            if progress:
                progress(CHECKING, outcome.rows, total or outcome.rows)
        return office_ids

    def _write(
        self,
        good_rows,
        outcome: ImportOutcome,
        progress,
        total,
        keep_refs,
        passed_check: PassedCheck,
    ) -> None:
        """In the transaction: write each batch the checker passes (`good_rows`, each batch
        checked again under the writer's locks: for a batch read as the check read it, only
        what the database may have changed), up to the first bad row."""
        writer = BulkWriter(
            acting_user=self.acting_user,
            source_name=self.source_name or "-",
            now=self.now,
            office_ids=passed_check.office_ids,
        )
        for checked in good_rows:
            if not {row.case.office_id for row in checked} <= passed_check.office_ids:
                raise _not_the_file_checked()  # its sequence is not locked: nothing is written
            if not outcome.ok:
                return  # the caller rolls back: nothing of a bad file is written
            references = writer.write(checked)
            outcome.created += len(references)
            if keep_refs:
                outcome.references += references
            del references, checked
            # The batch's people are written: their claims go.
            release_id_numbers()
            if progress:
                progress(WRITING, outcome.created, total or outcome.rows)
        writer.finish()
