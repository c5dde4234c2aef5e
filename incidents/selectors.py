"""Reads on the incident register: scoped lists, the affected cases and the audit trail."""

from django.db.models import Count, QuerySet

from reissue.models import AuditEntry, ReissueCase
from reissue.permissions import scope_cases
from reissue.selectors import object_audit_trail

from .models import Incident
from .permissions import scope_incidents


def incidents_visible_to(*, user) -> QuerySet[Incident]:
    """Return the incidents `user` may see, with the reporter joined and the cases counted."""
    queryset = Incident.objects.select_related("reported_by").annotate(
        affected_case_count=Count("affected_cases", distinct=True)
    )
    return scope_incidents(queryset, user)


def cases_selectable_for_incident(*, user) -> QuerySet[ReissueCase]:
    """Return the cases `user` may name as affected by an incident: those they may see."""
    return scope_cases(ReissueCase.objects.select_related("office"), user)


def affected_cases_visible_to(*, incident: Incident, user) -> QuerySet[ReissueCase]:
    """Return the incident's affected cases that `user` may see, with their applicants."""
    return scope_cases(
        incident.affected_cases.select_related("applicant", "office").order_by("reference"), user
    )


def incident_audit_trail(*, incident: Incident) -> QuerySet[AuditEntry]:
    """Return the incident's audit entries in time order."""
    return object_audit_trail(obj=incident)
