"""The service deadline of a case: N working days after its report, while it waits for its
new SS card (the bureau's promise is for the card, not for the reimbursement that may follow)."""

import datetime

from django.db.models import Q

from workdays.calendar import overdue_cutoff, start_of_day

from .case_workflow import CASE_WORKFLOW, CaseFlag


def awaiting_card_states() -> list[str]:
    """Return the states in which the deadline runs (declared in case_workflow)."""
    return CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD)


def overdue_case_filter(today: datetime.date | None = None) -> Q:
    """Return the filter for cases past their service deadline (one query for the calendar)."""
    cutoff = start_of_day(overdue_cutoff(today))
    return Q(state__in=awaiting_card_states(), reported_at__lt=cutoff)


def is_overdue(case, today: datetime.date | None = None) -> bool:
    """Return whether `case` waits for its new SS card past its service deadline."""
    return case.state in awaiting_card_states() and case.reported_at < start_of_day(
        overdue_cutoff(today)
    )
