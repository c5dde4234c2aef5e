"""The incident screens, through the test client: lists, pages, reports and step buttons."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from tests.factories import UserFactory
from tests.incidents.conftest import audit_of, hours_ago, report_incident, take_steps
from tests.steps import offers_step

CHANGELIST = reverse("admin:incidents_incident_changelist")
ADD = reverse("admin:incidents_incident_add")
AUTOCOMPLETE = reverse("admin:autocomplete")


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def step_url(incident, name):
    return reverse("admin:incidents_incident_step", args=[incident.pk, name])


def local(moment, fmt="%Y-%m-%d %H:%M"):
    return timezone.localtime(moment).strftime(fmt)


def report_form(**overrides):
    found = hours_ago(5)
    return {
        "title": "Letters sent to the wrong addresses",
        "description": "Twelve decision letters went to the neighbours.",
        "discovered_at_0": local(found, "%Y-%m-%d"),
        "discovered_at_1": local(found, "%H:%M:%S"),
        **overrides,
    }


STEP_FORMS = {
    "contain": lambda: {"containment_steps": "Letters collected back."},
    "record_notifications": lambda: {
        "persons_notified_at": local(hours_ago(3)),
        "notification_method": "phone",
        "authority_informed_at": local(hours_ago(2)),
        "authority_name": "市网信办",
    },
    "close": lambda: {"closing_summary": "Addresses are now checked twice."},
}


def test_changelist_shows_the_register_without_a_query_per_row(
    client, supervisor, clerk, case, incident
):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as one:
        page = client.get(CHANGELIST).content.decode()
    assert incident.title in page and "state-badge badge-amber" in page
    assert '<td class="field-affected_case_count">1</td>' in page
    for _ in range(3):
        report_incident(user=clerk, cases=[case])
    with CaptureQueriesContext(connection) as four:
        client.get(CHANGELIST)
    assert len(four) == len(one)


def test_clerk_reports_an_incident_naming_a_case(client, clerk, case):
    client.force_login(clerk)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, report_form(affected_cases=[case.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    incident = Incident.objects.get()
    assert (incident.reported_by, list(incident.affected_cases.all())) == (clerk, [case])
    assert list(audit_of(incident).values_list("action", flat=True)) == ["registered"]


def test_a_case_of_another_office_cannot_be_named(client, clerk, other_case):
    client.force_login(clerk)
    response = client.post(ADD, report_form(affected_cases=[other_case.pk]))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Incident.objects.exists()


def test_a_discovery_in_the_future_is_refused(client, clerk):
    client.force_login(clerk)
    future = hours_ago(-48)
    form = report_form(
        discovered_at_0=local(future, "%Y-%m-%d"), discovered_at_1=local(future, "%H:%M:%S")
    )
    response = client.post(ADD, form)
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()
    assert not Incident.objects.exists()


def test_case_search_offers_only_the_cases_of_ones_offices(client, clerk, case, other_case):
    client.force_login(clerk)
    found = client.get(
        AUTOCOMPLETE,
        {"app_label": "incidents", "model_name": "incident", "field_name": "affected_cases"},
    ).json()
    assert [result["text"] for result in found["results"]] == [case.reference]


def test_change_page_shows_steps_cases_and_audit_trail(client, supervisor, incident, case):
    client.force_login(supervisor)
    page = client.get(change_url(incident)).content.decode()
    assert offers_step(page, step_url(incident, "contain"))
    assert not offers_step(page, step_url(incident, "close"))
    assert 'id="affected-cases"' in page and case.reference in page
    assert "add_id_affected_cases" not in page  # no case is registered from here
    assert 'id="audit-trail"' in page
    assert client.get(step_url(incident, "contain")).status_code == 200


def test_supervisor_takes_every_step_with_the_buttons(client, supervisor, incident):
    client.force_login(supervisor)
    for name, target in [
        ("contain", "contained"),
        ("record_notifications", "notified"),
        ("close", "closed"),
    ]:
        state = Incident.objects.get(pk=incident.pk).state
        response = client.post(
            step_url(incident, name), {"expected_state": state, **STEP_FORMS[name]()}
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert Incident.objects.get(pk=incident.pk).state == target
    page = client.get(change_url(incident)).content.decode()
    assert "No step is open to you here." in page
    assert "市网信办" in page


def test_close_cannot_be_forged_before_the_notifications(client, supervisor, incident):
    take_steps(incident, user=supervisor, until="record_notifications")
    client.force_login(supervisor)
    response = client.post(step_url(incident, "close"), STEP_FORMS["close"](), follow=True)
    assert response.redirect_chain == [(change_url(incident), 302)]
    assert "this step cannot be taken" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).state == "contained"


def test_a_bad_notification_time_is_shown_on_the_step_form(client, supervisor, incident):
    take_steps(incident, user=supervisor, until="record_notifications")
    client.force_login(supervisor)
    form = {**STEP_FORMS["record_notifications"](), "persons_notified_at": local(hours_ago(90))}
    response = client.post(step_url(incident, "record_notifications"), form)
    assert response.status_code == 200
    assert "before the discovery" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).state == "contained"


def test_a_clerks_forged_step_is_refused_and_changes_nothing(client, clerk, incident):
    client.force_login(clerk)
    page = client.get(change_url(incident)).content.decode()
    assert "No step is open to you here." in page
    response = client.post(step_url(incident, "contain"), STEP_FORMS["contain"]())
    assert response.status_code == 403
    incident = Incident.objects.get(pk=incident.pk)
    assert (incident.state, incident.containment_steps) == ("open", "")
    assert list(audit_of(incident).values_list("action", flat=True)) == ["registered"]


def test_a_clerk_cannot_change_the_report(client, clerk, incident):
    client.force_login(clerk)
    response = client.post(change_url(incident), report_form(title="changed"))
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).title == incident.title


def test_another_clerks_incident_is_not_found(client, incident, office):
    client.force_login(UserFactory(role="Clerk", offices=[office]))
    assert client.get(change_url(incident)).status_code == 302  # admin: "does not exist"
    assert client.post(step_url(incident, "contain"), STEP_FORMS["contain"]()).status_code == 404
    assert incident.title not in client.get(CHANGELIST).content.decode()


def test_a_reviewer_has_no_register(client, reviewer, incident):
    client.force_login(reviewer)
    assert client.get(CHANGELIST).status_code == 403


def test_nobody_deletes_an_incident(client, supervisor, incident):
    client.force_login(supervisor)
    url = reverse("admin:incidents_incident_delete", args=[incident.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_supervisor_corrects_and_names_a_case_keeping_other_offices_cases(
    client, supervisor, other_supervisor, case, other_case
):
    incident = report_incident(user=other_supervisor, cases=[other_case])
    client.force_login(supervisor)
    page = client.get(change_url(incident)).content.decode()
    section = page[page.index('id="affected-cases"') : page.index('id="audit-trail"')]
    assert other_case.reference not in section
    assert "1 case of an office you do not work with" in section
    found = incident.discovered_at
    response = client.post(
        change_url(incident),
        report_form(
            title="Letters to the wrong addresses (DC too)",
            discovered_at_0=local(found, "%Y-%m-%d"),
            discovered_at_1=local(found, "%H:%M:%S"),
            affected_cases=[case.pk],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    incident = Incident.objects.get(pk=incident.pk)
    assert set(incident.affected_cases.all()) == {case, other_case}
    assert incident.title.endswith("(DC too)")


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_a_closed_incident_is_read_only_for_everyone(client, role, supervisor, incident, request):
    take_steps(incident, user=supervisor)
    for user in (supervisor, request.getfixturevalue(role)):
        client.force_login(user)
        page = client.get(change_url(incident)).content.decode()
        assert 'name="title"' not in page
        assert "Stick reported to police" in page


def test_the_audit_trail_names_only_the_cases_the_reader_may_see(
    client, supervisor, other_supervisor, case, other_case
):
    incident = report_incident(user=other_supervisor, cases=[other_case])
    services.incident_update(
        incident=incident, acting_user=supervisor, data={}, affected_cases=[case]
    )
    client.force_login(supervisor)
    page = client.get(change_url(incident)).content.decode()
    trail = page[page.index('id="audit-trail"') :]
    assert other_case.reference not in page
    assert case.reference in trail
    assert "1 case of an office you do not work with" in trail
    client.force_login(other_supervisor)
    theirs = client.get(change_url(incident)).content.decode()
    assert other_case.reference in theirs[theirs.index('id="audit-trail"') :]
