"""The service deadline of a case: N working days after its report, while it waits for its
new SS card (the bureau's promise is for the card, not for the reimbursement that may follow)."""

import datetime

from django.db.models import Q

from workdays.calendar import overdue_cutoff, start_of_day

from .models import CaseState

AWAITING_CARD_STATES = [CaseState.REPORTED, CaseState.TEMP_CARD_ISSUED, CaseState.ID_REISSUED]


def overdue_case_filter(today: datetime.date | None = None) -> Q:
    """Return the filter for cases past their service deadline (one query for the calendar)."""
    return Q(state__in=AWAITING_CARD_STATES, reported_at__lt=start_of_day(overdue_cutoff(today)))


def is_overdue(case, today: datetime.date | None = None) -> bool:
    """Return whether `case` waits for its new SS card past its service deadline."""
    return case.state in AWAITING_CARD_STATES and case.reported_at < start_of_day(
        overdue_cutoff(today)
    )
