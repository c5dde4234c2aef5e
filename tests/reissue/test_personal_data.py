"""Personal data at rest and in sight: encrypted columns, masked numbers, logged reveals."""

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEntry, PersonalDataAccess
from common.encryption import looks_encrypted
from reissue import services
from reissue.models import ReissueCase
from tests.factories import ApplicantFactory, UserFactory, register_case


@pytest.fixture
def case(clerk, office):
    agent = ApplicantFactory.build()
    return register_case(
        clerk=clerk,
        office=office,
        agent_acts=True,
        agent_name="李四",
        agent_id_number=agent.id_number,
    )


def reveal_url(case, which="applicant"):
    return reverse("admin:reissue_reissuecase_reveal", args=[case.pk, which])


def test_encrypted_columns_hold_no_plain_numbers(case):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, id_number_hash FROM reissue_applicant")
        ((id_number, phone, digest),) = cursor.fetchall()
        cursor.execute("SELECT agent_id_number FROM reissue_reissuecase")
        ((agent_number,),) = cursor.fetchall()
    applicant = case.applicant
    assert applicant.id_number not in id_number and applicant.phone not in phone
    assert case.agent_id_number not in agent_number
    assert all(looks_encrypted(value) for value in (id_number, phone, agent_number))
    assert applicant.id_number not in digest and len(digest) == 64


def test_supervisor_reveals_a_number_with_a_reason_and_the_look_is_logged(client, supervisor, case):
    client.force_login(supervisor)
    number = case.applicant.id_number
    assert number not in client.get(reveal_url(case)).content.decode()
    refused = client.post(reveal_url(case), {"reason": ""})
    assert number not in refused.content.decode() and not PersonalDataAccess.objects.exists()

    response = client.post(reveal_url(case), {"reason": "identity check at the counter"})

    assert number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.case, access.field) == (supervisor, case, "id_number")
    assert access.reason == "identity check at the counter"


def test_the_agents_number_can_be_revealed_too(client, supervisor, case):
    client.force_login(supervisor)
    response = client.post(reveal_url(case, "agent"), {"reason": "agent's identity check"})
    assert case.agent_id_number in response.content.decode()
    assert PersonalDataAccess.objects.get().field == "agent_id_number"


def test_a_clerk_cannot_reveal(client, clerk, case):
    client.force_login(clerk)
    assert client.get(reveal_url(case)).status_code == 403
    assert client.post(reveal_url(case), {"reason": "curious"}).status_code == 403
    assert not PersonalDataAccess.objects.exists()
    assert (
        reveal_url(case)
        not in client.get(
            reverse("admin:reissue_reissuecase_change", args=[case.pk])
        ).content.decode()
    )


def test_a_supervisor_of_another_office_cannot_reveal(client, other_supervisor, case):
    client.force_login(other_supervisor)
    assert client.post(reveal_url(case), {"reason": "curious"}).status_code in (302, 404)
    assert not PersonalDataAccess.objects.exists()


def test_an_auditor_reveals_in_any_office(client, other_office, case):
    auditor = UserFactory(role="Auditor", offices=[other_office])
    client.force_login(auditor)
    response = client.post(reveal_url(case), {"reason": "audit sample 2026-11"})
    assert case.applicant.id_number in response.content.decode()


def test_the_agents_number_is_never_sent_back_to_the_browser(client, clerk, case):
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    assert case.agent_id_number not in page.content.decode()


def _change(client, case, **fields):
    data = {
        "lost_items": case.lost_items,
        "loss_kind": case.loss_kind,
        "loss_date": case.loss_date.isoformat(),
        "presented_hukou_book": "on",
        "agent_acts": "on",
        "agent_name": "李四",
        "agent_id_number": "",
        **fields,
    }
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(reverse("admin:reissue_reissuecase_change", args=[case.pk]), data)


def test_leaving_the_agents_number_empty_keeps_it(client, clerk, case):
    client.force_login(clerk)
    stored = case.agent_id_number
    assert _change(client, case, presented_photo="on").status_code == 302
    assert ReissueCase.objects.get(pk=case.pk).agent_id_number == stored


def test_typing_a_new_agent_number_replaces_it(client, clerk, case):
    client.force_login(clerk)
    new_number = ApplicantFactory.build().id_number
    assert _change(client, case, agent_id_number=new_number.lower()).status_code == 302
    assert ReissueCase.objects.get(pk=case.pk).agent_id_number == new_number


def test_an_agent_no_longer_acting_leaves_no_details(client, clerk, case):
    client.force_login(clerk)
    assert _change(client, case, agent_acts=None).status_code == 302
    stored = ReissueCase.objects.get(pk=case.pk)
    assert (stored.agent_name, stored.agent_id_number) == ("", "")
    assert "agent_id_number" in stored.audit_entries.last().changes


def test_phone_changes_are_masked_in_the_audit_trail(client, supervisor, case):
    services.applicant_update(
        applicant=case.applicant, acting_user=supervisor, data={"phone": "13912345678"}
    )
    assert AuditEntry.objects.last().changes["phone"][1] == "*******5678"


def test_access_log_is_listed_for_auditors_and_never_editable(client, supervisor, auditor, case):
    client.force_login(supervisor)
    client.post(reveal_url(case), {"reason": "identity check at the counter"})
    access = PersonalDataAccess.objects.get()
    client.force_login(auditor)
    listing = client.get(reverse("admin:audit_personaldataaccess_changelist"))
    assert "identity check at the counter" in listing.content.decode()
    change = reverse("admin:audit_personaldataaccess_change", args=[access.pk])
    client.post(change, {"reason": "nothing to see"})
    client.post(reverse("admin:audit_personaldataaccess_delete", args=[access.pk]), {"post": 1})
    assert PersonalDataAccess.objects.get().reason == "identity check at the counter"


def test_clerks_cannot_read_the_access_log(client, clerk):
    client.force_login(clerk)
    url = reverse("admin:audit_personaldataaccess_changelist")
    assert client.get(url).status_code == 403


def test_a_supervisor_reveals_the_number_on_the_applicants_page(client, supervisor, case):
    client.force_login(supervisor)
    applicant = case.applicant
    page = client.get(reverse("admin:reissue_applicant_change", args=[applicant.pk]))
    url = reverse("admin:reissue_applicant_reveal", args=[applicant.pk, "applicant"])
    assert url in page.content.decode()
    response = client.post(url, {"reason": "identity check at the counter"})
    assert applicant.id_number in response.content.decode()
    access = PersonalDataAccess.objects.get()
    assert (access.object_id, access.field, access.case) == (applicant.pk, "id_number", None)


@pytest.mark.parametrize(
    ("url_name", "which"),
    [
        ("admin:reissue_reissuecase_reveal", "phone"),
        ("admin:reissue_applicant_reveal", "agent"),  # an applicant has no agent
    ],
)
def test_a_number_the_page_does_not_offer_is_not_found(client, supervisor, case, url_name, which):
    client.force_login(supervisor)
    pk = case.pk if "reissuecase" in url_name else case.applicant.pk
    response = client.post(reverse(url_name, args=[pk, which]), {"reason": "identity check"})
    assert response.status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_a_case_without_an_agent_offers_only_the_applicants_number(client, supervisor, clerk):
    case = register_case(clerk=clerk, office=clerk.offices.get())
    client.force_login(supervisor)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk])).content
    assert reveal_url(case).encode() in page and reveal_url(case, "agent").encode() not in page
