"""Office scoping and access rules, in one place for the admin, exports and reports.

`can_*` return a bool; `access_*` raise. A case of another office is reported as missing,
never as forbidden, so that its existence does not leak.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Applicant, AuditEntry, Office, ReissueCase

FULL_ID_NUMBER_PERMISSION = "reissue.view_full_id_number"
ALL_OFFICES_PERMISSION = "reissue.view_all_offices"


def sees_all_offices(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(ALL_OFFICES_PERMISSION))


def can_see_full_id_number(user) -> bool:
    return user.is_active and user.has_perm(FULL_ID_NUMBER_PERMISSION)


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
    return queryset.filter(**{f"{office_path}__in": offices_visible_to(user)})


def scope_cases(queryset: QuerySet[ReissueCase], user) -> QuerySet[ReissueCase]:
    """Narrow a case queryset to the offices `user` may see."""
    return scope_to_offices(queryset, user)


def scope_applicants(queryset: QuerySet[Applicant], user) -> QuerySet[Applicant]:
    """Narrow applicants to those with a case in an office `user` may see."""
    if sees_all_offices(user):
        return queryset
    visible_cases = ReissueCase.objects.filter(
        applicant=OuterRef("pk"), office__in=offices_visible_to(user)
    )
    return queryset.filter(Exists(visible_cases))


def scope_audit_entries(queryset: QuerySet[AuditEntry], user) -> QuerySet[AuditEntry]:
    """Narrow audit entries to those of cases `user` may see (applicant edits: all-office users)."""
    return scope_to_offices(queryset, user, office_path="case__office")


def can_act_in_office(user, office_id: int) -> bool:
    # Asked once per row of a page (each receipt, each inline): read the offices once per user
    # object. request.user lives for one request, so a changed membership counts from the next.
    office_ids = getattr(user, "_office_ids_worked_in", None)
    if office_ids is None:
        office_ids = frozenset(offices_worked_in(user).values_list("pk", flat=True))
        user._office_ids_worked_in = office_ids
    return office_id in office_ids


def access_case_for_action(user, case: ReissueCase) -> None:
    """Raise unless `user` works in the case's office; a foreign case looks like a missing one."""
    if not can_act_in_office(user, case.office_id):
        raise Http404(_("No such case."))


def access_office_for_registration(user, office: Office) -> None:
    """Raise PermissionDenied unless `user` may register cases in `office`."""
    if not (user.has_perm("reissue.add_reissuecase") and can_act_in_office(user, office.pk)):
        raise PermissionDenied(_("You may not register cases for this office."))
