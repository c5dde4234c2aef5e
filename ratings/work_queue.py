"""The ratings' counts in the work queue on the admin home: what a supervisor must follow up
(poor ratings, due in 15 working days) and what an auditor must decide (appeals)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from offices.scoping import scope_to_offices_worked_in
from reissue.work_queue import QueueCount, capped_count

from .models import AppealDecision, FollowUp
from .selectors import appeals_visible_to


def rating_queue(user) -> list[QueueCount]:
    """Return the open follow-ups of the user's offices and the appeals waiting for them."""
    counts = []
    if user.has_perm("ratings.record_follow_up"):
        open_follow_ups = scope_to_offices_worked_in(FollowUp.objects.all(), user).filter(
            done_at__isnull=True
        )
        counts.append(
            QueueCount(
                "follow_ups",
                _("Poor ratings to follow up"),
                capped_count(open_follow_ups),
                f"{reverse('admin:ratings_followup_changelist')}?state=open",
            )
        )
    if user.has_perm("ratings.decide_rating_appeal"):
        # Four eyes: an appeal is decided by someone other than who made it.
        pending = (
            appeals_visible_to(user=user)
            .filter(decision=AppealDecision.PENDING)
            .exclude(appealed_by=user)
        )
        counts.append(
            QueueCount(
                "appeals",
                _("Appeals of ratings to decide"),
                capped_count(pending),
                f"{reverse('admin:ratings_ratingappeal_changelist')}"
                f"?decision__exact={AppealDecision.PENDING}",
            )
        )
    return counts
