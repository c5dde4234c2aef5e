"""Checking the rows of a legacy file: each row as registration checks a report
(`registration.check_registration`), with what only a file has besides: its cells to read,
columns the workflow sets (refused), a report date of its own, a person on two rows.
"""

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from common.id_numbers import id_number_digest, normalize_id_number
from common.instances import new_instance
from offices.models import Office

from ..id_number_claims import BEING_REGISTERED, claim_id_numbers
from ..models import Applicant, LossKind, LostItems, ReissueCase
from ..registration import APPLICANT_FIELDS, KnownNumber, check_registration, known_numbers
from .cells import SHOWN_CHARS, ChoiceCell, cell_bool, cell_date, cell_text, shown
from .columns import (
    CASE_COLUMNS,
    COLUMNS,
    REQUIRED_COLUMNS,
    WORKFLOW_COLUMNS,
    cell,
    preview_values,
)

Errors = dict[str, list[str]]


@dataclass
class RowProblem:
    """A row that cannot be imported: its number in the sheet (the header is row 1)."""

    number: int
    errors: Errors
    values: dict[str, Any]


@dataclass(slots=True)
class CheckedRow:
    """A row ready to write, held until its batch is written."""

    number: int
    applicant: Applicant  # new (unsaved), or known with the row's contact details
    case: ReissueCase
    contact_changes: dict[str, list[str]]


