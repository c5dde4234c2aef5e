"""The work queue's counts of what the clocks bring to the counter (registered in apps.py)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.scoping import offices_worked_in

from . import work_queue


def _changelist(key: str) -> str:
    # `clock=` is the case list's admin_filters.ClockListFilter.
    return f"{reverse('admin:reissue_reissuecase_changelist')}?clock={key}"


def clock_queue(user) -> list[work_queue.QueueCount]:
    """Return the counts of temporary cards, lapsing reports and new cards to hand over."""
    if not (user.has_perm("reissue.extend_temp_card") and offices_worked_in(user).exists()):
        return []  # the counter's work: reviewers and auditors read cases elsewhere
    today, now = timezone.localdate(), timezone.now()
    counts = [
        (
            "temp_card_expiring",
            _("Temporary cards expiring within %(days)s days")
            % {"days": work_queue.TEMP_CARD_WARNING_DAYS},
            work_queue.temp_card_expiring_filter(today),
        ),
        (
            "temp_card_expired",
            _("Temporary cards expired, not handed back"),
            work_queue.temp_card_expired_filter(today),
        ),
        (
            "cover_gap",
            _("Without medical cover (temporary card expired, new card not collected)"),
            work_queue.medical_cover_gap_filter(today),
        ),
        (
            "lapsing",
            _("Temporary loss reports lapsing within %(days)s days")
            % {"days": work_queue.LAPSE_WARNING_DAYS},
            work_queue.lapsing_soon_filter(now),
        ),
        (
            "collection",
            _("New cards waiting for collection"),
            work_queue.awaiting_collection_filter(),
        ),
    ]
    return [
        work_queue.QueueCount(
            key,
            label,
            work_queue.capped_count(work_queue.cases_of_my_offices(user=user, condition=condition)),
            _changelist(key),
        )
        for key, label, condition in counts
    ]
