"""The service deadline of a case: N working days (its city's rules) after its report, while
it waits for its new SS card (the bureau's promise is for the card, not for the reimbursement
that may follow). Kept on the case (`service_due_on`), as the citizen's receipt states it;
counted again from the day a document promised arrives (一次告知). A holiday entered in the
calendar later moves no deadline already given."""

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
