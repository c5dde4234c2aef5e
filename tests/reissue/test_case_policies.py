"""The city's case rules: supervisors add them for their offices after a dry run on the
office's open cases; rules in force never change; a case reads the rules it is handled under."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from reissue import policy_services, services
from reissue.case_policy import CasePolicy
from reissue.models import LossReportKind, LostItems, ReissueCase
from tests.factories import register_case
from workdays.calendar import start_of_day
from workflow.services import WorkflowError

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2031, 3, 3)  # a Monday
NOW = start_of_day(TODAY) + datetime.timedelta(hours=10)
ADD = reverse("admin:reissue_casepolicy_add")
LIST = reverse("admin:reissue_casepolicy_changelist")


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=False):
        yield


def form(office, **values) -> dict:
    data = {
        "office": office.pk,
        "effective_from": "2031-04-01",
        "temporary_report_lapse_days": "15",
        "old_card_cancelled_after_days": "15",
        "temp_card_valid_days": "60",
        "temp_card_max_valid_days": "183",
        "service_deadline_working_days": "15",
        "id_card_issue_days": "60",
        "card_fee": "0.00",
        "fee_waivers": "",
        "instant_issuance": "on",
    }
    data.update(values)
    return data


def reported_days_ago(*, clerk, office, days: int, **fields) -> ReissueCase:
    with time_machine.travel(NOW - datetime.timedelta(days=days), tick=False):
        return register_case(clerk=clerk, office=office, **fields)


@pytest.fixture
def open_cases(clerk, office, other_clerk, other_office):
    """Cases in time under the defaults; each late under shorter rules."""
    # Reported Monday 2031-02-17: ten working days ago (15 allowed, none under 5).
    in_time = reported_days_ago(clerk=clerk, office=office, days=14)
    # A temporary card issued 40 days ago: valid 60 days, not 30.
    with_card = reported_days_ago(clerk=clerk, office=office, days=40, lost_items=LostItems.SS_CARD)
    with time_machine.travel(NOW - datetime.timedelta(days=40), tick=False):
        services.case_issue_temp_card(
            case=with_card,
            acting_user=clerk,
            card_number="T-1",
            issued_on=TODAY - datetime.timedelta(days=40),
        )
    # A temporary report of five days ago: holds 15 days, not 3.
    temporary = reported_days_ago(
        clerk=clerk,
        office=office,
        days=5,
        lost_items=LostItems.SS_CARD,
        loss_report_kind=LossReportKind.TEMPORARY,
    )
    # Another office's case, just as late under short rules: not counted.
    elsewhere = reported_days_ago(clerk=other_clerk, office=other_office, days=14)
    return [in_time, with_card, temporary, elsewhere]


def dry_run_figures(page: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(
        r'data-dry-run="(\w+)"><th scope="row">[^<]*</th><td>(\d+)</td><td>(\d+)</td>', page
    )
    return {key: (int(new), int(now)) for key, new, now in rows}


def test_a_supervisor_sees_the_dry_run_before_saving_and_then_saves(
    client, supervisor, office, open_cases
):
    client.force_login(supervisor)
    short = form(
        office,
        temporary_report_lapse_days="3",
        temp_card_valid_days="30",
        temp_card_max_valid_days="90",
        service_deadline_working_days="5",
    )
    page = client.post(ADD, short, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert not CasePolicy.objects.exists()  # nothing saved yet
    assert "Rules in force from 2031-04-01: a temporary loss report lapses after 3 days" in page
    assert "Had the office's 3 open cases been handled under these values, today:" in page
    assert dry_run_figures(page) == {
        "overdue": (2, 1),  # the temporary card's case, reported 40 days ago, is late anyway
        "temp_card_expired": (1, 0),
        "lapsed": (1, 0),
    }
    assert "These values never rewrite existing cases" in page
    assert 'name="_confirmed"' in page

    response = client.post(ADD, {**short, "_confirmed": "Save"})
    assert response.status_code == 302
    policy = CasePolicy.objects.get()
    assert policy.service_deadline_working_days == 5
    entry = AuditEntry.objects.get(action="added", object_id=policy.pk)
    assert entry.actor == supervisor
    # The cases keep the rules they were registered under.
    for case in open_cases:
        assert ReissueCase.objects.get(pk=case.pk).rules.service_deadline_working_days == 15


def test_the_way_back_keeps_what_was_typed(client, supervisor, office):
    client.force_login(supervisor)
    page = client.post(
        ADD, form(office, service_deadline_working_days="9", instant_issuance="")
    ).content.decode()
    back = (
        re.search(r'<a href="([^"]+)" class="button cancel-link"', page)
        .group(1)
        .replace("&amp;", "&")
    )
    again = client.get(back).content.decode()
    assert 'name="service_deadline_working_days" value="9"' in again
    assert 'name="instant_issuance" id="id_instant_issuance" checked' not in again


def test_a_form_with_errors_shows_them_not_the_dry_run(client, supervisor, office):
    client.force_login(supervisor)
    page = client.post(ADD, form(office, temp_card_max_valid_days="10"), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "cannot be extended to less than its first validity" in text
    assert "data-dry-run" not in text


def test_a_new_policy_applies_to_cases_reported_from_its_day(client, supervisor, clerk, office):
    policy_services.case_policy_save(
        policy=CasePolicy(office=office, effective_from=TODAY, service_deadline_working_days=5),
        acting_user=supervisor,
    )
    case = register_case(clerk=clerk, office=office)
    assert case.rules.service_deadline_working_days == 5
    assert case.service_due_on == D(2031, 3, 10)


def test_a_policy_in_force_cannot_be_changed_by_the_service(supervisor, office):
    policy = policy_services.case_policy_save(
        policy=CasePolicy(office=office, effective_from=TODAY), acting_user=supervisor
    )
    policy.service_deadline_working_days = 3
    with pytest.raises(WorkflowError, match="add new rules from a later day instead"):
        policy_services.case_policy_save(policy=policy, acting_user=supervisor)
    assert CasePolicy.objects.get().service_deadline_working_days == 15


def test_a_policy_not_yet_in_force_may_be_corrected(supervisor, office):
    policy = policy_services.case_policy_save(
        policy=CasePolicy(office=office, effective_from=D(2031, 4, 1)), acting_user=supervisor
    )
    policy.card_fee = Decimal("20.00")
    policy_services.case_policy_save(policy=policy, acting_user=supervisor)
    assert CasePolicy.objects.get().card_fee == Decimal("20.00")
    entry = AuditEntry.objects.get(action="edited", object_id=policy.pk)
    assert entry.changes["card_fee"] == ["0.00", "20.00"]


def test_a_policy_cannot_start_in_the_past(supervisor, office):
    with pytest.raises(ValidationError) as error:
        policy_services.case_policy_save(
            policy=CasePolicy(office=office, effective_from=TODAY - datetime.timedelta(days=1)),
            acting_user=supervisor,
        )
    assert "effective_from" in error.value.message_dict


def test_the_change_page_of_a_policy_in_force_is_read_only(client, supervisor, office):
    policy = CasePolicy.objects.create(office=office, effective_from=D(2030, 1, 1))
    client.force_login(supervisor)
    page = client.get(reverse("admin:reissue_casepolicy_change", args=[policy.pk])).content.decode()
    assert 'name="service_deadline_working_days"' not in page
    response = client.post(
        reverse("admin:reissue_casepolicy_change", args=[policy.pk]),
        form(office, service_deadline_working_days="3", _confirmed="1"),
    )
    assert response.status_code == 403
    assert CasePolicy.objects.get().service_deadline_working_days == 15


def test_a_clerk_reads_the_rules_but_cannot_add_any(client, clerk, office):
    CasePolicy.objects.create(office=office, effective_from=D(2030, 1, 1))
    client.force_login(clerk)
    assert client.get(LIST).status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form(office)).status_code == 403  # not even the dry run
    with pytest.raises(PermissionDenied):
        policy_services.case_policy_save(
            policy=CasePolicy(office=office, effective_from=D(2031, 4, 1)), acting_user=clerk
        )


def test_a_supervisor_cannot_set_another_offices_rules(client, supervisor, office, other_office):
    client.force_login(supervisor)
    page = client.post(ADD, form(other_office), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Select a valid choice" in page
    assert "data-dry-run" not in page
    with pytest.raises(PermissionDenied):
        policy_services.case_policy_save(
            policy=CasePolicy(office=other_office, effective_from=D(2031, 4, 1)),
            acting_user=supervisor,
        )
    with pytest.raises(PermissionDenied):
        policy_services.policy_dry_run(
            policy=CasePolicy(office=other_office, effective_from=D(2031, 4, 1)),
            acting_user=supervisor,
        )


def test_the_list_shows_only_the_offices_one_sees(client, supervisor, office, other_office):
    CasePolicy.objects.create(office=office, effective_from=D(2030, 1, 1))
    CasePolicy.objects.create(office=other_office, effective_from=D(2030, 2, 1))
    client.force_login(supervisor)
    page = client.get(LIST).content.decode()
    assert f"/admin/reissue/casepolicy/{CasePolicy.objects.get(office=office).pk}/" in page
    assert (
        f"/admin/reissue/casepolicy/{CasePolicy.objects.get(office=other_office).pk}/" not in page
    )


def test_the_rules_read_as_a_sentence():
    policy = CasePolicy(
        pk=7,
        effective_from=D(2031, 4, 1),
        temporary_report_lapse_days=15,
        temporary_report_lapse_in_working_days=True,
        old_card_cancelled_after_days=30,
        temp_card_valid_days=60,
        temp_card_max_valid_days=183,
        service_deadline_working_days=20,
        id_card_issue_days=90,
        card_fee=Decimal("20.00"),
        fee_waivers="最低生活保障对象\n特困人员",
        instant_issuance=False,
    )
    from django.utils import translation

    with translation.override("en"):
        assert policy_services.rules_summary(policy.rules()) == (
            "Rules in force from 2031-04-01: a temporary loss report lapses after 15 working "
            "days, the old card is cancelled 30 days after a formal report, a temporary card is "
            "valid 60 days, extended to at most 183 days, the new SS card within 20 working "
            "days, the police issue the new ID card within 90 days, card fee ¥20.00 (waived "
            "for: 最低生活保障对象, 特困人员), cards ordered from the card bank."
        )


def test_an_extended_card_keeps_its_extension_only_as_far_as_new_rules_allow(
    clerk, supervisor, office
):
    issued_on = TODAY - datetime.timedelta(days=120)
    case = reported_days_ago(clerk=clerk, office=office, days=120, lost_items=LostItems.SS_CARD)
    with time_machine.travel(start_of_day(issued_on) + datetime.timedelta(hours=11), tick=False):
        services.case_issue_temp_card(
            case=case, acting_user=clerk, card_number="T-9", issued_on=issued_on
        )
    extended = issued_on + datetime.timedelta(days=150)
    ReissueCase.objects.filter(pk=case.pk).update(temp_card_valid_until=extended)

    def expired(**values) -> tuple[int, int]:
        policy = CasePolicy(office=office, effective_from=D(2031, 4, 1), **values)
        run = policy_services.policy_dry_run(policy=policy, acting_user=supervisor)
        return run.temp_cards_expired_under_new, run.temp_cards_expired_now

    assert expired(temp_card_max_valid_days=150) == (0, 0)
    assert expired(temp_card_max_valid_days=100) == (1, 0)  # the extension capped at day 100
    assert expired(temp_card_valid_days=121, temp_card_max_valid_days=121) == (0, 0)


def test_the_dry_run_counts_a_deadline_from_a_document_brought_late(clerk, supervisor, office):
    from reissue.models import SecondaryDocument

    case = reported_days_ago(clerk=clerk, office=office, days=14)  # ten working days ago
    policy = CasePolicy(
        office=office, effective_from=D(2031, 4, 1), service_deadline_working_days=5
    )
    assert (
        policy_services.policy_dry_run(policy=policy, acting_user=supervisor).overdue_under_new == 1
    )
    with time_machine.travel(NOW - datetime.timedelta(days=14), tick=False):
        promise = services.case_promise_document(
            case=case, acting_user=clerk, document=SecondaryDocument.ID_COPY, due_on=D(2031, 2, 28)
        )
    with time_machine.travel(NOW - datetime.timedelta(days=4), tick=False):
        services.case_record_document_received(
            promise=promise, acting_user=clerk, received_on=D(2031, 2, 27)
        )
    # Counted from Thursday 27 February: Friday, Monday; in time under five working days.
    assert (
        policy_services.policy_dry_run(policy=policy, acting_user=supervisor).overdue_under_new == 0
    )


def test_the_dry_run_counts_a_lapse_in_working_days(clerk, supervisor, office):
    reported_days_ago(  # Wednesday 26 February
        clerk=clerk,
        office=office,
        days=5,
        lost_items=LostItems.SS_CARD,
        loss_report_kind=LossReportKind.TEMPORARY,
    )

    def lapsed(days: int) -> int:
        policy = CasePolicy(
            office=office,
            effective_from=D(2031, 4, 1),
            temporary_report_lapse_days=days,
            temporary_report_lapse_in_working_days=True,
        )
        return policy_services.policy_dry_run(
            policy=policy, acting_user=supervisor
        ).reports_lapsed_under_new

    # Thu 27, Fri 28, Mon 3: three working days end tonight; two ended on Friday night.
    assert lapsed(3) == 0
    assert lapsed(2) == 1
