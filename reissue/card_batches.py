"""Card production through the card bank: a batch's production file out, the bank's return
file in, the cards' arrival at the office; and the batch list's counts.

The layouts (README, "Card production") are versioned: the first line names the layout and
its version, the last one counts the rows. Files are CSV (RFC 4180, comma, CRLF), UTF-8
without a BOM: the bank's systems read it byte for byte (a BOM would be a character of the
first field). A return file with a BOM is read all the same: it is what a spreadsheet that
opened and saved it writes.

The production file is kept on the batch, encrypted, exactly as sent: a name corrected after
the file went out must not change a re-download, whose checksum the bank compares.
"""

import base64
import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.chain import chain_append
from audit.models import AccessKind, PersonalDataAccess, register_step_labels
from audit.services import audit_record
from common.exceptions import ObjectNotFound, Refusal
from offices.scoping import can_act_in_office, scope_to_offices
from workflow.services import WorkflowError

from . import services
from .case_workflow import CaseState
from .models import CardBatch, ReissueCase

PRODUCTION_LAYOUT = "RDCARD-PROD"
RETURN_LAYOUT = "RDCARD-RET"
LAYOUT_VERSION = "1"
HEADER, DETAIL, TRAILER = "H", "D", "T"
RETURN_DETAIL_COLUMNS = 5  # D, case reference, ID number's last 6, card number, produced on
ID_TAIL_LENGTH = 6

SEND_PERMISSION = "reissue.send_card_batch"
PRODUCED_PERMISSION = "reissue.record_card_produced"
ARRIVED_PERMISSION = "reissue.record_card_arrived"

# As the step's form checks a number typed at the counter (forms.card_number_validator).
CARD_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,32}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# What the audit trail says of a batch and of its cases (the batch has no workflow).
BATCH_SENT, BATCH_RETURNED, BATCH_ARRIVED = "batch_sent", "batch_returned", "batch_arrived"
CASE_SENT = "card_batch_sent"
AUDIT_LABELS = {
    BATCH_SENT: gettext_lazy("production file sent to the card bank"),
    BATCH_RETURNED: gettext_lazy("card bank's return file imported"),
    BATCH_ARRIVED: gettext_lazy("cards of the batch arrived"),
}


def register_audit_labels() -> None:
    """Name the batch's audit actions (from ReissueConfig.ready)."""
    register_step_labels(CardBatch, AUDIT_LABELS)
    register_step_labels(ReissueCase, {CASE_SENT: gettext_lazy("card order sent to the card bank")})


