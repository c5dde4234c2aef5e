"""The clerk's work queue on the admin home: reads, and the counts each app contributes.

Each app registers a function `user -> list[QueueCount]` in its AppConfig.ready() (cases here,
claims in `claims`), so `reissue` shows the reviewer's claims without importing `claims`.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from common import pagination
from offices.scoping import scope_to_offices_worked_in
from workflow.declaration import Party

from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState
from .deadlines import overdue_case_filter
from .models import ReissueCase
from .selectors import cases_visible_to

# Past this a count says "999+": the home page stays quick however long a queue grows, and
# the list it links to tells the rest.
COUNT_CAP = 999


@dataclass(frozen=True)
class QueueCount:
    key: str  # stable, for the page's markup: mine, waiting, overdue, review ...
    label: str
    count: int  # at most COUNT_CAP + 1
    url: str  # the filtered list the count stands for

    @property
    def display(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def capped_count(queryset: QuerySet) -> int:
    """Return the number of rows, counting no further than COUNT_CAP + 1."""
    return pagination.capped_count(queryset, COUNT_CAP)


QueueProvider = Callable[[object], list[QueueCount]]
_providers: dict[str, QueueProvider] = {}


def register_queue_provider(name: str, provider: QueueProvider) -> None:
    """Add (or replace) the counts an app shows in the work queue."""
    _providers[name] = provider


def work_queue_for(user) -> list[QueueCount]:
    """Return the work queue of `user`, in the order the apps registered."""
    return [count for provider in _providers.values() for count in provider(user)]


def _cases(user, queryset) -> QuerySet[ReissueCase]:
    return cases_visible_to(user=user) if queryset is None else queryset


def cases_handled_by(*, user, queryset=None) -> QuerySet[ReissueCase]:
    """Return the open cases `user` registered and handles."""
    return _cases(user, queryset).filter(handled_by=user, state__in=CASE_WORKFLOW.open_states)


def office_steps_due() -> set[str]:
    """Return the permissions of the steps the office takes when it is its turn (the states'
    declared turns); the other open cases wait for the citizen, the police or a claim."""
    return {
        CASE_WORKFLOW.permission(turn.step)
        for meaning in CASE_WORKFLOW.states
        for turn in meaning.turns
        if turn.party is Party.OFFICE
    }


def cases_waiting_for(*, user, queryset=None) -> QuerySet[ReissueCase]:
    """Return the open cases of `user`'s offices whose next step is the office's and theirs."""
    condition = CASE_WORKFLOW.waiting_for(Party.OFFICE, may_take=user.has_perm)
    return scope_to_offices_worked_in(_cases(user, queryset), user).filter(condition)


def cases_overdue(*, user, queryset=None) -> QuerySet[ReissueCase]:
    """Return the cases of `user`'s offices past their service deadline (`reports.calendar`)."""
    return scope_to_offices_worked_in(_cases(user, queryset), user).filter(overdue_case_filter())


# What the clocks bring to the counter: temporary cards to extend or take back, temporary
# reports about to lapse, new cards to hand over. Each filter is served by a partial index of
# the case (models.ReissueCase.Meta.indexes: case_temp_card_valid_idx, case_lapsing_idx, state).

TEMP_CARD_WARNING_DAYS = 7
LAPSE_WARNING_DAYS = 2


def temp_card_expiring_filter(today: datetime.date) -> Q:
    """Temporary cards out on an open case whose last valid day is within a week."""
    return Q(
        state__in=CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD),
        temp_card_returned=False,
        temp_card_valid_until__range=(
            today,
            today + datetime.timedelta(days=TEMP_CARD_WARNING_DAYS),
        ),
    )


def temp_card_expired_filter(today: datetime.date) -> Q:
    """Temporary cards past their validity and not handed back, whatever became of the case."""
    return Q(temp_card_returned=False, temp_card_valid_until__lt=today) & ~Q(temp_card_number="")


def medical_cover_gap_filter(today: datetime.date) -> Q:
    """The citizen has no card to see a doctor with: the temporary card expired and the new
    SS card is not in their hands yet."""
    return Q(
        state__in=CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD),
        temp_card_returned=False,
        temp_card_valid_until__lt=today,
    )


def lapsing_soon_filter(now: datetime.datetime) -> Q:
    """Temporary loss reports that lapse within two days unless the citizen comes."""
    return Q(
        state=CaseState.REPORTED_TEMPORARILY,
        lapses_at__lte=now + datetime.timedelta(days=LAPSE_WARNING_DAYS),
    )


def awaiting_collection_filter() -> Q:
    return Q(state=CaseState.CARD_ARRIVED)


def cases_of_my_offices(*, user, condition: Q, queryset=None) -> QuerySet[ReissueCase]:
    """Return the cases of `user`'s offices that meet `condition`."""
    return scope_to_offices_worked_in(_cases(user, queryset), user).filter(condition)
