"""The case clocks, run on time by a scheduled job (`manage.py run_clocks`), not by a page.

Each clock finds the cases whose moment has come, and takes its workflow step on each, as the
system account, in a transaction of its own: a temporary loss report lapses, a formally
reported card is cancelled, a temporary card expires, a case past its deadline is flagged.
Idempotent: a case is picked only while the step is still due, and each step checks again
under the row lock, so running a clock twice (or on two servers at once) changes nothing more.
"""

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from offices.roles import SYSTEM
from workdays.calendar import start_of_day
from workflow.services import WorkflowError, run_transition

from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState
from .deadlines import awaiting_card_states, deadline_start, overdue_case_filter
from .deadlines import service_due_on as count_service_due_on
from .models import SYSTEM_USERNAME, ReissueCase

logger = logging.getLogger(__name__)


def system_user() -> AbstractUser:
    """Return the account the clocks act as: active, not staff, no usable password."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "系统", "is_staff": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.groups.filter(name=SYSTEM).exists():
        try:
            with transaction.atomic():
                user.groups.add(Group.objects.get(name=SYSTEM))
        except IntegrityError:
            pass  # another run of the clocks added it a moment ago
    return User.objects.get(pk=user.pk)  # fresh: no permission cache from before the group


def _step_each(cases: QuerySet[ReissueCase], name: str, due: Q) -> int:
    actor = system_user()
    taken = 0
    for case in cases.filter(due).only("pk").order_by("pk").iterator(chunk_size=500):
        with transaction.atomic():
            # Still due under the lock: another run may have taken it a moment ago.
            locked = ReissueCase.objects.select_for_update().filter(due, pk=case.pk).first()
            if locked is None:
                continue
            try:
                with transaction.atomic():
                    run_transition(locked=locked, case=locked, acting_user=actor, name=name)
            except (WorkflowError, ValidationError) as refusal:
                # One case the step refuses (a row an old import left odd) must not stop the
                # clock for every other case: it is logged and tried again at the next run.
                logger.warning("Clock step %s refused for case %s: %s", name, case.pk, refusal)
                continue
            taken += 1
    return taken


def lapsing_filter(now: datetime.datetime) -> Q:
    return Q(state=CaseState.REPORTED_TEMPORARILY, lapses_at__lte=now)


def old_card_due_filter(today: datetime.date) -> Q:
    return Q(
        state__in=CASE_WORKFLOW.open_states,
        old_card_cancel_on__lte=today,
        old_card_cancelled_at__isnull=True,
    ) & ~Q(state=CaseState.REPORTED_TEMPORARILY)


def temp_card_expired_filter(today: datetime.date) -> Q:
    return Q(
        state__in=CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD),
        temp_card_returned=False,
        temp_card_valid_until__lt=today,
        temp_card_expired_at__isnull=True,
    )


def newly_overdue_filter(today: datetime.date) -> Q:
    return overdue_case_filter(today) & Q(overdue_flagged_at__isnull=True)


# The steps' services (the declaration names them): one case, as the system account.


def case_lapse_loss_report(*, case: ReissueCase, acting_user: AbstractUser) -> ReissueCase:
    """Lapse a temporary loss report whose time is up: the card works again."""
    return _one(case, "lapse_loss_report", acting_user)


def case_cancel_old_card(*, case: ReissueCase, acting_user: AbstractUser) -> ReissueCase:
    """Cancel the formally reported old card for good, once the city's period has passed."""
    return _one(case, "cancel_old_card", acting_user)


def case_expire_temp_card(*, case: ReissueCase, acting_user: AbstractUser) -> ReissueCase:
    """Mark a temporary card past its validity expired."""
    return _one(case, "expire_temp_card", acting_user)


def case_flag_overdue(*, case: ReissueCase, acting_user: AbstractUser) -> ReissueCase:
    """Flag a case past its service deadline, once."""
    return _one(case, "flag_overdue", acting_user)


DUE = {
    "lapse_loss_report": lambda now, today: lapsing_filter(now),
    "cancel_old_card": lambda now, today: old_card_due_filter(today),
    "expire_temp_card": lambda now, today: temp_card_expired_filter(today),
    "flag_overdue": lambda now, today: newly_overdue_filter(today),
}


def _one(case: ReissueCase, name: str, acting_user: AbstractUser) -> ReissueCase:
    now = timezone.now()
    with transaction.atomic():
        locked = ReissueCase.objects.select_for_update().get(pk=case.pk)
        if not ReissueCase.objects.filter(
            DUE[name](now, timezone.localdate(now)), pk=case.pk
        ).exists():
            raise WorkflowError(
                _("“%(step)s” is not due for this case.") % {"step": CASE_WORKFLOW.label(name)}
            )
        return run_transition(locked=locked, case=locked, acting_user=acting_user, name=name)


@dataclass(frozen=True)
class ClockRun:
    lapsed: int
    old_cards_cancelled: int
    temp_cards_expired: int
    flagged_overdue: int


def run_clocks(now: datetime.datetime | None = None) -> ClockRun:
    """Take every clock step due at `now` (default: now), each case in its own transaction."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cases = ReissueCase.objects.all()
    counts = {name: _step_each(cases, name, due(now, today)) for name, due in DUE.items()}
    return ClockRun(
        lapsed=counts["lapse_loss_report"],
        old_cards_cancelled=counts["cancel_old_card"],
        temp_cards_expired=counts["expire_temp_card"],
        flagged_overdue=counts["flag_overdue"],
    )


# The calendar changed ----------------------------------------------------------------------


def recount_service_deadlines(changed_days) -> int:
    """Count again the service deadline of each case awaiting its card whose deadline window
    (after its start, up to its deadline) holds a day that became or stopped being a working
    day; one audit entry per deadline moved, as the system account. Return how many moved.

    A case flagged overdue whose new deadline is still ahead loses the flag (the clock flags it
    again should the new deadline pass too).
    """
    days = sorted(set(changed_days))
    if not days:
        return 0
    today = timezone.localdate()
    candidates = ReissueCase.objects.filter(
        state__in=awaiting_card_states(),
        service_due_on__gte=days[0],
        formal_reported_at__lt=start_of_day(days[-1]),
    )
    actor = None
    counted: dict[tuple[datetime.date, int], datetime.date] = {}
    moved = 0
    for pk in candidates.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            case = ReissueCase.objects.select_for_update().get(pk=pk)
            start = deadline_start(case)
            if start is None or case.state not in awaiting_card_states():
                continue
            key = (start, case.rules.service_deadline_working_days)
            if key not in counted:
                counted[key] = count_service_due_on(start, case.rules)
            new_due = counted[key]
            if new_due == case.service_due_on:
                continue
            changes = {"service_due_on": [str(case.service_due_on), str(new_due)]}
            case.service_due_on = new_due
            if case.overdue_flagged_at is not None and new_due >= today:
                changes["overdue_flagged_at"] = [str(case.overdue_flagged_at), None]
                case.overdue_flagged_at = None
            case.save(update_fields=["service_due_on", "overdue_flagged_at"])
            actor = actor or system_user()
            audit_record(
                obj=case,
                case=case,
                action="deadline_recounted",
                actor=actor,
                comment=_("The holiday calendar changed: %(days)s.")
                % {"days": ", ".join(day.isoformat() for day in days[:10])},
                changes=changes,
            )
            moved += 1
    return moved


def recount_when_working_days_change(sender, *, days, **kwargs) -> None:
    """The receiver of workdays.signals.working_days_changed (connected in apps.py)."""
    recount_service_deadlines(days)
