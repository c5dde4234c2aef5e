"""The case clocks at their boundaries: the moment before, the day of, the day after, across a
public holiday; idempotent; taken by the system account alone."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from reissue import clocks, services
from reissue.case_policy import CasePolicy
from reissue.models import SYSTEM_USERNAME, CaseState, LossReportKind, LostItems, ReissueCase
from tests.factories import register_case
from workdays.calendar import start_of_day
from workdays.models import CalendarDay, DayKind
from workflow.services import WorkflowError

pytestmark = pytest.mark.django_db

D = datetime.date
ONE_SECOND = datetime.timedelta(seconds=1)
# Monday 2031-01-06, 10:00 in the bureau's time zone: a year the holiday package knows nothing
# of, so the only holidays are the ones a test enters.
MONDAY = D(2031, 1, 6)
REPORTED_AT = start_of_day(MONDAY) + datetime.timedelta(hours=10)


def at(day: datetime.date, hours: int = 9) -> datetime.datetime:
    return start_of_day(day) + datetime.timedelta(hours=hours)


def holiday(day: datetime.date) -> CalendarDay:
    return CalendarDay.objects.create(date=day, kind=DayKind.HOLIDAY, name="Invented")


def run(moment: datetime.datetime) -> clocks.ClockRun:
    """Run every clock as the scheduled job would at `moment`."""
    with time_machine.travel(moment, tick=False):
        return clocks.run_clocks()


def report(*, clerk, office, moment=REPORTED_AT, **fields) -> ReissueCase:
    with time_machine.travel(moment, tick=False):
        return register_case(clerk=clerk, office=office, **fields)


def temporary_report(*, clerk, office, moment=REPORTED_AT) -> ReissueCase:
    return report(
        clerk=clerk,
        office=office,
        moment=moment,
        lost_items=LostItems.SS_CARD,
        loss_report_kind=LossReportKind.TEMPORARY,
    )


def steps(case: ReissueCase, name: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(case=case, action=name))


def fresh(case: ReissueCase) -> ReissueCase:
    return ReissueCase.objects.get(pk=case.pk)


def policy(office, **values) -> CasePolicy:
    return CasePolicy.objects.create(office=office, effective_from=D(2030, 1, 1), **values)


# A temporary loss report lapses ----------------------------------------------------------------


def test_a_temporary_report_lapses_at_the_same_time_of_day_n_calendar_days_on(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    assert case.lapses_at == REPORTED_AT + datetime.timedelta(days=15)

    assert run(case.lapses_at - ONE_SECOND).lapsed == 0  # the moment before
    assert fresh(case).state == CaseState.REPORTED_TEMPORARILY
    assert run(case.lapses_at).lapsed == 1  # the moment itself
    lapsed = fresh(case)
    assert lapsed.state == CaseState.LAPSED
    assert lapsed.ss_card_unblocked_at == case.lapses_at
    assert lapsed.finished_at == case.lapses_at


def test_a_temporary_report_lapses_the_day_after_too_if_the_job_did_not_run(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    assert run(case.lapses_at + datetime.timedelta(days=1)).lapsed == 1
    assert fresh(case).state == CaseState.LAPSED


def test_a_holiday_does_not_move_a_lapse_counted_in_calendar_days(clerk, office):
    holiday(MONDAY + datetime.timedelta(days=3))
    case = temporary_report(clerk=clerk, office=office)
    assert case.lapses_at == REPORTED_AT + datetime.timedelta(days=15)


def test_a_lapse_in_working_days_ends_with_the_last_working_day(clerk, office):
    policy(office, temporary_report_lapse_days=3, temporary_report_lapse_in_working_days=True)
    case = temporary_report(clerk=clerk, office=office)
    # Monday's report: Tuesday, Wednesday, Thursday; it holds until Thursday night.
    assert case.lapses_at == start_of_day(D(2031, 1, 10))

    assert run(at(D(2031, 1, 9), 23)).lapsed == 0  # Thursday evening
    assert run(start_of_day(D(2031, 1, 10)) - ONE_SECOND).lapsed == 0
    assert run(start_of_day(D(2031, 1, 10))).lapsed == 1  # Friday's first moment
    assert fresh(case).state == CaseState.LAPSED


def test_a_lapse_in_working_days_skips_a_holiday_and_the_weekend(clerk, office):
    policy(office, temporary_report_lapse_days=4, temporary_report_lapse_in_working_days=True)
    holiday(D(2031, 1, 8))  # Wednesday
    case = temporary_report(clerk=clerk, office=office)
    # Tue 7, (Wed 8 holiday), Thu 9, Fri 10, (weekend), Mon 13: lapses as Tuesday 14 begins.
    assert case.lapses_at == start_of_day(D(2031, 1, 14))
    assert run(at(D(2031, 1, 13), 23)).lapsed == 0
    assert run(at(D(2031, 1, 14), 0)).lapsed == 1


def test_a_temporary_report_made_formal_meanwhile_does_not_lapse(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    with time_machine.travel(REPORTED_AT + datetime.timedelta(days=2), tick=False):
        services.case_update(case=case, acting_user=clerk, data={"presented_id_card": True})
        services.case_formalize_loss_report(case=fresh(case), acting_user=clerk)
    assert run(case.lapses_at + datetime.timedelta(days=1)).lapsed == 0
    assert fresh(case).state == CaseState.REPORTED
    assert steps(case, "lapse_loss_report") == []


def test_a_temporary_report_lifted_meanwhile_does_not_lapse(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    with time_machine.travel(REPORTED_AT + datetime.timedelta(days=1), tick=False):
        services.case_lift_loss_report(
            case=case, acting_user=clerk, reason="found at home", temp_card_returned=False
        )
    assert run(case.lapses_at).lapsed == 0
    assert fresh(case).state == CaseState.LIFTED
    assert steps(case, "lapse_loss_report") == []


# The old card is cancelled after a formal report -------------------------------------------


def test_the_old_card_is_cancelled_on_the_day_set_by_the_city(clerk, office):
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    assert case.old_card_cancel_on == MONDAY + datetime.timedelta(days=15)

    assert (
        run(at(case.old_card_cancel_on - datetime.timedelta(days=1), 23)).old_cards_cancelled == 0
    )
    assert fresh(case).old_card_cancelled_at is None
    assert run(at(case.old_card_cancel_on, 0)).old_cards_cancelled == 1
    cancelled = fresh(case)
    assert cancelled.old_card_cancelled_at == at(case.old_card_cancel_on, 0)
    assert cancelled.state == CaseState.REPORTED  # the case goes on: only the old card ends


def test_the_old_card_is_cancelled_the_day_after_if_the_job_did_not_run(clerk, office):
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    assert run(at(case.old_card_cancel_on + datetime.timedelta(days=1))).old_cards_cancelled == 1


def test_a_holiday_does_not_move_the_cancellation_counted_in_calendar_days(clerk, office):
    holiday(MONDAY + datetime.timedelta(days=2))
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    assert case.old_card_cancel_on == MONDAY + datetime.timedelta(days=15)


def test_a_formalized_report_counts_the_cancellation_from_the_formal_report(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    formal_day = MONDAY + datetime.timedelta(days=4)
    with time_machine.travel(at(formal_day), tick=False):
        services.case_update(case=case, acting_user=clerk, data={"presented_id_card": True})
        services.case_formalize_loss_report(case=fresh(case), acting_user=clerk)
    assert fresh(case).old_card_cancel_on == formal_day + datetime.timedelta(days=15)
    # The temporary report's own (earlier) moment no longer cancels anything.
    assert run(at(formal_day + datetime.timedelta(days=14), 23)).old_cards_cancelled == 0
    assert run(at(formal_day + datetime.timedelta(days=15), 0)).old_cards_cancelled == 1


def test_a_lifted_case_keeps_its_old_card(clerk, office):
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    with time_machine.travel(at(MONDAY + datetime.timedelta(days=3)), tick=False):
        services.case_lift_loss_report(
            case=case, acting_user=clerk, reason="found in a coat", temp_card_returned=False
        )
    assert run(at(case.old_card_cancel_on + datetime.timedelta(days=1))).old_cards_cancelled == 0
    assert fresh(case).old_card_cancelled_at is None
    assert steps(case, "cancel_old_card") == []


def test_an_id_card_only_case_has_no_old_ss_card_to_cancel(clerk, office):
    case = report(clerk=clerk, office=office, lost_items=LostItems.ID_CARD)
    assert case.old_card_cancel_on is None
    assert run(at(MONDAY + datetime.timedelta(days=60))).old_cards_cancelled == 0


# A temporary card expires ---------------------------------------------------------------------


def with_temp_card(*, clerk, office, issued_on=MONDAY) -> ReissueCase:
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    with time_machine.travel(at(issued_on), tick=False):
        return services.case_issue_temp_card(
            case=case, acting_user=clerk, card_number="TMP-0001", issued_on=issued_on
        )


def test_a_temporary_card_is_valid_through_its_last_day_and_expired_the_day_after(clerk, office):
    case = with_temp_card(clerk=clerk, office=office)
    assert case.temp_card_valid_until == MONDAY + datetime.timedelta(days=60)
    last_day = case.temp_card_valid_until

    assert run(at(last_day - datetime.timedelta(days=1))).temp_cards_expired == 0  # day before
    assert run(at(last_day, 23)).temp_cards_expired == 0  # the day itself: still valid
    assert fresh(case).temp_card_expired_at is None
    assert run(at(last_day + datetime.timedelta(days=1), 0)).temp_cards_expired == 1
    assert fresh(case).temp_card_expired_at == at(last_day + datetime.timedelta(days=1), 0)


def test_a_holiday_does_not_move_a_temporary_cards_validity(clerk, office):
    holiday(MONDAY + datetime.timedelta(days=10))
    case = with_temp_card(clerk=clerk, office=office)
    assert case.temp_card_valid_until == MONDAY + datetime.timedelta(days=60)


def test_an_extended_card_expires_at_its_new_end_once_more(clerk, office):
    case = with_temp_card(clerk=clerk, office=office)
    first_end = case.temp_card_valid_until
    assert run(at(first_end + datetime.timedelta(days=1))).temp_cards_expired == 1
    new_end = first_end + datetime.timedelta(days=30)
    with time_machine.travel(at(first_end + datetime.timedelta(days=2)), tick=False):
        services.case_extend_temp_card(case=case, acting_user=clerk, valid_until=new_end)
    assert fresh(case).temp_card_expired_at is None
    assert run(at(new_end, 23)).temp_cards_expired == 0
    assert run(at(new_end + datetime.timedelta(days=1))).temp_cards_expired == 1
    assert len(steps(case, "expire_temp_card")) == 2


def test_a_temporary_card_handed_back_does_not_expire(clerk, office):
    case = with_temp_card(clerk=clerk, office=office)
    with time_machine.travel(at(MONDAY + datetime.timedelta(days=2)), tick=False):
        services.case_lift_loss_report(
            case=case, acting_user=clerk, reason="found", temp_card_returned=True
        )
    assert run(at(case.temp_card_valid_until + datetime.timedelta(days=5))).temp_cards_expired == 0


# The overdue flag -------------------------------------------------------------------------------


def test_a_case_is_flagged_overdue_the_day_after_its_deadline(clerk, office):
    policy(office, service_deadline_working_days=4)
    case = report(clerk=clerk, office=office)
    # Monday's report: Tue, Wed, Thu, Fri: the deadline is Friday 10.
    assert case.service_due_on == D(2031, 1, 10)

    assert run(at(D(2031, 1, 9))).flagged_overdue == 0  # the day before
    assert run(at(D(2031, 1, 10), 23)).flagged_overdue == 0  # the deadline itself
    assert run(at(D(2031, 1, 11), 0)).flagged_overdue == 1  # the day after
    assert fresh(case).overdue_flagged_at == at(D(2031, 1, 11), 0)


def test_a_holiday_in_the_window_gives_the_case_a_day_more(clerk, office):
    policy(office, service_deadline_working_days=4)
    holiday(D(2031, 1, 8))
    case = report(clerk=clerk, office=office)
    # Tue 7, (Wed 8), Thu 9, Fri 10, (weekend), Mon 13.
    assert case.service_due_on == D(2031, 1, 13)
    assert run(at(D(2031, 1, 13), 23)).flagged_overdue == 0
    assert run(at(D(2031, 1, 14))).flagged_overdue == 1


def test_a_case_whose_card_is_out_is_not_flagged(clerk, office):
    policy(office, service_deadline_working_days=4)
    case = report(clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True)
    with time_machine.travel(at(D(2031, 1, 9)), tick=False):
        services.case_reissue_ss_card(
            case=case, acting_user=clerk, card_number="SS-0001", issued_on=D(2031, 1, 9)
        )
    assert run(at(D(2031, 1, 20))).flagged_overdue == 0
    assert fresh(case).overdue_flagged_at is None


def test_a_temporary_report_is_not_overdue_its_deadline_starts_when_made_formal(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    assert case.service_due_on is None
    assert run(case.lapses_at - ONE_SECOND).flagged_overdue == 0


# Idempotent, the system account, no forged calls --------------------------------------------------


def all_clocks_due(*, clerk, office) -> list[ReissueCase]:
    """One case per clock, each due on 2031-03-20."""
    policy(office, service_deadline_working_days=4)
    lapsing = temporary_report(clerk=clerk, office=office, moment=at(D(2031, 3, 1)))
    with_card = with_temp_card(clerk=clerk, office=office)  # also overdue and its card cancelled
    return [lapsing, with_card]


def test_running_the_clocks_twice_changes_nothing_more(clerk, office):
    lapsing, with_card = all_clocks_due(clerk=clerk, office=office)
    moment = at(D(2031, 3, 20))
    first = run(moment)
    assert first == clocks.ClockRun(
        lapsed=1, old_cards_cancelled=1, temp_cards_expired=1, flagged_overdue=1
    )
    entries = AuditEntry.objects.count()
    assert run(moment) == clocks.ClockRun(0, 0, 0, 0)
    assert run(moment + datetime.timedelta(days=3)) == clocks.ClockRun(0, 0, 0, 0)
    assert AuditEntry.objects.count() == entries
    for name, case in [
        ("lapse_loss_report", lapsing),
        ("cancel_old_card", with_card),
        ("expire_temp_card", with_card),
        ("flag_overdue", with_card),
    ]:
        assert len(steps(case, name)) == 1, name


def test_the_audit_entry_names_the_system_account(clerk, office):
    lapsing, with_card = all_clocks_due(clerk=clerk, office=office)
    run(at(D(2031, 3, 20)))
    system = get_user_model().objects.get(username=SYSTEM_USERNAME)
    actions = ["lapse_loss_report", "cancel_old_card", "expire_temp_card", "flag_overdue"]
    entries = AuditEntry.objects.filter(action__in=actions)
    assert entries.count() == 4
    assert {entry.actor_id for entry in entries} == {system.pk}
    lapse = entries.get(action="lapse_loss_report")
    assert (lapse.source_state, lapse.target_state) == ("reported_temporarily", "lapsed")
    # The account cannot log in.
    assert not system.has_usable_password() and not system.is_staff


def test_the_management_command_runs_the_clocks(clerk, office, capsys):
    all_clocks_due(clerk=clerk, office=office)
    with time_machine.travel(at(D(2031, 3, 20)), tick=False):
        call_command("run_clocks")
    out = capsys.readouterr().out
    assert "lapsed 1, old cards cancelled 1, temporary cards expired 1, flagged overdue 1" in out


SERVICES = [
    ("lapse_loss_report", clocks.case_lapse_loss_report),
    ("cancel_old_card", clocks.case_cancel_old_card),
    ("expire_temp_card", clocks.case_expire_temp_card),
    ("flag_overdue", clocks.case_flag_overdue),
]


@pytest.mark.parametrize(("name", "service"), SERVICES)
def test_a_clerk_calling_a_clock_step_is_refused(clerk, office, name, service):
    lapsing, with_card = all_clocks_due(clerk=clerk, office=office)
    case = lapsing if name == "lapse_loss_report" else with_card
    with time_machine.travel(at(D(2031, 3, 20)), tick=False), pytest.raises(PermissionDenied):
        service(case=case, acting_user=clerk)
    assert steps(case, name) == []


@pytest.mark.parametrize(("name", "service"), SERVICES)
def test_a_superuser_calling_a_clock_step_is_refused(clerk, office, name, service):
    root = get_user_model().objects.create_superuser("root", password="pw")
    lapsing, with_card = all_clocks_due(clerk=clerk, office=office)
    case = lapsing if name == "lapse_loss_report" else with_card
    with time_machine.travel(at(D(2031, 3, 20)), tick=False), pytest.raises(PermissionDenied):
        service(case=case, acting_user=root)
    assert steps(case, name) == []


def test_the_system_account_may_take_a_due_step_through_its_service(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    with time_machine.travel(case.lapses_at, tick=False):
        clocks.case_lapse_loss_report(case=case, acting_user=clocks.system_user())
    assert fresh(case).state == CaseState.LAPSED


def test_a_step_not_due_yet_is_refused_even_to_the_system_account(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    system = clocks.system_user()
    with (
        time_machine.travel(case.lapses_at - ONE_SECOND, tick=False),
        pytest.raises(WorkflowError, match="is not due for this case"),
    ):
        clocks.case_lapse_loss_report(case=case, acting_user=system)
    assert fresh(case).state == CaseState.REPORTED_TEMPORARILY


def test_a_case_of_every_office_is_taken(clerk, office, other_clerk, other_office):
    mine = temporary_report(clerk=clerk, office=office)
    theirs = temporary_report(clerk=other_clerk, office=other_office)
    assert run(mine.lapses_at).lapsed == 2
    assert {fresh(mine).state, fresh(theirs).state} == {CaseState.LAPSED}


def test_the_system_account_is_made_once(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    run(case.lapses_at)
    run(case.lapses_at)
    assert get_user_model().objects.filter(username=SYSTEM_USERNAME).count() == 1


def test_now_defaults_to_the_present(clerk, office):
    case = temporary_report(clerk=clerk, office=office)
    with time_machine.travel(case.lapses_at + ONE_SECOND, tick=False):
        assert clocks.run_clocks().lapsed == 1
        assert timezone.now() == case.lapses_at + ONE_SECOND


def test_a_case_the_step_refuses_does_not_stop_the_clock_for_the_others(clerk, office, caplog):
    odd = temporary_report(clerk=clerk, office=office)
    fine = temporary_report(clerk=clerk, office=office)
    # A row an old import left odd: its date of loss lies after the day the clock runs.
    ReissueCase.objects.filter(pk=odd.pk).update(loss_date=D(2031, 12, 31))
    assert run(odd.lapses_at).lapsed == 1
    assert fresh(fine).state == CaseState.LAPSED
    assert fresh(odd).state == CaseState.REPORTED_TEMPORARILY
    assert f"Clock step lapse_loss_report refused for case {odd.pk}" in caplog.text


def test_a_temporary_report_made_formal_cancels_no_ss_card_that_was_not_lost(clerk, office):
    case = report(
        clerk=clerk,
        office=office,
        lost_items=LostItems.ID_CARD,
        loss_report_kind=LossReportKind.TEMPORARY,
    )
    with time_machine.travel(REPORTED_AT + datetime.timedelta(days=1), tick=False):
        services.case_formalize_loss_report(case=case, acting_user=clerk)
    assert fresh(case).old_card_cancel_on is None
    assert run(at(MONDAY + datetime.timedelta(days=40))).old_cards_cancelled == 0
