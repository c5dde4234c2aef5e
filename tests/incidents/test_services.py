"""The incident register's services: the way from report to closing, and what they refuse."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import services
from incidents.incident_workflow import INCIDENT_WORKFLOW
from incidents.models import Incident
from tests.incidents.conftest import (
    STEP_ARGUMENTS,
    audit_of,
    hours_ago,
    report_incident,
    take_steps,
)
from workflow.services import WorkflowError


def _actions(incident) -> list[tuple[str, str, str]]:
    return list(audit_of(incident).values_list("action", "source_state", "target_state"))


def test_the_whole_way_from_report_to_closing(clerk, supervisor, case):
    incident = report_incident(user=clerk, cases=[case])
    assert (incident.state, incident.reported_by) == ("open", clerk)
    incident = take_steps(incident, user=supervisor)

    incident.refresh_from_db()
    assert incident.state == "closed"
    assert incident.authority_name == "市网信办"
    assert incident.notification_method == "SMS and letter"
    assert list(case.incidents.all()) == [incident]
    assert _actions(incident) == [
        ("registered", "", "open"),
        ("contain", "open", "contained"),
        ("record_notifications", "contained", "notified"),
        ("close", "notified", "closed"),
    ]
    assert not audit_of(incident).filter(case__isnull=False).exists()


def test_the_report_is_audited_with_its_details_and_cases(clerk, case):
    incident = report_incident(user=clerk, cases=[case])
    changes = audit_of(incident).get(action="registered").changes
    assert changes["title"] == ["", incident.title]
    assert changes["affected_cases"] == ["", case.reference]
    assert "id" not in changes


@pytest.mark.parametrize("state_before", ["open", "contained"])
def test_closing_is_refused_before_the_notifications_with_the_reason(
    clerk, supervisor, case, state_before
):
    incident = report_incident(user=clerk, cases=[case])
    if state_before == "contained":
        incident = take_steps(incident, user=supervisor, until="record_notifications")
    with pytest.raises(WorkflowError, match="affected persons were notified"):
        services.incident_close(
            incident=incident, acting_user=supervisor, **STEP_ARGUMENTS["close"]()
        )
    assert Incident.objects.get(pk=incident.pk).state == state_before


def test_notifications_need_both_times_and_who_was_told(supervisor, incident):
    incident = take_steps(incident, user=supervisor, until="record_notifications")
    with pytest.raises(ValidationError) as refused:
        services.incident_record_notifications(
            incident=incident,
            acting_user=supervisor,
            persons_notified_at=hours_ago(1),
            notification_method="",
            authority_informed_at=None,
            authority_name=" ",
        )
    assert set(refused.value.message_dict) == {
        "notification_method",
        "authority_informed_at",
        "authority_name",
    }
    assert Incident.objects.get(pk=incident.pk).state == "contained"


@pytest.mark.parametrize(
    "field, moment, message",
    [
        ("persons_notified_at", lambda: hours_ago(72), "before the discovery"),
        ("authority_informed_at", lambda: hours_ago(-2), "in the future"),
    ],
)
def test_notification_times_must_lie_between_discovery_and_now(
    supervisor, incident, field, moment, message
):
    incident = take_steps(incident, user=supervisor, until="record_notifications")
    arguments = {**STEP_ARGUMENTS["record_notifications"](), field: moment()}
    with pytest.raises(ValidationError) as refused:
        services.incident_record_notifications(
            incident=incident, acting_user=supervisor, **arguments
        )
    assert message in " ".join(refused.value.message_dict[field])
    assert Incident.objects.get(pk=incident.pk).state == "contained"


@pytest.mark.parametrize(
    "step, blank",
    [("contain", "containment_steps"), ("close", "closing_summary")],
)
def test_a_step_needs_its_text(supervisor, incident, step, blank):
    incident = take_steps(incident, user=supervisor, until=step)
    with pytest.raises(ValidationError) as refused:
        INCIDENT_WORKFLOW.service(step)(
            incident=incident, acting_user=supervisor, **{blank: "  \n "}
        )
    assert blank in refused.value.message_dict


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"discovered_at": hours_ago(-1)}, "discovered_at"),
        ({"occurred_at": hours_ago(1), "discovered_at": hours_ago(2)}, "occurred_at"),
    ],
)
def test_the_report_refuses_impossible_times(clerk, fields, field):
    with pytest.raises(ValidationError) as refused:
        report_incident(user=clerk, **fields)
    assert field in refused.value.message_dict
    assert not Incident.objects.exists()


def test_a_clerk_cannot_name_a_case_of_another_office(clerk, case, other_case):
    with pytest.raises(ValidationError) as refused:
        report_incident(user=clerk, cases=[case, other_case])
    assert "affected_cases" in refused.value.message_dict
    assert not Incident.objects.exists()


def test_a_correction_keeps_the_cases_the_editor_cannot_see(
    clerk, supervisor, other_supervisor, case, other_case, office
):
    incident = report_incident(user=other_supervisor, cases=[other_case])
    incident = services.incident_update(
        incident=incident,
        acting_user=supervisor,
        data={"title": "Lost USB stick (both offices)"},
        affected_cases=[case],
    )
    assert set(incident.affected_cases.all()) == {case, other_case}
    entry = audit_of(incident).get(action="edited")
    assert entry.changes["affected_cases"] == [
        other_case.reference,
        ", ".join(sorted([case.reference, other_case.reference])),
    ]
    assert entry.changes["title"][1] == "Lost USB stick (both offices)"


def test_an_unchanged_correction_writes_no_audit_entry(supervisor, incident, case):
    services.incident_update(
        incident=incident, acting_user=supervisor, data={}, affected_cases=[case]
    )
    assert not audit_of(incident).filter(action="edited").exists()


def test_a_closed_incident_cannot_be_corrected(supervisor, incident):
    incident = take_steps(incident, user=supervisor)
    with pytest.raises(WorkflowError, match="closed incident"):
        services.incident_update(incident=incident, acting_user=supervisor, data={"title": "x"})


def test_two_supervisors_at_once_contain_only_once(supervisor, incident):
    services.incident_contain(incident=incident, acting_user=supervisor, containment_steps="A")
    # The second one still holds the page of the open incident.
    with pytest.raises(WorkflowError):
        services.incident_contain(
            incident=incident,
            acting_user=supervisor,
            containment_steps="B",
            expected_state="open",
        )
    assert Incident.objects.get(pk=incident.pk).containment_steps == "A"


# The database refuses what the services never write.


@pytest.mark.parametrize(
    "state, values",
    [
        ("closed", {"persons_notified_at": None, "authority_informed_at": None}),
        ("closed", {"authority_informed_at": None}),
        ("notified", {"persons_notified_at": None}),
        ("closed", {"closing_summary": ""}),
        ("contained", {"containment_steps": ""}),
    ],
)
def test_the_database_refuses_a_state_without_its_record(supervisor, incident, state, values):
    incident = take_steps(incident, user=supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(state=state, **values)


def test_the_database_refuses_closing_an_incident_never_notified(clerk):
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            title="t",
            description="d",
            discovered_at=timezone.now(),
            reported_by=clerk,
            containment_steps="done",
            closing_summary="done",
            state="closed",
        )


def test_the_database_refuses_a_notification_before_the_discovery(supervisor, incident):
    incident = take_steps(incident, user=supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(persons_notified_at=hours_ago(100))
