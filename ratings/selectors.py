"""Reads of the ratings for the admin's lists: office-scoped, their relations joined."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from offices.scoping import scope_to_offices

from .models import FollowUp, Rating, RatingAppeal


def ratings_visible_to(*, user) -> QuerySet[Rating]:
    """Return the ratings of the offices `user` may see."""
    queryset = Rating.objects.select_related("case", "office", "follow_up", "appeal")
    return scope_to_offices(queryset, user)


def follow_ups_visible_to(*, user) -> QuerySet[FollowUp]:
    """Return the follow-ups of poor ratings of the offices `user` may see."""
    queryset = FollowUp.objects.select_related("rating__case", "office", "done_by")
    return scope_to_offices(queryset, user)


def appeals_visible_to(*, user) -> QuerySet[RatingAppeal]:
    """Return the appeals of ratings of the offices `user` may see."""
    queryset = RatingAppeal.objects.select_related(
        "rating__case", "office", "appealed_by", "decided_by"
    )
    return scope_to_offices(queryset, user)


def overdue_follow_up_filter(today: datetime.date | None = None) -> Q:
    """Match the follow-ups still open after their due date."""
    return Q(done_at__isnull=True, due_on__lt=today or timezone.localdate())
