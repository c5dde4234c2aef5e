"""The dashboard's figures on the known history of tests/reports/conftest.py."""

import datetime
from decimal import Decimal

import pytest

from reissue.case_workflow import CaseState
from reports.selectors import (
    DaysToCard,
    MonthRow,
    WeekRow,
    overdue_cases,
    supervisor_dashboard,
)
from tests.reports.conftest import PERIOD

D = datetime.date


@pytest.fixture
def dashboard(history, supervisor):
    return supervisor_dashboard(user=supervisor, period=PERIOD, today=D(2025, 10, 27))


def test_cases_opened_and_finished_per_week(dashboard):
    # Opened: A B H | C (Monday 00:30 local, Sunday in UTC) | D E | none.
    # Finished: F (card on 1 Oct) | A B | none | C.  The other office's X never counts.
    assert dashboard.weeks == [
        WeekRow(D(2025, 9, 29), opened=3, finished=1),
        WeekRow(D(2025, 10, 6), opened=1, finished=2),
        WeekRow(D(2025, 10, 13), opened=2, finished=0),
        WeekRow(D(2025, 10, 20), opened=0, finished=1),
    ]


def test_counts_by_state_of_the_cases_reported_in_the_period(dashboard):
    counts = {row.state: row.count for row in dashboard.states}
    assert counts == {
        "reported_temporarily": 0,
        "reported": 1,
        "temp_card_issued": 0,  # G was reported before the period
        "id_reissued": 1,
        "card_ordered": 0,
        "card_produced": 0,
        "card_arrived": 0,
        "ss_card_reissued": 1,
        "reimbursed": 1,
        "closed": 1,
        "cancelled": 1,
        "lifted": 0,
        "lapsed": 0,
    }
    assert [row.state for row in dashboard.states] == CaseState.values  # in process order


def test_median_and_90th_percentile_days_to_the_new_card(dashboard):
    # Days of A B C F: 10 10 14 16; interpolated like percentile_cont on both databases.
    assert dashboard.days_to_card == DaysToCard(cases=4, median=12.0, p90=pytest.approx(15.4))


def test_no_percentiles_without_a_finished_case(history, supervisor):
    from reports.selectors import Period

    empty = Period(D(2024, 1, 1), D(2024, 1, 31))
    dashboard = supervisor_dashboard(user=supervisor, period=empty, today=D(2025, 10, 27))
    assert dashboard.days_to_card == DaysToCard(cases=0, median=None, p90=None)


def test_claimed_approved_and_paid_per_month(dashboard):
    # C's 200 claimed on 30 Sep, approved (70) in October; B's 350 claimed, 175 approved, paid.
    assert dashboard.months == [
        MonthRow(D(2025, 9, 1), Decimal("200.00"), Decimal("0.00"), Decimal("0.00")),
        MonthRow(D(2025, 10, 1), Decimal("350.00"), Decimal("245.00"), Decimal("175.00")),
    ]


def test_overdue_list_counts_the_national_day_holidays_and_the_make_up_saturday(
    history, supervisor
):
    from reports.selectors import dashboard_cases, dashboard_office_ids

    cases = dashboard_cases(office_ids=dashboard_office_ids(user=supervisor))
    # H (29 Sep): 15 working days are 30 Sep, 9-11 Oct (Saturday 11 worked), 13-17, 20-24, 27 Oct.
    count, oldest = overdue_cases(cases=cases, today=D(2025, 10, 27))
    assert (count, [row.reference for row in oldest]) == (1, [history["G"].reference])
    count, oldest = overdue_cases(cases=cases, today=D(2025, 10, 28))
    assert [row.reference for row in oldest] == [history["G"].reference, history["H"].reference]
    assert oldest[1].working_days == 16


def test_a_make_up_day_removed_later_moves_no_deadline_already_given(history, supervisor):
    # Each case keeps the deadline its receipt stated (counted at its report): H's 27 Oct,
    # counted with Saturday 11 worked, stays, though that Saturday is no longer a working day.
    from reports.selectors import dashboard_cases, dashboard_office_ids
    from workdays.models import CalendarDay

    CalendarDay.objects.filter(date=D(2025, 10, 11)).delete()  # now a plain Saturday
    count, oldest = overdue_cases(
        cases=dashboard_cases(office_ids=dashboard_office_ids(user=supervisor)),
        today=D(2025, 10, 28),
    )
    assert (count, [row.reference for row in oldest]) == (2, [history[n].reference for n in "GH"])
    # A case reported the same day now would count without that Saturday: one day later.
    from reissue.case_policy import default_rules
    from reissue.deadlines import service_due_on
    from reissue.models import ReissueCase

    assert ReissueCase.objects.get(pk=history["H"].pk).service_due_on == D(2025, 10, 27)
    assert service_due_on(D(2025, 9, 29), default_rules()) == D(2025, 10, 28)


def test_auditor_sees_every_office(history, auditor):
    dashboard = supervisor_dashboard(user=auditor, period=PERIOD, today=D(2025, 10, 27))
    assert dashboard.weeks[0].opened == 4  # A B H and the other office's X


def test_percentiles_interpolate_between_the_ranked_days(clerk, office, supervisor):
    from reports.selectors import Period, dashboard_cases, dashboard_office_ids, days_to_new_card
    from tests.factories import reissued_case
    from tests.reports.conftest import local, set_dates

    for days in [20, 3, 8, 1, 3]:
        case = reissued_case(clerk=clerk, office=office)
        set_dates(case, reported_at=local(2025, 3, 1, 9), card_on=D(2025, 3, 1 + days))
    cases = dashboard_cases(office_ids=dashboard_office_ids(user=supervisor))
    figures = days_to_new_card(cases=cases, period=Period(D(2025, 3, 1), D(2025, 3, 31)))
    # Ranked 1 3 3 8 20: the median is the middle one; the 90th lies 0.6 of the way from 8 to 20.
    assert figures == DaysToCard(cases=5, median=3.0, p90=pytest.approx(15.2))


def test_default_period_is_the_last_twelve_whole_weeks_to_today():
    from reports.forms import default_period

    assert default_period(D(2026, 11, 26)) == (D(2026, 9, 7), D(2026, 11, 26))  # a Thursday
