"""Office scoping, in one place for seeing and for acting: the admin, exports, reports and
services all ask here. A user sees the offices they work in (or all, with the permission);
acts only in the offices they work in (a superuser in all)."""

from django.db.models import QuerySet

from .models import Office

ALL_OFFICES_PERMISSION = "offices.view_all_offices"


def sees_all_offices(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(ALL_OFFICES_PERMISSION))


def offices_visible_to(user) -> QuerySet[Office]:
    """Return the offices whose cases `user` may see."""
    if sees_all_offices(user):
        return Office.objects.all()
    if not user.is_active:
        return Office.objects.none()
    return Office.objects.filter(staff=user)


def offices_worked_in(user) -> QuerySet[Office]:
    """Return the offices in which `user` may act (register cases, take steps)."""
    if user.is_active and user.is_superuser:
        return Office.objects.all()
    if not user.is_active:
        return Office.objects.none()
    return Office.objects.filter(staff=user)


def scope_to_offices(queryset: QuerySet, user, *, office_path: str = "office") -> QuerySet:
    """Narrow any queryset to rows whose office (reached by `office_path`) `user` may see."""
    if sees_all_offices(user):
        return queryset
    # The offices' ids, not a subquery: told the office, PostgreSQL reads its rows through the
    # office's own indexes; with a subquery it walked the index of all offices and filtered
    # (a small office's cases by reference, at 1M: 1,755 ms; bench/lists.py).
    return queryset.filter(**{f"{office_path}__in": office_ids_visible_to(user)})


def office_ids_worked_in(user) -> frozenset[int]:
    """Return the ids of the offices `user` acts in, read once per user object."""
    # Asked once per row of a page (each receipt, each inline): read the offices once per user
    # object. request.user lives for one request, so a changed membership counts from the next.
    office_ids = getattr(user, "_office_ids_worked_in", None)
    if office_ids is None:
        office_ids = frozenset(offices_worked_in(user).values_list("pk", flat=True))
        user._office_ids_worked_in = office_ids
    return office_ids


def can_act_in_office(user, office_id: int) -> bool:
    return office_id in office_ids_worked_in(user)


def scope_to_offices_worked_in(
    queryset: QuerySet, user, *, office_path: str = "office"
) -> QuerySet:
    """Narrow any queryset to rows whose office (reached by `office_path`) `user` acts in."""
    if user.is_active and user.is_superuser:
        return queryset
    # The ids once read for this user (no query); else a subquery: no query of its own either.
    office_ids = getattr(user, "_office_ids_worked_in", None)
    offices = offices_worked_in(user) if office_ids is None else office_ids
    return queryset.filter(**{f"{office_path}__in": offices})


def office_ids_visible_to(user) -> list[int] | None:
    """Return the ids of the offices `user` may see, or None for all of them, read once per
    user object (as office_ids_worked_in: request.user lives for one request).

    As numbers rather than a subquery, for reads whose plan depends on them (the dashboard:
    with a subquery PostgreSQL scanned every open case at a million cases).
    """
    if sees_all_offices(user):
        return None
    # Short of seeing all offices, a user sees the offices they work in: one read for both
    # questions, asked together by most pages (the list scoped, a step's office checked).
    return sorted(office_ids_worked_in(user))