class ReturnFileRefused(Refusal):
    """The return file is refused whole; `problems` lists every bad line: (line, reason)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(
            _("Nothing was imported: the return file has %(count)d problems.")
            % {"count": len(problems)}
        )
        self.problems = problems


@dataclass(frozen=True)
class ReturnFileResult:
    produced: int  # cases that took "record the new card produced"
    missing: int  # cases of the batch still waiting for their card


# Reads -------------------------------------------------------------------------------------


def batches_visible_to(*, user) -> QuerySet[CardBatch]:
    """Return the card batches of the offices `user` sees, each with its tracking counts:
    ordered, returned (card produced), still_ordered, arrived, collected."""
    return scope_to_offices(CardBatch.objects.select_related("office"), user).annotate(
        ordered=Count("cases"),
        returned=Count("cases", filter=Q(cases__card_produced_on__isnull=False)),
        still_ordered=Count("cases", filter=Q(cases__state=CaseState.CARD_ORDERED)),
        arrived=Count("cases", filter=Q(cases__card_arrived_on__isnull=False)),
        collected=Count("cases", filter=~Q(cases__collected_by="")),
    )


def batch_missing(batch: CardBatch) -> int | None:
    """Return how many cases the bank's return file left out (None before one was imported);
    `batch` comes from `batches_visible_to`."""
    return batch.still_ordered if batch.returned_at is not None else None


def batch_age_days(batch: CardBatch, today: datetime.date | None = None) -> int | None:
    """Return the days since the batch was sent to the card bank (None while it is open)."""
    if batch.sent_at is None:
        return None
    return ((today or timezone.localdate()) - timezone.localdate(batch.sent_at)).days


def batch_cases(batch: CardBatch) -> QuerySet[ReissueCase]:
    """Return the cases of a batch, in the order of the production file."""
    return batch.cases.select_related("applicant").order_by("reference")


# Writes ------------------------------------------------------------------------------------


def _lock_batch_for(*, batch: CardBatch, acting_user: AbstractUser, permission: str) -> CardBatch:
    """Check the permission, lock the batch, and check the user works in its office (a batch
    of another office looks like a missing one)."""
    if not (acting_user.is_active and acting_user.has_perm(permission)):
        raise PermissionDenied(_("You may not do this for card batches."))
    locked = CardBatch.objects.select_for_update().filter(pk=batch.pk).first()
    if locked is None or not can_act_in_office(acting_user, locked.office_id):
        raise ObjectNotFound(_("No such card batch."))
    return locked


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def production_rows(batch: CardBatch, cases: list[ReissueCase], sent_at) -> list[list[str]]:
    """Return the lines of the production file (layout RDCARD-PROD 1, README)."""
    office = batch.office.code
    rows = [
        [
            HEADER,
            PRODUCTION_LAYOUT,
            LAYOUT_VERSION,
            batch.reference,
            office,
            timezone.localtime(sent_at).isoformat(timespec="seconds"),
        ]
    ]
    for case in cases:
        person = case.applicant
        rows.append(
            [
                DETAIL,
                case.reference,
                person.name,
                person.id_number,  # in full: the bank prints it on the card
                person.sex,
                person.birth_date.isoformat(),
                "Y" if case.converts_ic_card else "N",  # a photo is needed for an IC conversion
                office,
            ]
        )
    rows.append([TRAILER, str(len(cases))])
    return rows


def _record_full_number_export(
    *, batch: CardBatch, count: int, acting_user: AbstractUser
) -> PersonalDataAccess:
    # As the lists' exports with full numbers (exports.services): one access-log record.
    return chain_append(
        PersonalDataAccess(
            kind=AccessKind.EXPORT,
            actor=acting_user,
            content_type=ContentType.objects.get_for_model(CardBatch),
            object_id=batch.pk,
            case=None,
            field="export",
            reason=_("production file of card batch %(batch)s for the card bank (%(count)d cases)")
            % {"batch": batch.reference, "count": count},
        )
    )


@transaction.atomic
def batch_production_file(*, batch: CardBatch, acting_user: AbstractUser) -> tuple[bytes, str]:
    """Return the batch's production file for the card bank and its SHA-256 (hex).

    The first export sends the batch: it takes no more orders (the next order opens a new
    one), and the file is kept, encrypted, with its checksum. Every download holds full ID
    numbers and is recorded in the access log; a later one gives the same bytes.
    """
    locked = _lock_batch_for(batch=batch, acting_user=acting_user, permission=SEND_PERMISSION)
    if locked.sent_at is None:
        cases = list(
            locked.cases.select_for_update()
            .filter(state=CaseState.CARD_ORDERED)
            .select_related("applicant")
            .order_by("reference")
        )
        if not cases:
            raise Refusal(_("This batch has no card orders to send."))
        sent_at = timezone.now()
        content = _csv_bytes(production_rows(locked, cases, sent_at))
        locked.sent_at = sent_at
        locked.file_sha256 = hashlib.sha256(content).hexdigest()
        locked.production_file = base64.b64encode(content).decode("ascii")
        locked.save(update_fields=["sent_at", "file_sha256", "production_file"])
        audit_record(
            obj=locked,
            case=None,
            action=BATCH_SENT,
            actor=acting_user,
            changes={"cases": [None, len(cases)], "file_sha256": [None, locked.file_sha256]},
        )
        for case in cases:
            audit_record(
                obj=case, case=case, action=CASE_SENT, actor=acting_user, comment=locked.reference
            )
        count = len(cases)
    else:
        content = base64.b64decode(locked.production_file)
        if hashlib.sha256(content).hexdigest() != locked.file_sha256:
            raise Refusal(_("The stored production file does not match its checksum."))
        count = int(_csv_rows(content)[-1][1])  # the trailer's
    _record_full_number_export(batch=locked, count=count, acting_user=acting_user)
    return content, locked.file_sha256


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _read_return_file(file: bytes | IO[bytes]) -> list[list[str]]:
    most = settings.IMPORT_MAX_UPLOAD_BYTES
    content = file if isinstance(file, bytes) else file.read(most + 1)
    if len(content) > most:
        raise ReturnFileRefused(
            [(0, _("The file is larger than %(most)d bytes.") % {"most": most})]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReturnFileRefused([(0, _("The file is not UTF-8 text."))]) from None
    try:
        return _csv_rows(text.encode("utf-8"))
    except csv.Error as exc:
        raise ReturnFileRefused(
            [(0, _("The file is not CSV: %(error)s") % {"error": exc})]
        ) from exc


@dataclass(frozen=True)
class _ReturnRow:
    line: int
    case: ReissueCase
    card_number: str
    produced_on: datetime.date


def _check_header(fields: list[str], batch: CardBatch) -> list[str]:
    cells = [f.strip() for f in fields]
    if cells[:3] != [HEADER, RETURN_LAYOUT, LAYOUT_VERSION] or len(cells) not in (4, 5):
        return [
            _("The first line must be “H,%(layout)s,%(version)s,<batch reference>”.")
            % {"layout": RETURN_LAYOUT, "version": LAYOUT_VERSION}
        ]
    problems = []
    if cells[3] != batch.reference:
        problems.append(
            _("This return file answers batch %(file)s, not %(batch)s.")
            % {"file": cells[3], "batch": batch.reference}
        )
    if len(cells) == 5 and cells[4] and cells[4].lower() != batch.file_sha256:
        problems.append(_("The checksum does not match this batch's production file."))
    return problems


def _check_card_row(  # noqa: C901 (one check per column, each with its message)
    cells: list[str],
    *,
    cases: dict[str, ReissueCase],
    seen_cases: dict[str, int],
    seen_numbers: dict[str, int],
    numbers_in_use: set[str],
    today: datetime.date,
) -> list[str]:
    if len(cells) != RETURN_DETAIL_COLUMNS:
        return [
            _("A card line has %(expected)d fields; this one has %(count)d.")
            % {"expected": RETURN_DETAIL_COLUMNS, "count": len(cells)}
        ]
    _kind, reference, id_tail, card_number, produced = cells
    problems = []
    case = cases.get(reference.upper())
    if case is None:
        problems.append(_("No case %(reference)s in this batch.") % {"reference": reference})
    elif reference.upper() in seen_cases:
        problems.append(
            _("Case %(reference)s is already on line %(line)d.")
            % {"reference": reference, "line": seen_cases[reference.upper()]}
        )
    elif case.state != CaseState.CARD_ORDERED:
        problems.append(
            _("Case %(reference)s is “%(state)s”, not waiting for its card.")
            % {"reference": reference, "state": case.get_state_display()}
        )
    elif id_tail.upper() != case.applicant.id_number[-ID_TAIL_LENGTH:].upper():
        # Never the number on file in the message: only that they differ.
        problems.append(
            _("The ID number's last %(count)d characters are not those of case %(reference)s.")
            % {"count": ID_TAIL_LENGTH, "reference": reference}
        )
    if not CARD_NUMBER.match(card_number):
        problems.append(
            _("Card number “%(number)s”: use 4 to 32 letters, digits or dashes.")
            % {"number": card_number}
        )
    elif card_number.upper() in seen_numbers:
        problems.append(
            _("Card number %(number)s is already on line %(line)d.")
            % {"number": card_number, "line": seen_numbers[card_number.upper()]}
        )
    elif card_number in numbers_in_use:
        problems.append(
            _("Card number %(number)s is already another case's.") % {"number": card_number}
        )
    produced_on = _parse_date(produced)
    if produced_on is None:
        problems.append(
            _("Give the production date as YYYY-MM-DD, not “%(value)s”.") % {"value": produced}
        )
    elif produced_on > today:
        problems.append(_("The production date cannot be in the future."))
    elif case is not None and case.card_ordered_on and produced_on < case.card_ordered_on:
        problems.append(
            _("The card cannot be produced before it was ordered (%(date)s).")
            % {"date": case.card_ordered_on.isoformat()}
        )
    return problems


def _parse_date(value: str) -> datetime.date | None:
    if not ISO_DATE.match(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def check_return_file(
    rows: list[list[str]], *, batch: CardBatch, cases: dict[str, ReissueCase]
) -> list[_ReturnRow]:
    """Return the card lines of a return file, or refuse it with every bad line and why.

    `cases`: the batch's cases by reference. Blank lines are skipped; line numbers are the
    file's own (the first is 1).
    """
    lines = [
        (number, row) for number, row in enumerate(rows, start=1) if any(c.strip() for c in row)
    ]
    if not lines:
        raise ReturnFileRefused([(0, _("The file is empty."))])
    problems: list[tuple[int, str]] = []
    first_number, first = lines[0]
    problems += [(first_number, p) for p in _check_header(first, batch)]
    last_number, last = lines[-1]
    has_trailer = len(lines) > 1 and last[0].strip() == TRAILER
    details = lines[1:-1] if has_trailer else lines[1:]
    if not has_trailer or len(last) != 2:
        problems.append(
            (last_number, _("The last line must be the trailer “T,<number of card lines>”."))
        )
    elif last[1].strip() != str(len(details)):
        problems.append(
            (
                last_number,
                _("The trailer counts %(count)s card lines; the file has %(found)d.")
                % {"count": last[1].strip(), "found": len(details)},
            )
        )
    numbers = {row[3].strip() for _n, row in details if len(row) == RETURN_DETAIL_COLUMNS}
    numbers_in_use = set(
        ReissueCase.objects.filter(ss_card_number__in=numbers).values_list(
            "ss_card_number", flat=True
        )
    )
    today = timezone.localdate()
    seen_cases: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    checked = []
    for number, row in details:
        cells = [c.strip() for c in row]
        if cells[0] != DETAIL:
            problems.append(
                (
                    number,
                    _("A line starts with H (header), D (card) or T (trailer), not “%(kind)s”.")
                    % {"kind": cells[0]},
                )
            )
            continue
        row_problems = _check_card_row(
            cells,
            cases=cases,
            seen_cases=seen_cases,
            seen_numbers=seen_numbers,
            numbers_in_use=numbers_in_use,
            today=today,
        )
        problems += [(number, p) for p in row_problems]
        if len(cells) == RETURN_DETAIL_COLUMNS:
            seen_cases.setdefault(cells[1].upper(), number)
            seen_numbers.setdefault(cells[3].upper(), number)
        if not row_problems:
            checked.append(
                _ReturnRow(number, cases[cells[1].upper()], cells[3], _parse_date(cells[4]))
            )
    if problems:
        raise ReturnFileRefused(problems)
    return checked


@transaction.atomic
def batch_return_file_import(
    *, batch: CardBatch, file: bytes | IO[bytes], acting_user: AbstractUser
) -> ReturnFileResult:
    """Import the card bank's return file: every line matched to a case of the batch waiting
    for its card, or the whole file refused (ReturnFileRefused, every bad line listed) and
    nothing written. Each case matched takes "record the new card produced"; cases the file
    leaves out stay ordered (counted as missing)."""
    locked = _lock_batch_for(batch=batch, acting_user=acting_user, permission=PRODUCED_PERMISSION)
    if locked.sent_at is None:
        raise Refusal(_("This batch has not been sent to the card bank yet."))
    rows = _read_return_file(file)
    cases = {
        case.reference: case
        for case in locked.cases.select_for_update().select_related("applicant")
    }
    checked = check_return_file(rows, batch=locked, cases=cases)
    for row in checked:
        try:
            services.case_record_card_produced(
                case=row.case,
                acting_user=acting_user,
                card_number=row.card_number,
                produced_on=row.produced_on,
                comment=_("return file of card batch %(batch)s, line %(line)d")
                % {"batch": locked.reference, "line": row.line},
            )
        except (ValidationError, WorkflowError) as exc:
            # Another clerk was quicker (the same number, the case moved): refused whole.
            raise ReturnFileRefused([(row.line, _refusal_text(exc))]) from exc
    missing = locked.cases.filter(state=CaseState.CARD_ORDERED).count()
    locked.returned_at = timezone.now()
    locked.save(update_fields=["returned_at"])
    audit_record(
        obj=locked,
        case=None,
        action=BATCH_RETURNED,
        actor=acting_user,
        changes={"produced": [None, len(checked)], "missing": [None, missing]},
    )
    return ReturnFileResult(produced=len(checked), missing=missing)


def _refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "message", exc))


@transaction.atomic
def batch_record_arrived(
    *, batch: CardBatch, arrived_on: datetime.date, acting_user: AbstractUser
) -> int:
    """Record that the produced cards of the batch reached the office: each of its produced
    cases takes "record the new card arrived". Return how many did."""
    locked = _lock_batch_for(batch=batch, acting_user=acting_user, permission=ARRIVED_PERMISSION)
    if arrived_on > timezone.localdate():
        raise ValidationError({"arrived_on": _("The date cannot be in the future.")})
    produced = list(locked.cases.filter(state=CaseState.CARD_PRODUCED).order_by("reference"))
    if not produced:
        raise Refusal(_("No card of this batch is waiting to arrive."))
    for case in produced:
        services.case_record_card_arrived(
            case=case,
            acting_user=acting_user,
            arrived_on=arrived_on,
            comment=_("card batch %(batch)s") % {"batch": locked.reference},
        )
    locked.arrived_on = arrived_on
    locked.save(update_fields=["arrived_on"])
    audit_record(
        obj=locked,
        case=None,
        action=BATCH_ARRIVED,
        actor=acting_user,
        changes={"arrived_on": [None, arrived_on.isoformat()], "cases": [None, len(produced)]},
    )
    return len(produced)
