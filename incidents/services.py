"""Writes on the incident register: reporting, correcting, and the remedial steps, all audited."""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, field_snapshot, snapshot_changes
from reissue.models import ReissueCase
from reissue.permissions import scope_cases
from workflow.services import WorkflowError, run_transition

from .models import MANAGE_PERMISSION, Incident, IncidentState, notifications_recorded
from .permissions import access_incident

# The details a person may correct after the report; the rest is set by the workflow.
EDITABLE_FIELDS = ["title", "description", "occurred_at", "discovered_at"]


def _visible_cases(cases: Iterable[ReissueCase], acting_user: AbstractUser) -> set[ReissueCase]:
    """Return the given cases, refusing any that `acting_user` may not see."""
    ids = {case.pk for case in cases}
    visible = set(scope_cases(ReissueCase.objects.filter(pk__in=ids), acting_user))
    if len(visible) != len(ids):
        raise ValidationError(
            {"affected_cases": _("Choose only cases of the offices you work with.")}
        )
    return visible


def _references(cases: Iterable[ReissueCase]) -> str:
    return ", ".join(sorted(case.reference for case in cases))


def _lock_incident_for(*, incident: Incident, acting_user: AbstractUser) -> Incident:
    """Return a fresh, row-locked copy of the incident after checking the user may see it."""
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    access_incident(acting_user, locked)
    return locked


@transaction.atomic
def incident_report(
    *, incident: Incident, affected_cases: Iterable[ReissueCase], acting_user: AbstractUser
) -> Incident:
    """Register an incident and the cases it affects, and audit the report.

    `incident` is unsaved, with what happened and when filled in.
    """
    if not acting_user.has_perm("incidents.add_incident"):
        raise PermissionDenied(_("You may not report incidents."))
    cases = _visible_cases(affected_cases, acting_user)
    incident.reported_by = acting_user
    incident.reported_at = timezone.now()
    incident.full_clean()
    incident.save()
    incident.affected_cases.set(cases)
    after = field_snapshot(incident)
    changes = snapshot_changes(dict.fromkeys(after), after, model=Incident)
    changes.pop("id", None)
    if cases:
        changes["affected_cases"] = ["", _references(cases)]
    audit_record(
        obj=incident,
        case=None,
        action="registered",
        actor=acting_user,
        target_state=incident.state,
        changes=changes,
    )
    return incident


def _merge_cases(
    locked: Incident, chosen: Iterable[ReissueCase], acting_user: AbstractUser
) -> list[str]:
    """Set the affected cases to `chosen`, keeping those the user may not see; return changes.

    A user sees only the cases of their offices; those of other offices stay linked.
    """
    current = set(locked.affected_cases.all())
    hidden = current - set(scope_cases(locked.affected_cases.all(), acting_user))
    wanted = _visible_cases(chosen, acting_user) | hidden
    if wanted == current:
        return []
    locked.affected_cases.set(wanted)
    return [_references(current), _references(wanted)]


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    acting_user: AbstractUser,
    data: Mapping[str, Any],
    affected_cases: Iterable[ReissueCase] | None = None,
) -> Incident:
    """Correct an incident's details or affected cases while it is not closed, and audit."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    locked = _lock_incident_for(incident=incident, acting_user=acting_user)
    if not acting_user.has_perm("incidents.change_incident"):
        raise PermissionDenied(_("You may not change incidents."))
    if locked.state == IncidentState.CLOSED:
        raise WorkflowError(_("A closed incident can no longer be changed."))
    before = field_snapshot(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    changes = snapshot_changes(before, field_snapshot(locked), model=Incident)
    if changes:
        locked.full_clean()
        locked.save()
    if affected_cases is not None:
        case_changes = _merge_cases(locked, affected_cases, acting_user)
        if case_changes:
            changes["affected_cases"] = case_changes
    if changes:
        audit_record(obj=locked, case=None, action="edited", actor=acting_user, changes=changes)
    return locked


# Workflow steps ------------------------------------------------------------------------------


def _required_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _run_incident_transition(
    *, incident: Incident, acting_user: AbstractUser, name: str, **options
) -> Incident:
    """Lock the incident, check the user may see it, and take the step `name`, atomically."""
    with transaction.atomic():
        locked = _lock_incident_for(incident=incident, acting_user=acting_user)
        return run_transition(
            locked=locked, case=None, acting_user=acting_user, name=name, **options
        )


def incident_contain(
    *, incident: Incident, acting_user: AbstractUser, containment_steps: str, **options
) -> Incident:
    """Record the remedial measures taken and mark the incident contained."""
    steps = _required_text(
        containment_steps, "containment_steps", _("Describe the containment steps taken.")
    )
    return _run_incident_transition(
        incident=incident,
        acting_user=acting_user,
        name="contain",
        containment_steps=steps,
        **options,
    )


def incident_record_notifications(
    *,
    incident: Incident,
    acting_user: AbstractUser,
    persons_notified_at: datetime.datetime | None,
    notification_method: str,
    authority_informed_at: datetime.datetime | None,
    authority_name: str,
    **options,
) -> Incident:
    """Record when and how the affected persons and the authority were told, as art. 1038 asks."""
    errors = {}
    if persons_notified_at is None:
        errors["persons_notified_at"] = _("Give the time the affected persons were notified.")
    if not (notification_method or "").strip():
        errors["notification_method"] = _("Give how the affected persons were notified.")
    if authority_informed_at is None:
        errors["authority_informed_at"] = _("Give the time the authority was informed.")
    if not (authority_name or "").strip():
        errors["authority_name"] = _("Give the authority that was informed.")
    if errors:
        raise ValidationError(errors)
    return _run_incident_transition(
        incident=incident,
        acting_user=acting_user,
        name="record_notifications",
        persons_notified_at=persons_notified_at,
        notification_method=notification_method.strip(),
        authority_informed_at=authority_informed_at,
        authority_name=authority_name.strip(),
        **options,
    )


def incident_close(
    *, incident: Incident, acting_user: AbstractUser, closing_summary: str, **options
) -> Incident:
    """Close the incident with a summary, once the notifications are on record."""
    summary = _required_text(closing_summary, "closing_summary", _("Give the closing summary."))
    with transaction.atomic():
        locked = _lock_incident_for(incident=incident, acting_user=acting_user)
        # Before the notifications there is no `close` step to take at all; say why.
        if acting_user.has_perm(MANAGE_PERMISSION) and not notifications_recorded(locked):
            raise WorkflowError(str(notifications_recorded.failure_message))
        return run_transition(
            locked=locked,
            case=None,
            acting_user=acting_user,
            name="close",
            closing_summary=summary,
            **options,
        )
