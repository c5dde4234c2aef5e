"""The case page's timeline: where a case stands, both cards' clocks, in date order."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from reissue import clocks, services
from reissue.case_policy import CasePolicy
from reissue.models import LossReportKind, LostItems, ReissueCase
from tests.factories import register_case
from workdays.calendar import start_of_day

pytestmark = pytest.mark.django_db

D = datetime.date
MONDAY = D(2031, 3, 3)


def at(day: datetime.date, hours: int = 10) -> datetime.datetime:
    return start_of_day(day) + datetime.timedelta(hours=hours)


def timeline_seen(client, user, case, day: datetime.date, language="en") -> tuple[list, str]:
    """Return [(day, key, status)] of the timeline as `user` sees it on `day`, and the page."""
    with time_machine.travel(at(day, 12), tick=False):
        client.force_login(user)  # a session of that day
        response = client.get(
            reverse("admin:reissue_reissuecase_change", args=[case.pk]),
            HTTP_ACCEPT_LANGUAGE=language,
        )
    page = response.content.decode()
    rows = re.findall(
        r'data-moment="(\w+)" data-status="(\w+)">\s*<time datetime="([\d-]+)">', page
    )
    return [(day, key, status) for key, status, day in rows], page


@pytest.fixture
def both_lost(clerk, office):
    """ID and SS card lost on 2031-02-28, reported Monday 3 March, temporary card that day."""
    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(clerk=clerk, office=office, loss_date=D(2031, 2, 28))
        return services.case_issue_temp_card(
            case=case, acting_user=clerk, card_number="T-1", issued_on=MONDAY
        )


def test_a_clerk_sees_both_clocks_in_date_order(client, clerk, both_lost):
    rows, page = timeline_seen(client, clerk, both_lost, MONDAY + datetime.timedelta(days=1))
    assert rows == [
        ("2031-02-28", "loss", "done"),
        ("2031-03-03", "formal_report", "done"),
        ("2031-03-03", "temp_card", "done"),
        ("2031-03-18", "old_card", "due"),  # 15 days on
        ("2031-03-24", "service_deadline", "due"),  # 15 working days on
        ("2031-05-02", "temp_card_valid", "due"),  # 60 days
        ("2031-05-02", "id_card", "due"),  # the police's 60 days
        ("2031-09-02", "temp_card_latest", "due"),  # 183 days at most
    ]
    assert "police issue the new ID card (within 60 days)" in page
    assert "a temporary ID card is valid three months" in page
    assert "Medical cover gap" not in page


def test_what_is_past_its_day_reads_overdue_and_the_gap_in_cover_is_flagged(
    client, clerk, both_lost
):
    rows, page = timeline_seen(client, clerk, both_lost, D(2031, 5, 3))
    status = {key: state for _day, key, state in rows}
    assert status["service_deadline"] == "overdue"
    assert status["temp_card_valid"] == "overdue"
    assert status["id_card"] == "overdue"
    assert status["old_card"] == "overdue"  # the clock has not run in this test
    assert 'data-flag="medical-cover-gap"' in page
    assert "Medical cover gap" in page


def test_an_extension_closes_the_gap(client, clerk, both_lost):
    with time_machine.travel(at(D(2031, 5, 2)), tick=False):
        services.case_extend_temp_card(
            case=both_lost, acting_user=clerk, valid_until=D(2031, 6, 30)
        )
    rows, page = timeline_seen(client, clerk, both_lost, D(2031, 5, 3))
    assert ("2031-06-30", "temp_card_valid", "due") in rows
    assert "Medical cover gap" not in page


def test_done_steps_carry_their_own_dates(client, clerk, both_lost):
    with time_machine.travel(at(D(2031, 3, 10)), tick=False):
        case = services.case_record_id_reissued(
            case=both_lost, acting_user=clerk, issued_on=D(2031, 3, 10)
        )
        services.case_update(case=case, acting_user=clerk, data={"presented_id_card": True})
        case = services.case_order_card(
            case=ReissueCase.objects.get(pk=case.pk), acting_user=clerk, ordered_on=D(2031, 3, 10)
        )
    with time_machine.travel(at(D(2031, 3, 14)), tick=False):
        case = services.case_record_card_produced(
            case=case, acting_user=clerk, card_number="SS-1", produced_on=D(2031, 3, 14)
        )
        case = services.case_record_card_arrived(
            case=case, acting_user=clerk, arrived_on=D(2031, 3, 14)
        )
    with time_machine.travel(at(D(2031, 3, 18), 0), tick=False):
        clocks.run_clocks()  # the old card is cancelled
    with time_machine.travel(at(D(2031, 3, 20)), tick=False):
        services.case_collect_card(
            case=case,
            acting_user=clerk,
            collected_by="applicant",
            collector_name=case.applicant.name,
            collector_id_checked=True,
            collected_on=D(2031, 3, 20),
            temp_card_returned=True,
        )
    rows, _page = timeline_seen(client, clerk, case, D(2031, 4, 1))
    assert rows == [
        ("2031-02-28", "loss", "done"),
        ("2031-03-03", "formal_report", "done"),
        ("2031-03-03", "temp_card", "done"),
        ("2031-03-10", "id_card", "done"),
        ("2031-03-10", "card_ordered", "done"),
        ("2031-03-14", "card_produced", "done"),
        ("2031-03-14", "card_arrived", "done"),
        ("2031-03-18", "old_card", "done"),
        ("2031-03-20", "card_collected", "done"),
        ("2031-03-24", "service_deadline", "done"),
        ("2031-05-02", "temp_card_valid", "done"),  # handed back
    ]


def test_a_temporary_report_shows_when_it_lapses(client, clerk, office):
    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(
            clerk=clerk,
            office=office,
            lost_items=LostItems.SS_CARD,
            loss_report_kind=LossReportKind.TEMPORARY,
        )
    rows, page = timeline_seen(client, clerk, case, MONDAY)
    assert ("2031-03-03", "temporary_report", "done") in rows
    assert ("2031-03-18", "lapse", "due") in rows
    assert "temporary report lapses (unless made formal)" in page
    assert not any(key == "service_deadline" for _d, key, _s in rows)


def test_the_case_page_says_which_rules_the_case_is_handled_under(client, clerk, office):
    CasePolicy.objects.create(
        office=office, effective_from=D(2030, 1, 1), service_deadline_working_days=20
    )
    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(clerk=clerk, office=office)
    # Rules changed later do not change the case's.
    CasePolicy.objects.create(
        office=office, effective_from=D(2031, 3, 4), service_deadline_working_days=5
    )
    _rows, page = timeline_seen(client, clerk, case, D(2031, 3, 5))
    assert "Handled under" in page
    assert "Rules in force from 2030-01-01:" in page
    assert "the new SS card within 20 working days" in page


def test_the_timeline_reads_in_chinese(client, clerk, both_lost):
    _rows, page = timeline_seen(client, clerk, both_lost, D(2031, 5, 3), language="zh-hans")
    assert "时间线" in page
    assert "<strong>医疗保障空档</strong>：临时卡已过期" in page
    assert "临时身份证有效期三个月" in page
    assert "办理依据：默认规则（未录入本市办事规则）：临时挂失15天后失效，" in page
    assert "已逾期" in page
