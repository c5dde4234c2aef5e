"""Working days and the service deadline, across public holidays and make-up working days."""

import datetime
import io

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from reissue.deadlines import is_overdue
from reissue.models import CaseState, ReissueCase
from workdays.calendar import (
    add_working_days,
    overdue_cutoff,
    service_deadline,
    start_of_day,
    working_days_between,
)
from workdays.models import CalendarDay, DayKind

D = datetime.date

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_calendar(db):
    """An invented year the package knows nothing about: 2031, with one holiday and one
    make-up working day in the week of 6 January."""
    CalendarDay.objects.create(date=D(2031, 1, 8), kind=DayKind.HOLIDAY, name="Invented")
    CalendarDay.objects.create(date=D(2031, 1, 11), kind=DayKind.MAKEUP_WORKDAY, name="Invented")


def test_a_plain_week_has_five_working_days():
    # Monday 2031-01-13 .. Sunday 2031-01-19, nothing entered.
    assert working_days_between(D(2031, 1, 12), D(2031, 1, 19)) == 5


def test_a_holiday_does_not_count_and_a_make_up_saturday_does(own_calendar):
    # Mon 6 .. Sun 12 January 2031: Wednesday 8 is a holiday, Saturday 11 a working day.
    assert working_days_between(D(2031, 1, 5), D(2031, 1, 12)) == 5
    assert working_days_between(D(2031, 1, 7), D(2031, 1, 8)) == 0
    assert working_days_between(D(2031, 1, 10), D(2031, 1, 11)) == 1


def test_no_working_days_when_the_end_is_not_after_the_start():
    assert working_days_between(D(2031, 1, 9), D(2031, 1, 9)) == 0
    assert working_days_between(D(2031, 1, 9), D(2031, 1, 2)) == 0


def test_deadline_skips_the_holiday_and_uses_the_make_up_day(own_calendar, settings):
    settings.SERVICE_DEADLINE_WORKING_DAYS = 4
    # Reported Monday 6: Tue 7, (Wed 8 holiday), Thu 9, Fri 10, Sat 11 (make-up) -> Saturday.
    assert service_deadline(D(2031, 1, 6)) == D(2031, 1, 11)
    assert add_working_days(D(2031, 1, 6), 0) == D(2031, 1, 6)


def test_a_case_is_overdue_from_the_day_after_its_deadline(own_calendar, settings):
    settings.SERVICE_DEADLINE_WORKING_DAYS = 4
    reported_at = start_of_day(D(2031, 1, 6)) + datetime.timedelta(hours=15)
    case = ReissueCase(reported_at=reported_at, state=CaseState.TEMP_CARD_ISSUED)
    case.fill_report_clocks()  # as on registration: the deadline kept on the case
    assert case.service_due_on == D(2031, 1, 11)
    assert not is_overdue(case, today=D(2031, 1, 11))
    assert is_overdue(case, today=D(2031, 1, 12))
    # The card is out: the deadline was about the card, not the reimbursement.
    served = ReissueCase(reported_at=reported_at, state=CaseState.SS_CARD_REISSUED)
    served.fill_report_clocks()
    assert not is_overdue(served, today=D(2031, 1, 12))


def test_cutoff_is_the_earliest_report_date_still_within_the_deadline(own_calendar, settings):
    settings.SERVICE_DEADLINE_WORKING_DAYS = 4
    # Today Monday 13: cases reported on the 7th (deadline Monday 13) are in time; the 6th not.
    assert overdue_cutoff(D(2031, 1, 13)) == D(2031, 1, 7)
    # Today Sunday 12: Saturday 11 was the 6th's deadline, so the 6th is overdue from today.
    assert overdue_cutoff(D(2031, 1, 12)) == D(2031, 1, 7)


def test_default_deadline_is_fifteen_working_days():
    # Reported Friday 2031-01-03, no exceptions entered: three weeks later, Friday 24.
    assert service_deadline(D(2031, 1, 3)) == D(2031, 1, 24)


