"""Reads on the incident register: scoped lists, the affected cases and the audit trail."""

from django.db.models import Count, QuerySet
from django.utils.translation import ngettext

from audit.models import AuditEntry
from audit.selectors import object_audit_trail
from reissue.models import ReissueCase
from reissue.permissions import scope_cases

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


def incident_audit_trail(*, incident: Incident, user) -> list[AuditEntry]:
    """Return the incident's audit entries in time order, naming only cases `user` may see.

    A change of the affected cases is recorded with every reference; those of cases the user
    may not see are told as a count, as the affected-cases table tells them. The entries are
    for showing only: their `changes` are narrowed in memory, never saved.
    """
    entries = list(object_audit_trail(obj=incident))
    named = {ref for entry in entries for text in _case_changes(entry) for ref in _refs(text)}
    visible = set(
        scope_cases(ReissueCase.objects.filter(reference__in=named), user).values_list(
            "reference", flat=True
        )
    )
    for entry in entries:
        if _case_changes(entry):
            shown = [_only_visible(text, visible) for text in _case_changes(entry)]
            entry.changes = {**entry.changes, "affected_cases": shown}
    return entries


def _case_changes(entry: AuditEntry) -> list[str]:
    return entry.changes.get("affected_cases") or []


def _refs(text: str) -> list[str]:
    return [ref for ref in (part.strip() for part in text.split(",")) if ref]


def _only_visible(text: str, visible: set[str]) -> str:
    refs = _refs(text)
    shown = [ref for ref in refs if ref in visible]
    hidden = len(refs) - len(shown)
    if hidden:
        shown.append(
            ngettext(
                "%(count)s case of an office you do not work with",
                "%(count)s cases of offices you do not work with",
                hidden,
            )
            % {"count": hidden}
        )
    return ", ".join(shown)
