"""Where a case stands on one line of dates: the loss, the report and its clock, the temporary
card's validity, the police's clock for the ID card, the service deadline, the new card's way
to the citizen; each done, due or overdue. Read by the case page (timeline.html)."""

import datetime
import enum
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState, LossReportKind
from .models import ReissueCase

TEMPORARY_ID_CARD_VALID = gettext_lazy("a temporary ID card is valid three months")


class Status(enum.Enum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {
            Status.DONE: pgettext("timeline", "done"),
            Status.DUE: pgettext("timeline", "due"),
            Status.OVERDUE: pgettext("timeline", "overdue"),
        }[self]


@dataclass(frozen=True)
class Moment:
    key: str  # stable, for the page's markup
    day: datetime.date
    label: str
    status: Status
    note: str = ""

    @property
    def status_label(self) -> str:
        return self.status.label


def _local(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment else None


def _pending(day: datetime.date, today: datetime.date) -> Status:
    """Due up to and on its day; overdue once past."""
    return Status.OVERDUE if day < today else Status.DUE


def medical_cover_gap(case: ReissueCase, today: datetime.date | None = None) -> bool:
    """The temporary SS card expired while the new card is not in the citizen's hands yet."""
    today = today or timezone.localdate()
    return (
        case.state in CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD)
        and bool(case.temp_card_number)
        and not case.temp_card_returned
        and case.temp_card_valid_until is not None
        and case.temp_card_valid_until < today
    )


def case_timeline(case: ReissueCase, today: datetime.date | None = None) -> list[Moment]:
    """Return the case's moments in date order; what a finished case never reached is left out."""
    today = today or timezone.localdate()
    open_ = case.is_open
    moments = [Moment("loss", case.loss_date, _("lost"), Status.DONE)]
    reported_on = _local(case.reported_at)
    formal_on = _local(case.formal_reported_at)
    if formal_on is None or formal_on != reported_on or case.lapses_at is not None:
        moments.append(
            Moment("temporary_report", reported_on, _("temporary loss report"), Status.DONE)
        )
    if formal_on is not None:
        moments.append(Moment("formal_report", formal_on, _("formal loss report"), Status.DONE))
    if case.state == CaseState.LAPSED:
        moments.append(
            Moment("lapse", _local(case.finished_at), _("temporary report lapsed"), Status.DONE)
        )
    elif case.state == CaseState.REPORTED_TEMPORARILY and case.lapses_at:
        lapses_on = _local(case.lapses_at)
        moments.append(
            Moment(
                "lapse",
                lapses_on,
                _("temporary report lapses (unless made formal)"),
                Status.OVERDUE if case.lapses_at <= timezone.now() else Status.DUE,
                note=timezone.localtime(case.lapses_at).strftime("%H:%M"),
            )
        )
    if case.old_card_cancelled_at:
        moments.append(
            Moment(
                "old_card",
                _local(case.old_card_cancelled_at),
                _("old card cancelled"),
                Status.DONE,
            )
        )
    elif open_ and case.old_card_cancel_on and case.loss_report_kind == LossReportKind.FORMAL:
        moments.append(
            Moment(
                "old_card",
                case.old_card_cancel_on,
                _("old card to be cancelled"),
                _pending(case.old_card_cancel_on, today),
            )
        )
    moments += _temp_card(case, today)
    moments += _id_card(case, today)
    moments += _service_deadline(case, today)
    for key, day, label in [
        ("card_ordered", case.card_ordered_on, _("new card ordered")),
        ("card_produced", case.card_produced_on, _("new card produced")),
        ("card_arrived", case.card_arrived_on, _("new card at the office")),
        ("card_collected", case.ss_card_issued_on, _("new SS card in the citizen's hands")),
    ]:
        if day is not None:
            moments.append(Moment(key, day, label, Status.DONE))
    order = {moment.key: index for index, moment in enumerate(moments)}
    return sorted(moments, key=lambda moment: (moment.day, order[moment.key]))


def _temp_card(case: ReissueCase, today: datetime.date) -> list[Moment]:
    if case.temp_card_issued_on is None:
        return []
    moments = [
        Moment("temp_card", case.temp_card_issued_on, _("temporary card issued"), Status.DONE)
    ]
    valid_until = case.temp_card_valid_until
    if valid_until is None:
        return moments
    if case.temp_card_returned:
        status, note = Status.DONE, _("handed back")
    elif case.is_open and case.state in CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD):
        status, note = _pending(valid_until, today), ""
        if status is Status.OVERDUE:
            note = _("expired")
    elif valid_until < today:
        status, note = Status.OVERDUE, _("expired, not handed back")
    else:
        status, note = Status.DUE, _("not handed back")
    moments.append(
        Moment("temp_card_valid", valid_until, _("temporary card valid until"), status, note)
    )
    latest = case.temp_card_latest_valid_until()
    if case.is_open and not case.temp_card_returned and latest and latest > valid_until:
        moments.append(
            Moment(
                "temp_card_latest",
                latest,
                _("temporary card extended at most to"),
                Status.DUE,
            )
        )
    return moments


def _id_card(case: ReissueCase, today: datetime.date) -> list[Moment]:
    due_on = case.id_card_due_on()
    if due_on is None:
        return []
    label = _("police issue the new ID card (within %(days)s days)") % {
        "days": case.rules.id_card_issue_days
    }
    if case.id_card_issued_on:
        return [Moment("id_card", case.id_card_issued_on, _("new ID card issued"), Status.DONE)]
    if not case.is_open:
        return []
    return [Moment("id_card", due_on, label, _pending(due_on, today), TEMPORARY_ID_CARD_VALID)]


def _service_deadline(case: ReissueCase, today: datetime.date) -> list[Moment]:
    due_on = case.service_due_on
    if due_on is None:
        return []
    label = _("service deadline (new SS card)")
    if case.ss_card_issued_on is not None:
        late = case.ss_card_issued_on > due_on
        return [
            Moment(
                "service_deadline",
                due_on,
                label,
                Status.OVERDUE if late else Status.DONE,
                _("card handed over late") if late else "",
            )
        ]
    if case.state in CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD):
        return [Moment("service_deadline", due_on, label, _pending(due_on, today))]
    if case.state == CaseState.CARD_ARRIVED and case.card_arrived_on is not None:
        # The office's promise is kept once the card is there: the citizen collects it.
        late = case.card_arrived_on > due_on
        status = Status.OVERDUE if late else Status.DONE
        return [Moment("service_deadline", due_on, label, status, _("card at the office"))]
    return []


@dataclass(frozen=True)
class CaseTimeline:
    moments: list[Moment]
    medical_cover_gap: bool
    rules: str  # the rules the case is handled under, as a sentence


def timeline_for(case: ReissueCase, today: datetime.date | None = None) -> CaseTimeline:
    """Return what the case page's timeline panel shows."""
    from .policy_services import rules_summary

    return CaseTimeline(
        moments=case_timeline(case, today),
        medical_cover_gap=medical_cover_gap(case, today),
        rules=rules_summary(case.rules),
    )
