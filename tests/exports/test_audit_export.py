"""The audit trail's export: auditors and supervisors take it away, clerks and reviewers not."""

import pytest
from django.urls import reverse

from audit.models import PersonalDataAccess
from reissue import services
from reissue.resources import AuditEntryResource
from tests.exports.conftest import export
from tests.factories import UserFactory, register_case

CHANGELIST = reverse("admin:audit_auditentry_changelist")
EXPORT = reverse("admin:audit_auditentry_export")
ADMIN = "audit_auditentry"


def export_trail(exporter, user, fmt="csv", query=""):
    return exporter(user, ADMIN, AuditEntryResource, fmt, query)


@pytest.fixture
def cancelled_case(clerk, office):
    case = register_case(clerk=clerk, office=office)
    boss = UserFactory(username="boss", role="Supervisor", offices=[office])
    return services.case_cancel(case=case, acting_user=boss, reason="申请人已找回卡片")


@pytest.fixture
def foreign_case(other_clerk, other_office):
    return register_case(clerk=other_clerk, office=other_office)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_auditor_exports_who_did_what_to_which_case(
    exporter, auditor, cancelled_case, foreign_case, fmt
):
    rows, _response = export_trail(exporter, auditor, fmt)
    ours = [row for row in rows if row["case"] == cancelled_case.reference]
    assert [(row["action"], row["to state"], row["by"]) for row in ours] == [
        ("registered", "reported", "clerk"),
        ("Cancel case", "cancelled", "boss"),
    ]
    assert {row["office"] for row in ours} == {"DC"}
    assert ours[1]["from state"] == "reported"
    assert "reason for cancelling:  → 申请人已找回卡片" in ours[1]["changed fields"]
    assert {row["office"] for row in rows} == {"DC", "PD"}  # auditors see every office


def test_the_trail_export_holds_no_full_id_number_and_is_not_logged_as_one(
    client, auditor, cancelled_case
):
    client.force_login(auditor)
    content = b"".join(export(client, ADMIN, AuditEntryResource).streaming_content).decode()
    assert cancelled_case.applicant.id_number not in content
    assert not PersonalDataAccess.objects.exists()


def test_a_supervisor_exports_only_the_trail_of_their_offices(
    exporter, supervisor, cancelled_case, foreign_case
):
    rows, _response = export_trail(exporter, supervisor)
    assert {row["case"] for row in rows} == {cancelled_case.reference}


def test_the_trail_export_follows_the_lists_filter_and_search(
    exporter, auditor, cancelled_case, foreign_case
):
    rows, _response = export_trail(exporter, auditor, query="?action__exact=cancel")
    assert [row["case"] for row in rows] == [cancelled_case.reference]
    rows, _response = export_trail(exporter, auditor, query=f"?q={foreign_case.reference}")
    assert {row["case"] for row in rows} == {foreign_case.reference}


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_clerks_and_reviewers_read_the_trail_but_cannot_export_it(
    client, request, role, cancelled_case
):
    client.force_login(request.getfixturevalue(role))
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and EXPORT not in page.content.decode()
    assert client.get(EXPORT).status_code == 403
    assert export(client, ADMIN, AuditEntryResource).status_code == 403
