"""Who may see and act on cases and applicants (office scoping itself: `offices.scoping`).

`can_*` return a bool; `access_*` raise. A case of another office is reported as missing
(`ObjectNotFound`, as for one that does not exist), never as forbidden, so that its existence
does not leak.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from audit.models import AuditEntry, PersonalDataAccess
from common.exceptions import ObjectNotFound
from offices.models import Office
from offices.scoping import (
    can_act_in_office,
    scope_to_offices,
    scope_to_offices_worked_in,
    sees_all_offices,
)

from .models import Applicant, ReissueCase

FULL_ID_NUMBER_PERMISSION = "reissue.view_full_id_number"


def can_see_full_id_number(user) -> bool:
    return user.is_active and user.has_perm(FULL_ID_NUMBER_PERMISSION)


def scope_cases(queryset: QuerySet[ReissueCase], user) -> QuerySet[ReissueCase]:
    """Narrow a case queryset to the offices `user` may see."""
    return scope_to_offices(queryset, user)


def scope_applicants(queryset: QuerySet[Applicant], user) -> QuerySet[Applicant]:
    """Narrow applicants to those with a case in an office `user` may see."""
    if sees_all_offices(user):
        return queryset
    visible_cases = scope_cases(ReissueCase.objects.filter(applicant=OuterRef("pk")), user)
    return queryset.filter(Exists(visible_cases))


def scope_audit_entries(queryset: QuerySet[AuditEntry], user) -> QuerySet[AuditEntry]:
    """Narrow audit entries to those of cases `user` may see (applicant edits: all-office users)."""
    # By the office kept on each entry, read through its own indexes (audit_office_*_idx): found
    # through the case, a small office's entries were sought among all (1 s at 5.6M entries).
    return scope_to_offices(queryset, user, office_path="office")


def scope_access_log(queryset: QuerySet[PersonalDataAccess], user) -> QuerySet[PersonalDataAccess]:
    """Narrow the access log to the looks at cases `user` may see (searches: all-office users)."""
    return scope_to_offices(queryset, user, office_path="case__office")


def access_case_for_action(user, case: ReissueCase) -> None:
    """Raise unless `user` works in the case's office; a foreign case looks like a missing one."""
    if not can_act_in_office(user, case.office_id):
        raise ObjectNotFound(_("No such case."))


def can_act_for_applicant(user, applicant: Applicant) -> bool:
    """Return whether `user` works in an office with a case of the applicant (not just sees)."""
    cases = ReissueCase.objects.filter(applicant=applicant)
    return scope_to_offices_worked_in(cases, user).exists()


def access_applicant_for_action(user, applicant: Applicant) -> None:
    """Raise unless `user` may act for the applicant; a foreign one looks like a missing one."""
    if not can_act_for_applicant(user, applicant):
        raise ObjectNotFound(_("No such applicant."))


def access_office_for_registration(user, office: Office) -> None:
    """Raise PermissionDenied unless `user` may register cases in `office`."""
    if not (user.has_perm("reissue.add_reissuecase") and can_act_in_office(user, office.pk)):
        raise PermissionDenied(_("You may not register cases for this office."))
