"""The work queue's counts of what the clocks bring to the counter, each linking to its list."""

import datetime

import pytest
import time_machine
from django.db import connection

from reissue import services
from reissue.models import LossReportKind, LostItems, ReissueCase
from tests.counter.test_work_queue import listed, queue_of
from tests.factories import register_case
from workdays.calendar import start_of_day

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2031, 3, 3)  # a Monday
NOW = start_of_day(TODAY) + datetime.timedelta(hours=10)
KEYS = {"temp_card_expiring", "temp_card_expired", "cover_gap", "lapsing", "collection"}


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=False):
        yield


def temp_card(*, clerk, office, valid_until: datetime.date) -> ReissueCase:
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number=f"T-{case.pk}", issued_on=TODAY
    )
    ReissueCase.objects.filter(pk=case.pk).update(temp_card_valid_until=valid_until)
    return case


def temporary_report(*, clerk, office, lapses_in: datetime.timedelta) -> ReissueCase:
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.SS_CARD,
        loss_report_kind=LossReportKind.TEMPORARY,
    )
    ReissueCase.objects.filter(pk=case.pk).update(lapses_at=NOW + lapses_in)
    return case


def arrived(*, clerk, office) -> ReissueCase:
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    case = services.case_order_card(case=case, acting_user=clerk, ordered_on=TODAY)
    case = services.case_record_card_produced(
        case=case, acting_user=clerk, card_number=f"SS-{case.pk}", produced_on=TODAY
    )
    return services.case_record_card_arrived(case=case, acting_user=clerk, arrived_on=TODAY)


@pytest.fixture
def cases(clerk, supervisor, office, other_clerk, other_office):
    week = datetime.timedelta(days=7)
    day = datetime.timedelta(days=1)
    expires_today = temp_card(clerk=clerk, office=office, valid_until=TODAY)
    expires_in_a_week = temp_card(clerk=clerk, office=office, valid_until=TODAY + week)
    expires_in_eight_days = temp_card(clerk=clerk, office=office, valid_until=TODAY + week + day)
    expired_yesterday = temp_card(clerk=clerk, office=office, valid_until=TODAY - day)
    # Cancelled with the temporary card still out: to be taken back, but no cover to restore.
    kept_by_a_cancelled_case = temp_card(clerk=clerk, office=office, valid_until=TODAY - day)
    services.case_cancel(case=kept_by_a_cancelled_case, acting_user=supervisor, reason="moved")
    lapses_in_two_days = temporary_report(
        clerk=clerk, office=office, lapses_in=datetime.timedelta(days=2)
    )
    lapses_later = temporary_report(
        clerk=clerk, office=office, lapses_in=datetime.timedelta(days=2, seconds=1)
    )
    waiting_for_collection = arrived(clerk=clerk, office=office)
    other_office_expired = temp_card(
        clerk=other_clerk, office=other_office, valid_until=TODAY - day
    )
    other_office_arrived = arrived(clerk=other_clerk, office=other_office)
    return {name: case for name, case in locals().items() if isinstance(case, ReissueCase)}


EXPECTED = {
    "temp_card_expiring": {"expires_today", "expires_in_a_week"},
    "temp_card_expired": {"expired_yesterday", "kept_by_a_cancelled_case"},
    "cover_gap": {"expired_yesterday"},
    "lapsing": {"lapses_in_two_days"},
    "collection": {"waiting_for_collection"},
}


def test_a_clerk_sees_the_counts_of_their_offices_and_each_link_lists_those_cases(
    client, clerk, cases
):
    queue = queue_of(client, clerk)
    assert set(queue) >= KEYS
    for key, names in EXPECTED.items():
        count, link = queue[key]
        assert count == len(names), key
        assert link.endswith(f"?clock={key}")
        assert listed(client, link, cases.values()) == {cases[n].reference for n in names}, key


def test_the_labels_say_what_to_do(client, clerk, cases):
    client.force_login(clerk)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in [
        "Temporary cards expiring within 7 days",
        "Temporary cards expired, not handed back",
        "Without medical cover (temporary card expired, new card not collected)",
        "Temporary loss reports lapsing within 2 days",
        "New cards waiting for collection",
    ]:
        assert label in page


def test_the_other_office_sees_only_its_own(client, other_clerk, cases):
    queue = queue_of(client, other_clerk)
    assert queue["temp_card_expired"][0] == 1
    assert queue["cover_gap"][0] == 1
    assert queue["collection"][0] == 1
    assert queue["lapsing"][0] == 0


def test_a_reviewer_gets_no_counter_counts(client, reviewer, cases):
    assert not KEYS & set(queue_of(client, reviewer))


def test_the_filter_is_offered_on_the_case_list_in_chinese(client, clerk, cases):
    client.force_login(clerk)
    page = client.get("/admin/reissue/reissuecase/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "医疗保障空档" in text
    assert "?clock=collection" in text


@pytest.mark.postgres
@pytest.mark.parametrize("key", sorted(KEYS))
def test_each_filter_is_read_from_an_index(key):
    from reissue.admin_filters import clock_filters

    condition = clock_filters()[key][1]()
    query = ReissueCase.objects.filter(condition)[:1000].values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
