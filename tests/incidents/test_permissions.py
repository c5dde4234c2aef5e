"""Each role against the incident register: who reports, who sees which incident, who acts."""

import pytest
from django.core.exceptions import PermissionDenied

from common.exceptions import ObjectNotFound
from incidents import services
from incidents.incident_workflow import INCIDENT_WORKFLOW
from incidents.selectors import cases_selectable_for_incident, incidents_visible_to
from tests.factories import UserFactory
from tests.incidents.conftest import STEP_ARGUMENTS, report_incident, take_steps

ROLES = ["Clerk", "Reviewer", "Supervisor", "Auditor"]
# What a user of each role gets for a step on an incident another clerk of their office
# reported. A clerk sees only their own reports, a reviewer none: to them it looks missing.
STEP_OUTCOME = {
    "Clerk": ObjectNotFound,
    "Reviewer": ObjectNotFound,
    "Supervisor": None,
    "Auditor": PermissionDenied,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", list(STEP_ARGUMENTS))
def test_role_against_step(role, step, clerk, supervisor, office, incident):
    user = UserFactory(role=role, offices=[office])
    incident = take_steps(incident, user=supervisor, until=step)
    before = incident.state
    run = INCIDENT_WORKFLOW.service(step)
    if STEP_OUTCOME[role] is not None:
        with pytest.raises(STEP_OUTCOME[role]):
            run(incident=incident, acting_user=user, **STEP_ARGUMENTS[step]())
        incident.refresh_from_db()
        assert incident.state == before
    else:
        assert run(incident=incident, acting_user=user, **STEP_ARGUMENTS[step]()).state != before


@pytest.mark.parametrize("step", list(STEP_ARGUMENTS))
def test_the_reporting_clerk_sees_the_incident_but_may_not_take_a_step(
    step, clerk, supervisor, incident
):
    incident = take_steps(incident, user=supervisor, until=step)
    with pytest.raises(PermissionDenied):
        INCIDENT_WORKFLOW.service(step)(
            incident=incident, acting_user=clerk, **STEP_ARGUMENTS[step]()
        )


@pytest.mark.parametrize("role", ROLES)
def test_clerks_and_supervisors_report_incidents(role, office):
    user = UserFactory(role=role, offices=[office])
    if role in ("Clerk", "Supervisor"):
        assert report_incident(user=user).reported_by == user
    else:
        with pytest.raises(PermissionDenied):
            report_incident(user=user)


@pytest.mark.parametrize(
    "role, sees",
    [
        ("Clerk", {"own"}),
        ("Reviewer", set()),
        ("Supervisor", {"own", "other"}),
        ("Auditor", {"own", "other"}),
    ],
)
def test_who_sees_which_incident(role, sees, office, other_supervisor):
    user = UserFactory(role=role, offices=[office])
    reported = {"other": report_incident(user=other_supervisor, title="other")}
    if role in ("Clerk", "Supervisor"):
        reported["own"] = report_incident(user=user, title="own")
    expected = {reported[key].pk for key in sees if key in reported}
    assert set(incidents_visible_to(user=user).values_list("pk", flat=True)) == expected


def test_only_the_cases_of_ones_offices_can_be_named(clerk, case, other_case):
    assert list(cases_selectable_for_incident(user=clerk)) == [case]


def test_only_supervisors_correct_incidents(clerk, supervisor, incident):
    with pytest.raises(PermissionDenied):
        services.incident_update(incident=incident, acting_user=clerk, data={"title": "x"})
    services.incident_update(incident=incident, acting_user=supervisor, data={"title": "y"})
    incident.refresh_from_db()
    assert incident.title == "y"
