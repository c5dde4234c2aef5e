"""Steps from the case page: the page's edits saved first, locks shown, stale pages explained."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from reissue import services
from reissue.models import LostItems, ReissueCase
from tests.factories import ApplicantFactory, register_case, reissued_case
from tests.reissue.test_admin import change_url, step_url

TODAY = timezone.localdate


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


def case_form(case, **changes) -> dict:
    """Return the case page's POST as the browser sends it, with `changes` typed in."""
    data = {
        "lost_items": case.lost_items,
        "loss_kind": case.loss_kind,
        "loss_date": case.loss_date.isoformat(),
        "presented_hukou_book": "on" if case.presented_hukou_book else "",
        **changes,
    }
    return {name: value for name, value in data.items() if value != ""}


def test_a_step_button_saves_the_edited_case_then_opens_the_step(client, clerk, case):
    client.force_login(clerk)
    data = {**case_form(case, presented_photo="on"), "_take_step": "issue_temp_card"}
    response = client.post(change_url(case), data)
    assert response.status_code == 302
    assert response["Location"] == step_url(case, "issue_temp_card")
    case.refresh_from_db()
    assert (case.presented_photo, case.state) == (True, "reported")


def test_entering_a_claim_saves_the_edited_case_first(client, clerk, case):
    client.force_login(clerk)
    data = {**case_form(case, presented_photo="on"), "_enter_claim": "1"}
    response = client.post(change_url(case), data)
    assert response["Location"] == f"{reverse('admin:claims_expenseclaim_add')}?case={case.pk}"
    case.refresh_from_db()
    assert case.presented_photo is True


def test_a_refused_edit_keeps_the_page_and_takes_no_step(client, clerk, case):
    client.force_login(clerk)
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    data = {**case_form(case, loss_date=tomorrow), "_take_step": "issue_temp_card"}
    response = client.post(change_url(case), data)
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    case.refresh_from_db()
    assert (case.loss_date, case.state) == (TODAY() - datetime.timedelta(days=3), "reported")


def test_the_case_page_offers_its_steps_as_buttons_and_enter_still_saves(client, clerk, case):
    client.force_login(clerk)
    page = client.get(change_url(case)).content.decode()
    assert 'name="_take_step" value="issue_temp_card"' in page
    # The form's first submit button, the one Enter presses, is a plain save.
    first = page.index('type="submit"', page.index('id="reissuecase_form"'))
    assert page[first : first + 40].startswith('type="submit" name="_save" hidden')


def test_an_auditor_reads_the_steps_as_links(client, auditor, clerk, case):
    client.force_login(auditor)
    page = client.get(change_url(case)).content.decode()
    assert 'name="_take_step"' not in page


def test_what_a_step_relied_on_is_read_only_and_a_forged_post_changes_nothing(client, clerk, case):
    services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=case.loss_date)
    client.force_login(clerk)
    page = client.get(change_url(case)).content.decode()
    assert 'name="lost_items"' not in page and 'name="presented_photo"' in page
    response = client.post(change_url(case), case_form(case, lost_items=LostItems.SS_CARD))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.lost_items == LostItems.BOTH


def test_a_locked_agents_number_is_shown_masked(client, clerk, office):
    agent_number = ApplicantFactory.build().id_number
    case = reissued_case(
        clerk=clerk, office=office, agent_acts=True, agent_name="李四", agent_id_number=agent_number
    )
    client.force_login(clerk)
    page = client.get(change_url(case)).content.decode()
    assert agent_number not in page
    assert agent_number[:6] + "*" * 11 + agent_number[-1:] in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_stale_step_page_says_who_took_the_step_when(client, clerk, supervisor, case, method):
    clerk.first_name, clerk.last_name = "三", "张"
    clerk.save()
    services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-1", issued_on=case.loss_date
    )
    client.force_login(supervisor)
    data = {"card_number": "TMP-2", "issued_on": TODAY().isoformat(), "expected_state": "reported"}
    response = getattr(client, method)(step_url(case, "issue_temp_card"), data, follow=True)
    assert response.redirect_chain == [(change_url(case), 302)]
    page = response.content.decode()
    at = timezone.localtime(case.audit_entries.get(action="issue_temp_card").at)
    assert (
        f"This step was already taken by 三 张 at {at:%H:%M}; "
        "the reissue case is now “temporary card issued”."
    ) in page
    assert 'id="workflow-heading"' in page  # on the case page, in the admin's frame
    case.refresh_from_db()
    assert case.temp_card_number == "TMP-1"
    assert case.audit_entries.filter(action="issue_temp_card").count() == 1