def test_published_holidays_are_seeded_from_the_package():
    # 2025 National Day: 1-8 October off, Sunday 28 September and Saturday 11 October worked.
    assert CalendarDay.objects.get(date=D(2025, 10, 3)).kind == DayKind.HOLIDAY
    assert CalendarDay.objects.get(date=D(2025, 9, 28)).kind == DayKind.MAKEUP_WORKDAY
    # Sat 27 Sep .. Sun 12 Oct: Sun 28, Mon 29, Tue 30 Sep, Thu 9, Fri 10, Sat 11 Oct.
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 12)) == 6


@hypothesis_settings(max_examples=30, deadline=None)
@given(
    reported=st.dates(D(2024, 1, 1), D(2026, 6, 30)),
    working_days=st.integers(0, 25),
    days_later=st.integers(0, 60),
)
def test_cutoff_agrees_with_the_deadline_of_each_report_date(reported, working_days, days_later):
    from django.test import override_settings

    today = reported + datetime.timedelta(days=days_later)
    with override_settings(SERVICE_DEADLINE_WORKING_DAYS=working_days):
        past_deadline = service_deadline(reported) < today
        assert (reported < overdue_cutoff(today)) == past_deadline


def test_seed_command_adds_missing_days_and_keeps_corrections():
    from django.core.management import call_command

    CalendarDay.objects.filter(date=D(2025, 10, 3)).delete()
    CalendarDay.objects.filter(date=D(2025, 10, 2)).update(name="Corrected")
    call_command("seed_holidays", stdout=io.StringIO())
    assert CalendarDay.objects.get(date=D(2025, 10, 3)).kind == DayKind.HOLIDAY
    assert CalendarDay.objects.get(date=D(2025, 10, 2)).name == "Corrected"


def test_seeding_records_each_day_it_adds_as_a_system_action():
    from importlib.metadata import version

    from workdays.services import published_days_seed

    CalendarDay.objects.filter(date__in=[D(2025, 10, 3), D(2025, 10, 6)]).delete()
    CalendarDay.objects.filter(date=D(2025, 10, 2)).update(name="Corrected")
    added = published_days_seed()
    assert [day.date for day in added] == [D(2025, 10, 3), D(2025, 10, 6)]
    entries = AuditEntry.objects.filter(content_type__model="calendarday")
    assert sorted(entries.values_list("object_id", flat=True)) == [day.pk for day in added]
    entry = entries.get(object_id=added[0].pk)
    assert (entry.action, entry.actor, entry.case) == ("added", None, None)
    assert f"chinesecalendar {version('chinesecalendar')}" in entry.comment
    assert entry.changes == {
        "date": ["", "2025-10-03"],
        "kind": ["", "holiday"],
        "name": ["", "National Day"],
    }


def test_the_seed_command_is_audited_and_a_second_run_adds_nothing():
    from django.core.management import call_command

    CalendarDay.objects.filter(date=D(2025, 10, 3)).delete()
    out = io.StringIO()
    call_command("seed_holidays", stdout=out)
    assert out.getvalue().startswith("1 days entered")
    call_command("seed_holidays", stdout=io.StringIO())
    day = CalendarDay.objects.get(date=D(2025, 10, 3))
    assert list(
        AuditEntry.objects.filter(content_type__model="calendarday").values_list(
            "object_id", "action"
        )
    ) == [(day.pk, "added")]


def test_a_year_without_holidays_is_pointed_out():
    from workdays.calendar import years_without_calendar

    assert years_without_calendar(D(2025, 6, 1)) == []
    assert years_without_calendar(D(2026, 12, 1)) == [2027]  # the package stops at 2026
    CalendarDay.objects.create(date=D(2027, 1, 1), kind=DayKind.HOLIDAY, name="New Year")
    assert years_without_calendar(D(2026, 12, 1)) == []
