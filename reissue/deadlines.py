"""The service deadline of a case: N working days (its city's rules) after its report, while
it waits for its new SS card (the bureau's promise is for the card, not for the reimbursement
that may follow). Kept on the case (`service_due_on`), as the citizen's receipt states it;
counted again from the day a document promised arrives (一次告知), and when a holiday entered,
moved or removed in the calendar lies in its window (`clocks.recount_service_deadlines`)."""

import datetime

from django.db.models import Q
from django.utils import timezone

from workdays.calendar import add_working_days

from .case_policy import CaseRules
from .case_workflow import CASE_WORKFLOW, CaseFlag


def awaiting_card_states() -> list[str]:
    """Return the states in which the deadline runs (declared in case_workflow)."""
    return CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD)


def service_due_on(start: datetime.date, rules: CaseRules) -> datetime.date:
    """Return the last day within the deadline of a case counted from `start`."""
    return add_working_days(start, rules.service_deadline_working_days)


def overdue_case_filter(today: datetime.date | None = None) -> Q:
    """Return the filter for cases past their service deadline."""
    today = today or timezone.localdate()
    return Q(state__in=awaiting_card_states(), service_due_on__lt=today)


def is_overdue(case, today: datetime.date | None = None) -> bool:
    """Return whether `case` waits for its new SS card past its service deadline."""
    today = today or timezone.localdate()
    return (
        case.state in awaiting_card_states()
        and case.service_due_on is not None
        and case.service_due_on < today
    )


def deadline_start(case) -> datetime.date | None:
    """Return the day the case's service deadline is counted from: its formal report, or the
    day a promised document arrived after it (services.case_record_document_received)."""
    if case.formal_reported_at is None:
        return None
    start = timezone.localdate(case.formal_reported_at)
    received = (
        case.document_promises.filter(received_on__isnull=False)
        .order_by("-received_on")
        .values_list("received_on", flat=True)
        .first()
    )
    return max(start, received) if received else start