def test_a_stale_step_page_names_the_day_when_it_was_not_today(client, clerk, case):
    services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-1", issued_on=case.loss_date
    )
    at = timezone.localtime(case.audit_entries.get(action="issue_temp_card").at)
    with time_machine.travel(at + datetime.timedelta(days=2)):
        client.force_login(clerk)
        response = client.get(step_url(case, "issue_temp_card"), follow=True)
    assert f"by clerk at {at:%Y-%m-%d %H:%M};" in response.content.decode()


def test_a_step_never_possible_from_here_says_so(client, clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    client.force_login(supervisor)
    response = client.get(step_url(case, "reimburse"), follow=True)
    assert "In state “reported” this step cannot be taken." in response.content.decode()


def test_a_step_the_user_may_not_take_is_refused_with_its_name(client, clerk, supervisor, case):
    services.case_cancel(case=case, acting_user=supervisor, reason="found")
    client.force_login(clerk)
    response = client.get(step_url(case, "cancel"))
    assert response.status_code == 403
    assert "You may not take the step “Cancel case”." in response.content.decode()


def test_registering_an_applicant_with_an_open_case_links_to_that_case(client, clerk, case):
    client.force_login(clerk)
    applicant = case.applicant
    response = client.post(
        reverse("admin:reissue_reissuecase_add"),
        {
            "name": applicant.name,
            "id_number": applicant.id_number,
            "phone": applicant.phone,
            "hukou_address": applicant.hukou_address,
            "hukou_police_station": applicant.hukou_police_station,
            "office": case.office_id,
            "lost_items": LostItems.BOTH,
            "loss_kind": "lost",
            "loss_date": TODAY().isoformat(),
        },
    )
    page = response.content.decode()
    assert f'open case, <a href="{change_url(case)}">{case.reference}</a>; continue' in page
    assert ReissueCase.objects.count() == 1


def test_another_offices_open_case_is_not_linked(client, clerk, other_clerk, other_office):
    case = register_case(clerk=other_clerk, office=other_office)
    client.force_login(clerk)
    applicant = case.applicant
    response = client.post(
        reverse("admin:reissue_reissuecase_add"),
        {
            "name": applicant.name,
            "id_number": applicant.id_number,
            "phone": applicant.phone,
            "hukou_address": applicant.hukou_address,
            "hukou_police_station": applicant.hukou_police_station,
            "lost_items": LostItems.BOTH,
            "loss_kind": "lost",
            "loss_date": TODAY().isoformat(),
        },
    )
    page = response.content.decode()
    assert "cannot be registered here" in page
    assert case.reference not in page and change_url(case) not in page


def test_a_field_locked_while_the_page_was_open_is_refused_with_a_word(
    client, clerk, case, monkeypatch
):
    client.force_login(clerk)
    services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=case.loss_date)
    # The page as it was opened, before the new ID card was recorded: "what was lost" editable.
    monkeypatch.setattr("reissue.admin.locked_fields", lambda case: set())
    data = case_form(case, lost_items=LostItems.SS_CARD, presented_photo="on")
    response = client.post(change_url(case), data, follow=True)
    assert response.redirect_chain == [(change_url(case), 302)]
    assert (
        "Nothing on this page was saved. What was lost can no longer be changed: "
        "the step “Record new ID card” has been taken."
    ) in response.content.decode()
    case.refresh_from_db()
    assert (case.lost_items, case.presented_photo) == (LostItems.BOTH, False)