class RowChecker:
    """Read and check the rows of one file, a batch at a time, for `acting_user`.

    `offices` are the offices by code; the rows may name those of `allowed_office_ids`.
    Every case is registered at `now`, unless its row gives the date of the report.
    `for_writing` checks the rows about to be written: it claims their ID numbers
    (`claim_id_numbers`) and row-locks the known applicants of those it claimed.
    """

    def __init__(
        self,
        *,
        acting_user: AbstractUser,
        offices: dict[str, Office],
        allowed_office_ids,
        now,
        for_writing: bool = False,
    ):
        self.acting_user, self.for_writing = acting_user, for_writing
        self.offices, self.allowed_office_ids = offices, allowed_office_ids
        self.now, self.today = now, timezone.localdate(now)
        self.choices = {"lost_items": ChoiceCell(LostItems), "loss_kind": ChoiceCell(LossKind)}
        self.seen_numbers: dict[str, int] = {}  # ID-number hash: the row it is first on

    def check_batch(
        self,
        batch: Sequence[Sequence[Any]],
        *,
        first_number: int,
        columns: dict[str, int],
        cells_checked: bool = False,
    ) -> tuple[list[CheckedRow], list[RowProblem]]:
        """Return the batch's good rows and its problems; `first_number` is its first row's.

        `cells_checked`: these very rows passed the check before (with what the database
        knew then); only what depends on the database is checked again, and the file's
        repeats (`check_registration`'s `cells_checked`).
        """
        read = [self.read_row(row, columns) for row in batch]
        id_numbers = [cleaned.get("id_number") for _v, cleaned, _e in read]
        digests = [id_number_digest(n) if n else "" for n in id_numbers]
        claimed = set()
        if self.for_writing:
            claimed = claim_id_numbers((d for d in digests if d), until_released=True)
        known = self._known(digests, claimed)
        checked, problems = [], []
        numbered = zip(itertools.count(first_number), read, digests)
        for number, (values, cleaned, errors), digest in numbered:
            row = self._check_row(number, cleaned, errors, digest, known, claimed, cells_checked)
            if errors:
                problems.append(RowProblem(number, errors, preview_values(values)))
            else:
                checked.append(row)
        return checked, problems

    def _known(self, digests: list[str], claimed: set[str]) -> dict[str, KnownNumber]:
        """Return the batch's known numbers (by their hashes, "" for a row without one);
        writing, row-lock the applicants of ours only.

        A number claimed by a clerk is theirs: the clerk may hold its applicant's row and
        wait for an office's sequence, which the import holds (a deadlock). Its row is
        refused as being registered, its applicant read without a lock for the other checks.
        """
        if not self.for_writing:
            return known_numbers(
                id_number_hashes=filter(None, digests), acting_user=self.acting_user
            )
        ours = [d for d in digests if d and d not in claimed]
        known = known_numbers(id_number_hashes=ours, acting_user=self.acting_user, lock=True)
        if claimed:
            theirs = [d for d in digests if d in claimed]
            known |= known_numbers(id_number_hashes=theirs, acting_user=self.acting_user)
        return known

    # Reading the cells ---------------------------------------------------------------------

    def read_row(self, row: Sequence[Any], columns: dict[str, int]):
        """Return the row's raw values, its cleaned values and the errors of reading it."""
        values, cleaned, errors = {}, {}, self._workflow_columns_given(row, columns)
        for column, kind in COLUMNS.items():
            if column not in columns:
                if column in REQUIRED_COLUMNS:
                    errors[column] = [
                        _("The column “%(column)s” is missing from the file.") % {"column": column}
                    ]
                continue
            value = values[column] = cell(row, columns[column])
            try:
                cleaned[column] = self._read_cell(column, kind, value)
            except ValidationError as exc:
                errors[column] = exc.messages
        return values, cleaned, errors

    @staticmethod
    def _workflow_columns_given(row: Sequence[Any], columns: dict[str, int]) -> Errors:
        return {
            column: [
                _(
                    "Imported cases start at “reported”; the column “%(column)s” is set "
                    "by the workflow and cannot be imported."
                )
                % {"column": column}
            ]
            for column in WORKFLOW_COLUMNS
            if column in columns and cell_text(cell(row, columns[column]))
        }

    def _read_cell(self, column: str, kind, value: Any) -> Any:
        if kind == "date":
            return cell_date(value)
        if kind == "bool":
            return cell_bool(value)
        if kind == "id_number":
            return normalize_id_number(cell_text(value))
        if kind == "office":
            return self._office(cell_text(value).upper())
        if column in self.choices:
            return self.choices[column](value)
        return cell_text(value)

    def _office(self, code: str) -> Office:
        office = self.offices.get(code)
        if office is None:
            raise ValidationError(
                _("No office has the code “%(code)s”.") % {"code": shown(code, SHOWN_CHARS)}
            )
        if office.pk not in self.allowed_office_ids:
            raise ValidationError(
                _("You may not import cases for the office “%(code)s”.") % {"code": code}
            )
        return office

    # Checking the row ----------------------------------------------------------------------

    def _check_row(
        self,
        number: int,
        cleaned: dict,
        errors: Errors,
        digest: str,
        known: dict[str, KnownNumber],
        claimed: set[str],
        cells_checked: bool = False,
    ) -> CheckedRow | None:
        """Check the row as registration checks a report; add what refuses it to `errors`.
        `digest` is its ID number's (`id_number_digest`), "" if it has none."""
        reported = {k: v for k, v in cleaned.items() if k in CASE_COLUMNS and k != "reported_at"}
        case = new_instance(ReissueCase, **reported)
        reported_at = self._reported_at(cleaned.get("reported_at"), case.loss_date, errors)
        try:
            registration = check_registration(
                case=case,
                applicant_fields={name: cleaned.get(name, "") for name in APPLICANT_FIELDS},
                # A person on an earlier row: their applicant may be written already; the
                # row is refused as a repeat, not for the case the file itself opened.
                known=None if digest in self.seen_numbers else known.get(digest),
                acting_user=self.acting_user,
                reported_at=reported_at,
                refused=set(errors),
                cells_checked=cells_checked,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        self._check_once_in_file(number, digest, errors)
        if digest in claimed and "id_number" not in errors:
            # A clerk is registering this person now: theirs stands, the file is refused.
            errors["id_number"] = [str(BEING_REGISTERED)]
        if errors:
            return None
        return CheckedRow(number, registration.applicant, case, registration.contact_changes)

    def _reported_at(self, reported_on, loss_date, errors: Errors) -> datetime.datetime:
        """Return when the case was reported: the row's date (at midnight), or now."""
        if reported_on is None:
            return self.now
        if reported_on > self.today:
            errors.setdefault("reported_at", []).append(
                _("The date of the report cannot be in the future.")
            )
        elif loss_date and reported_on < loss_date:
            errors.setdefault("reported_at", []).append(
                _("The loss cannot have been reported before it happened.")
            )
        return timezone.make_aware(datetime.datetime.combine(reported_on, datetime.time()))

    def _check_once_in_file(self, number: int, digest: str, errors: Errors) -> None:
        # A file of one office's old cases may hold a person twice: one open case each.
        if "id_number" in errors or not digest:
            return
        first = self.seen_numbers.setdefault(digest, number)
        if first != number:
            errors.setdefault("id_number", []).append(
                _(
                    "This ID number is on row %(row)d of this file too; an applicant can "
                    "have only one open case."
                )
                % {"row": first}
            )
