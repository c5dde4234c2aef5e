"""A holiday entered or removed counts again the service deadline of the cases it falls in."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model

from audit.models import AuditEntry
from reissue import clocks, services
from reissue.case_policy import CasePolicy
from reissue.deadlines import is_overdue
from reissue.models import SYSTEM_USERNAME, LostItems, ReissueCase
from tests.factories import register_case
from workdays import services as calendar_services
from workdays.calendar import add_working_days, start_of_day
from workdays.models import CalendarDay, DayKind

pytestmark = pytest.mark.django_db

D = datetime.date
MONDAY = D(2031, 1, 6)  # a year the holiday package knows nothing of


def at(day: datetime.date, hours: int = 10) -> datetime.datetime:
    return start_of_day(day) + datetime.timedelta(hours=hours)


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", password="pw")


@pytest.fixture
def four_days(office):
    return CasePolicy.objects.create(
        office=office, effective_from=D(2030, 1, 1), service_deadline_working_days=4
    )


@pytest.fixture
def case(clerk, office, four_days):
    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(clerk=clerk, office=office)
    assert case.service_due_on == D(2031, 1, 10)  # Tue, Wed, Thu, Fri
    return case


def enter(root, day: datetime.date, kind=DayKind.HOLIDAY) -> CalendarDay:
    return calendar_services.calendar_day_save(
        day=CalendarDay(date=day, kind=kind, name="Invented"), acting_user=root
    )


def due(case) -> datetime.date:
    return ReissueCase.objects.get(pk=case.pk).service_due_on


def recounts(case) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(case=case, action="deadline_recounted"))


def test_a_holiday_within_the_window_pushes_the_deadline_a_day(root, case):
    enter(root, D(2031, 1, 8))
    assert due(case) == D(2031, 1, 13)  # Thu, Fri, (weekend), Mon
    [entry] = recounts(case)
    assert entry.actor.username == SYSTEM_USERNAME
    assert entry.changes["service_due_on"] == ["2031-01-10", "2031-01-13"]
    assert "2031-01-08" in entry.comment


def test_a_holiday_on_the_deadline_itself_pushes_it_too(root, case):
    enter(root, D(2031, 1, 10))
    assert due(case) == D(2031, 1, 13)


def test_a_holiday_outside_the_window_changes_nothing(root, case):
    enter(root, D(2031, 1, 13))  # after the deadline
    enter(root, D(2031, 1, 6))  # the day of the report: the count starts the day after
    assert due(case) == D(2031, 1, 10)
    assert recounts(case) == []


def test_a_holiday_removed_gives_the_day_back(root, case):
    day = enter(root, D(2031, 1, 8))
    calendar_services.calendar_day_delete(day=day, acting_user=root)
    assert due(case) == D(2031, 1, 10)
    assert len(recounts(case)) == 2


def test_a_make_up_working_day_in_the_window_brings_the_deadline_forward(
    root, clerk, office, four_days
):
    with time_machine.travel(at(D(2031, 1, 8)), tick=False):  # a Wednesday
        case = register_case(clerk=clerk, office=office)
    assert case.service_due_on == D(2031, 1, 14)  # Thu, Fri, Mon, Tue
    enter(root, D(2031, 1, 11), kind=DayKind.MAKEUP_WORKDAY)  # Saturday
    assert due(case) == D(2031, 1, 13)


def test_a_day_moved_to_another_date_recounts_both(root, case):
    day = enter(root, D(2031, 1, 8))
    day.date = D(2031, 1, 20)
    calendar_services.calendar_day_save(day=day, acting_user=root)
    assert due(case) == D(2031, 1, 10)


def test_overdue_follows_the_new_deadline(root, case):
    saturday = at(D(2031, 1, 11))
    with time_machine.travel(saturday, tick=False):
        clocks.run_clocks()
        assert is_overdue(ReissueCase.objects.get(pk=case.pk))
        enter(root, D(2031, 1, 8))  # the deadline is Monday now: not overdue on Saturday
        recounted = ReissueCase.objects.get(pk=case.pk)
        assert not is_overdue(recounted)
        assert recounted.overdue_flagged_at is None
    with time_machine.travel(at(D(2031, 1, 14), 0), tick=False):
        assert clocks.run_clocks().flagged_overdue == 1  # past the new deadline: flagged again
    assert AuditEntry.objects.filter(case=case, action="flag_overdue").count() == 2


def test_a_case_with_its_card_out_keeps_its_deadline(root, clerk, office, four_days):
    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(
            clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
        )
        services.case_reissue_ss_card(
            case=case, acting_user=clerk, card_number="SS-1", issued_on=MONDAY
        )
    enter(root, D(2031, 1, 8))
    assert due(case) == D(2031, 1, 10)
    assert recounts(case) == []


def test_the_deadline_counts_from_a_document_brought_late(root, clerk, office, four_days):
    from reissue.models import SecondaryDocument

    with time_machine.travel(at(MONDAY), tick=False):
        case = register_case(clerk=clerk, office=office)
        promise = services.case_promise_document(
            case=case,
            acting_user=clerk,
            document=SecondaryDocument.ID_COPY,
            due_on=D(2031, 1, 9),
        )
    with time_machine.travel(at(D(2031, 1, 8)), tick=False):
        services.case_record_document_received(
            promise=promise, acting_user=clerk, received_on=D(2031, 1, 8)
        )
    assert due(case) == D(2031, 1, 14)  # from Wednesday: Thu, Fri, Mon, Tue
    enter(root, D(2031, 1, 13))
    assert due(case) == D(2031, 1, 15)


def test_the_admin_entering_a_holiday_recounts(client, root, case):
    client.force_login(root)
    response = client.post(
        "/admin/workdays/calendarday/add/",
        {"date": "2031-01-09", "kind": DayKind.HOLIDAY, "name": "Invented"},
    )
    assert response.status_code == 302
    assert due(case) == D(2031, 1, 13)


def test_seed_holidays_recounts_the_cases_its_days_fall_in(clerk, office):
    # The National Day week of 2026, as if the package had only just published it.
    CalendarDay.objects.filter(date__range=(D(2026, 9, 1), D(2026, 10, 31))).delete()
    with time_machine.travel(at(D(2026, 9, 28)), tick=False):
        case = register_case(clerk=clerk, office=office)
    plain = case.service_due_on
    assert plain == D(2026, 10, 19)  # 15 weekdays, as no holiday was known
    added = calendar_services.published_days_seed()
    assert added
    assert due(case) == add_working_days(D(2026, 9, 28), 15) > plain
    assert len(recounts(case)) == 1
