"""Incidents built by the real services, so they hold real states and audit trails."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from incidents import services
from incidents.incident_workflow import INCIDENT_WORKFLOW
from incidents.models import Incident
from tests.factories import register_case


def audit_of(incident: Incident) -> QuerySet[AuditEntry]:
    """Return the incident's own audit entries (object ids repeat across models)."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Incident), object_id=incident.pk
    ).order_by("at", "id")


def hours_ago(hours: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=hours)


def report_incident(*, user, cases=(), **fields) -> Incident:
    """Report an incident through the service, found two days ago."""
    details = {
        "title": "Lost USB stick with scanned applications",
        "description": "A clerk lost a USB stick holding scanned ID cards of applicants.",
        "discovered_at": hours_ago(48),
        **fields,
    }
    return services.incident_report(
        incident=Incident(**details), affected_cases=cases, acting_user=user
    )


# The inputs of each step, and the steps that lead from `open` to the state before it.
STEP_ARGUMENTS = {
    "contain": lambda: {"containment_steps": "Stick reported to police; passwords changed."},
    "record_notifications": lambda: {
        "persons_notified_at": hours_ago(24),
        "notification_method": "SMS and letter",
        "authority_informed_at": hours_ago(20),
        "authority_name": "市网信办",
    },
    "close": lambda: {"closing_summary": "All persons notified; USB sticks are now encrypted."},
}
STEP_ORDER = list(STEP_ARGUMENTS)


def take_steps(incident: Incident, *, user, until: str | None = None) -> Incident:
    """Take the workflow steps in order up to (not including) the step `until`, or all."""
    for name in STEP_ORDER[: STEP_ORDER.index(until) if until else None]:
        incident = INCIDENT_WORKFLOW.service(name)(
            incident=incident, acting_user=user, **STEP_ARGUMENTS[name]()
        )
    return incident


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


@pytest.fixture
def other_case(other_clerk, other_office):
    return register_case(clerk=other_clerk, office=other_office)


@pytest.fixture
def incident(clerk, case):
    return report_incident(user=clerk, cases=[case])
