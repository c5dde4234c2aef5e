"""The one-time notice (一次性告知单): every document the case still needs, its time limits,
the steps ahead, printable from the first contact and by the case's own office only."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reissue import services
from reissue.case_policy import CasePolicy
from reissue.case_workflow import LossReportKind, SecondaryDocument
from reissue.models import LostItems
from tests.factories import register_case, reissued_case

HUKOU_BOOK = "Household registration (hukou) book"
IDENTITY = "Proof of identity: your ID card, a temporary ID card or the hukou book"
PHOTO = "One-inch colour photo (like the one on the second-generation ID card)"
AGENT_ID = "The agent's own ID card, with the applicant's proof of identity"
POLICE_CLOCK = "The police station issues the new ID card within"


def notice_url(case):
    return reverse("admin:reissue_reissuecase_notice", args=[case.pk])


def notice_of(client, user, case) -> str:
    client.force_login(user)
    response = client.get(notice_url(case))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def section(page: str, name: str) -> str:
    return re.search(rf'<section id="notice-{name}">(.*?)</section>', page, re.S).group(1)


def documents_on(page: str) -> list[str]:
    return re.findall(r'<span class="what">(.*?)</span>', section(page, "documents"))


def test_the_case_page_links_to_its_notice(client, clerk, office):
    case = register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk])).content
    assert f'id="print-notice" href="{notice_url(case)}"'.encode() in page


def test_both_cards_lost_with_an_agent_and_an_ic_conversion_needs_three_documents(
    client, clerk, office
):
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.BOTH,
        presented_hukou_book=False,
        converts_ic_card=True,
        agent_acts=True,
        agent_name="李四",
        agent_id_number="11010519491231002X",
    )
    page = notice_of(client, clerk, case)
    # The hukou book goes to the police and proves identity here: it is not asked for twice.
    assert documents_on(page) == [HUKOU_BOOK, PHOTO, AGENT_ID]
    assert "李四" in section(page, "documents")
    assert "11010519491231002X" not in page


def test_an_ss_card_only_case_needs_proof_of_identity_until_it_is_presented(client, clerk, office):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_hukou_book=False
    )
    assert documents_on(notice_of(client, clerk, case)) == [IDENTITY]

    services.case_update(case=case, acting_user=clerk, data={"presented_id_card": True})
    page = notice_of(client, clerk, case)
    assert documents_on(page) == []
    assert "None: every document this case requires has been presented." in page


def test_an_id_card_only_case_needs_the_hukou_book_and_shows_the_police_clock(
    client, clerk, office
):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.ID_CARD, presented_hukou_book=False
    )
    page = notice_of(client, clerk, case)
    assert documents_on(page) == [HUKOU_BOOK]
    limits = section(page, "time-limits")
    assert f"{POLICE_CLOCK} 60 days: by {case.id_card_due_on().isoformat()}." in limits
    assert "Resident Identity Card Law" in section(page, "legal-basis")
    # Nothing about the SS card's loss: it was not lost.
    assert "temporary card" not in section(page, "procedure")
    assert "reimbursed once" not in section(page, "procedure")


def test_the_police_clock_and_the_id_card_law_only_when_the_id_card_was_lost(client, clerk, office):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    page = notice_of(client, clerk, case)
    assert POLICE_CLOCK not in page
    assert "Resident Identity Card Law" not in page
    assert "social security card" in section(page, "legal-basis")
    assert "Civil Code art. 1038" in section(page, "legal-basis")


def test_a_photo_presented_is_no_longer_asked_for(client, clerk, office):
    case = register_case(clerk=clerk, office=office, converts_ic_card=True, presented_photo=True)
    assert documents_on(notice_of(client, clerk, case)) == []  # hukou book presented too


def test_a_document_promised_is_listed_with_its_day_until_it_is_brought(client, clerk, office):
    case = register_case(clerk=clerk, office=office)
    due_on = case.service_due_on - datetime.timedelta(days=1)
    promise = services.case_promise_document(
        case=case, acting_user=clerk, document=SecondaryDocument.ID_COPY, due_on=due_on
    )
    page = notice_of(client, clerk, case)
    assert documents_on(page) == ["Copy of the ID card or hukou page"]
    assert f"bring it by {due_on.isoformat()}" in section(page, "documents")
    assert "counted again from the day you bring it" in section(page, "time-limits")

    services.case_record_document_received(
        promise=promise, acting_user=clerk, received_on=timezone.localdate()
    )
    assert documents_on(notice_of(client, clerk, case)) == []


def test_the_notice_states_the_service_deadline_in_working_days(client, clerk, office, settings):
    settings.SERVICE_DEADLINE_WORKING_DAYS = 12
    case = register_case(clerk=clerk, office=office)
    limits = section(notice_of(client, clerk, case), "time-limits")
    assert (
        f"within 12 working days of the formal loss report: by {case.service_due_on.isoformat()}."
        in limits
    )


def test_a_temporary_loss_report_gets_its_notice_at_first_contact(client, clerk, office):
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.SS_CARD,
        presented_hukou_book=False,
        loss_report_kind=LossReportKind.TEMPORARY,
    )
    page = notice_of(client, clerk, case)
    assert documents_on(page) == [IDENTITY]
    assert "counted from the formal loss report at this office" in section(page, "time-limits")
    lapses_on = timezone.localtime(case.lapses_at).date().isoformat()
    assert f"suspended until {lapses_on} only: make the loss report formal" in page


def test_the_steps_ahead_follow_the_offices_card_production(client, clerk, office):
    CasePolicy.objects.create(
        office=office, effective_from=datetime.date(2020, 1, 1), instant_issuance=False
    )
    batch = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    procedure = section(notice_of(client, clerk, batch), "procedure")
    assert "ordered from the card bank and made in a batch" in procedure
    assert "Collect the new card at this office" in procedure
    assert "valid 60 days, extendable up to 183 days" in procedure


def test_an_instantly_issued_card_needs_no_second_visit_to_collect_it(client, clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    procedure = section(notice_of(client, clerk, case), "procedure")
    assert "made at the counter while you wait" in procedure
    assert "Collect the new card" not in procedure


@pytest.mark.parametrize("role", ["clerk", "supervisor", "auditor"])
def test_the_notice_shows_the_id_number_masked_whatever_the_users_rights(
    client, clerk, office, role, request
):
    case = register_case(clerk=clerk, office=office)
    page = notice_of(client, request.getfixturevalue(role), case)
    number = case.applicant.id_number
    assert f'id="notice-id-number">{number[:6]}***********{number[-1]}<' in page
    assert number not in page


def test_the_notice_gives_the_offices_phone_and_hours(client, clerk, office):
    office.phone, office.opening_hours = "010-6512 3456", "周一至周五 8:30–17:00"
    office.save()
    case = register_case(clerk=clerk, office=office)
    page = notice_of(client, clerk, case)
    assert "010-6512 3456" in page and "周一至周五 8:30–17:00" in page


def test_another_offices_case_has_no_notice(client, clerk, office, other_clerk):
    case = register_case(clerk=clerk, office=office)
    client.force_login(other_clerk)
    assert client.get(notice_url(case)).status_code == 404


def test_a_finished_case_has_no_notice_to_print(client, clerk, office):
    case = services.case_close(case=reissued_case(clerk=clerk, office=office), acting_user=clerk)
    client.force_login(clerk)
    response = client.get(notice_url(case), follow=True)
    assert "no document is required any more" in response.content.decode()
    change = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk])).content
    assert b'id="print-notice"' not in change
