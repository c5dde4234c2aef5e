"""The dashboard's daily aggregates: the same figures as the live queries, after every write."""

import datetime
import io
import random
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from claims import services as claim_services
from claims.models import ClaimItem, ClaimState, ExpenseClaim
from reissue import clocks, services
from reissue.case_workflow import CASE_WORKFLOW, CaseFlag
from reissue.models import CaseState, LossReportKind, LostItems, ReissueCase
from reports.daily import rebuild_daily_aggregates
from reports.models import CardDay, CaseDay, ClaimDay
from reports.selectors import (
    Period,
    cases_by_state,
    cases_per_week,
    claim_amounts_per_month,
    daily_case_figures,
    daily_claim_amounts_per_month,
    dashboard_cases,
    dashboard_claims,
    days_to_new_card,
    supervisor_dashboard,
)
from tests.factories import (
    ApplicantFactory,
    OfficeFactory,
    PolicyFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
)
from tests.imports.conftest import import_file
from tests.reports.conftest import PERIOD, local
from workflow import registry

pytestmark = pytest.mark.django_db

D = datetime.date


def live_figures(*, office_ids, period: Period) -> tuple:
    """The dashboard's figures as it computed them before the aggregates: the oracle."""
    cases = dashboard_cases(office_ids=office_ids)
    claims = dashboard_claims(office_ids=office_ids)
    return (
        cases_per_week(cases=cases, period=period),
        cases_by_state(cases=cases, period=period),
        days_to_new_card(cases=cases, period=period),
        claim_amounts_per_month(claims=claims, period=period),
    )


def daily_figures(*, office_ids, period: Period) -> tuple:
    return (
        *daily_case_figures(office_ids=office_ids, period=period),
        daily_claim_amounts_per_month(office_ids=office_ids, period=period),
    )


def periods_around(today: datetime.date) -> list[Period]:
    twelve_weeks = today - datetime.timedelta(weeks=12)
    return [
        Period(twelve_weeks, today),
        Period(today - datetime.timedelta(days=365), today),
        Period(today, today),
        Period(D(2020, 1, 1), today + datetime.timedelta(days=60)),
    ]


def assert_daily_equals_live(office_ids_choices, periods) -> None:
    for office_ids in office_ids_choices:
        for period in periods:
            assert daily_figures(office_ids=office_ids, period=period) == live_figures(
                office_ids=office_ids, period=period
            ), (office_ids, period)


def stored_aggregates() -> dict:
    """Every aggregate row that counts something (a row may stay at zero)."""
    return {
        "cases": {(r.office_id, r.day, r.state): r.cases for r in CaseDay.objects.exclude(cases=0)},
        "cards": {(r.office_id, r.day, r.days): r.cases for r in CardDay.objects.exclude(cases=0)},
        "claims": {
            (r.office_id, r.day): (r.claimed, r.approved, r.paid)
            for r in ClaimDay.objects.all()
            if (r.claimed, r.approved, r.paid) != (0, 0, 0)
        },
    }


def assert_kept_as_rebuilt() -> None:
    """What the writes kept equals what a rebuild from the rows computes."""
    kept = stored_aggregates()
    rebuild_daily_aggregates()
    assert kept == stored_aggregates()


def assert_everything_agrees(*offices, today=None) -> None:
    today = today or timezone.localdate()
    choices = [None, *[[office.pk] for office in offices], [office.pk for office in offices]]
    assert_daily_equals_live(choices, periods_around(today))
    assert_kept_as_rebuilt()


# A generated history: many offices, years, states; written in bulk, then rebuilt -------------


def generated_history(*, cases: int, seed: int = 14) -> list:
    rng = random.Random(seed)
    offices = [OfficeFactory(code=f"G{n}", name=f"Generated {n}") for n in range(3)]
    clerk = UserFactory(username="gen.clerk", role="Clerk", offices=offices)
    applicants = ApplicantFactory.create_batch(cases)
    today = timezone.localdate()
    built, claims = [], []
    for n, applicant in enumerate(applicants):
        reported_at = timezone.now() - datetime.timedelta(
            days=rng.randint(0, 3 * 365), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        reported_on = timezone.localdate(reported_at)
        state = rng.choice(CaseState.values)
        numbered = state in CASE_WORKFLOW.flagged(CaseFlag.CARD_NUMBER_KNOWN)
        # Some cancelled or open cases keep a card date: only the state makes them finished.
        has_card = numbered or rng.random() < 0.1
        card_on = min(reported_on + datetime.timedelta(days=rng.randint(0, 60)), today)
        built.append(
            ReissueCase(
                reference=f"G-{n:06d}",
                applicant=applicant,
                office=rng.choice(offices),
                lost_items=LostItems.BOTH,
                loss_kind="lost",
                loss_date=reported_on - datetime.timedelta(days=1),
                reported_at=reported_at,
                handled_by=clerk,
                state=state,
                cancel_reason="generated" if state == CaseState.CANCELLED else "",
                ss_card_number=f"SSG{n:08d}" if numbered else "",
                ss_card_issued_on=card_on if has_card else None,
                finished_at=None if state in CASE_WORKFLOW.open_states else timezone.now(),
                lapses_at=reported_at + datetime.timedelta(days=15),
            )
        )
    ReissueCase.objects.bulk_create(built)
    for case in built:
        if case.ss_card_issued_on is None or rng.random() < 0.4:
            continue
        claims.append(generated_claim(case, rng, clerk))
    ExpenseClaim.objects.bulk_create([claim for claim, _amounts in claims])
    ClaimItem.objects.bulk_create(
        ClaimItem(
            claim=claim,
            provider="天津医院",
            visit_date=claim.case.loss_date,
            receipt_number=f"{claim.case.reference}-{index}",
            category="outpatient",
            amount=amount,
        )
        for claim, amounts in claims
        for index, amount in enumerate(amounts)
    )
    return offices


def generated_claim(case, rng, clerk) -> tuple:
    state = rng.choice(ClaimState.values)
    card_day = datetime.datetime.combine(case.ss_card_issued_on, datetime.time(23))
    card_at = timezone.make_aware(card_day)  # late: some steps fall past midnight

    def moment(days: int) -> datetime.datetime:
        later = card_at + datetime.timedelta(days=days, minutes=rng.randint(0, 90))
        return min(later, timezone.now())

    amounts = [Decimal(rng.randint(1, 300000)) / 100 for _ in range(rng.randint(0, 3))]
    decided = state in (ClaimState.APPROVED, ClaimState.PAID, ClaimState.REJECTED)
    total = (sum(amounts) * Decimal("0.6")).quantize(Decimal("0.01")) if decided else None
    claim = ExpenseClaim(
        case=case,
        office=case.office,  # bulk inserts skip ExpenseClaim.save()
        state=state,
        entered_by=clerk,
        submitted_at=moment(1) if state != ClaimState.DRAFT else None,
        examined_at=moment(4) if decided else None,
        decision_reason="generated" if state == ClaimState.REJECTED else "",
        eligible_total=total,
        reimbursable_total=total,
        payment_reference=f"PAY-{case.reference}" if state == ClaimState.PAID else "",
        paid_at=moment(9) if state == ClaimState.PAID else None,
    )
    return claim, amounts


def test_daily_figures_equal_the_live_ones_over_a_generated_history():
    offices = generated_history(cases=400)
    rebuild_daily_aggregates()
    today = timezone.localdate()
    choices = [None, [offices[0].pk], [offices[1].pk, offices[2].pk]]
    periods = periods_around(today) + [
        Period(D(today.year - 2, 2, 27), D(today.year - 1, 3, 3)),  # across a year's end
        Period(today - datetime.timedelta(days=30), today - datetime.timedelta(days=25)),
    ]
    assert_daily_equals_live(choices, periods)


def test_rebuilding_twice_gives_the_same_aggregates():
    generated_history(cases=60)
    rebuild_daily_aggregates()
    assert_kept_as_rebuilt()


# Each kind of write keeps them -------------------------------------------------------------


def test_registration_and_each_step_keep_the_aggregates(
    office, other_office, clerk, other_clerk, reviewer, supervisor
):
    PolicyFactory(office=office)
    reported = register_case(clerk=clerk, office=office)
    register_case(clerk=other_clerk, office=other_office)
    assert_everything_agrees(office, other_office)

    served = reissued_case(clerk=clerk, office=office)
    services.case_issue_temp_card(
        case=reported, acting_user=clerk, card_number="T-9", issued_on=timezone.localdate()
    )
    found = register_case(clerk=clerk, office=office)
    services.case_cancel(case=found, acting_user=supervisor, reason="card found")
    assert_everything_agrees(office, other_office)

    claim = claim_with_items(case=served, clerk=clerk, amounts=["300.00", "80.50"])
    assert_everything_agrees(office)
    claim = claim_services.claim_submit(claim=claim, acting_user=clerk)
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)
    assert_everything_agrees(office)
    claim_services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-9")
    assert ExpenseClaim.objects.get(pk=claim.pk).case.state == CaseState.REIMBURSED
    assert_everything_agrees(office, other_office)


def test_the_known_history_reads_the_same_from_the_aggregates(history, office, other_office):
    # The fixture moved reports, cards and claims back in time after the steps (backfills).
    assert_daily_equals_live([None, [office.pk], [other_office.pk]], [PERIOD])
    assert_everything_agrees(office, other_office)


def test_a_clock_step_keeps_the_aggregates(clerk, office):
    reported_at = local(2031, 1, 6, 10)
    with time_machine.travel(reported_at, tick=False):
        case = register_case(
            clerk=clerk,
            office=office,
            lost_items=LostItems.SS_CARD,
            loss_report_kind=LossReportKind.TEMPORARY,
        )
    with time_machine.travel(case.lapses_at, tick=False):
        assert clocks.run_clocks().lapsed == 1
    assert ReissueCase.objects.get(pk=case.pk).state == CaseState.LAPSED
    reported = Period(D(2031, 1, 6), D(2031, 1, 6))
    assert (
        daily_case_figures(office_ids=[office.pk], period=reported)[1][
            CaseState.values.index(CaseState.LAPSED)
        ].count
        == 1
    )
    assert_everything_agrees(office, today=D(2031, 2, 1))


def test_the_legacy_import_keeps_the_aggregates(supervisor, office):
    outcome = import_file("utf8.csv", user=supervisor)
    assert outcome.ok and outcome.created > 0
    weeks = daily_case_figures(office_ids=[office.pk], period=periods_around(D.today())[-1])[0]
    assert sum(week.opened for week in weeks) == outcome.created
    assert_everything_agrees(office)


def test_editing_a_receipt_of_a_submitted_claim_moves_the_amount_claimed(history, office):
    item = ClaimItem.objects.filter(claim__case=history["C"]).get()
    item.amount = Decimal("250.00")
    item.save(update_fields=["amount"])
    october = daily_claim_amounts_per_month(office_ids=[office.pk], period=PERIOD)
    assert [month.claimed for month in october] == [Decimal("250.00"), Decimal("350.00")]
    assert_everything_agrees(office)


def test_a_receipt_removed_takes_its_amount_away(history, clerk, office):
    served = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=served, clerk=clerk, amounts=["20.00", "30.00"])
    claim_services.claim_remove_item(item=claim.items.first(), acting_user=clerk)
    assert_everything_agrees(office)
    # Receipts of a submitted claim are never removed by the application; were one deleted
    # by hand, the amount claimed would follow.
    ClaimItem.objects.filter(claim__case=history["B"]).first().delete()
    assert_everything_agrees(office)


def test_a_case_moved_to_another_office_takes_its_figures_along(history, office, other_office):
    moved = ReissueCase.objects.get(pk=history["B"].pk)
    moved.office = other_office
    moved.save(update_fields=["office"])
    assert_everything_agrees(office, other_office)


def test_a_case_saved_whole_with_its_values_as_typed_counts_as_stored(history, office):
    # A full save's figures come from the case's own values, not read back: values set as
    # text (a date typed as "2026-03-04", the office by its id as text) count as the row
    # the database keeps, its card on that day.
    case = ReissueCase.objects.get(pk=history["C"].pk)  # its card issued 14 days after
    case.ss_card_issued_on = (case.reported_at + datetime.timedelta(days=3)).date().isoformat()
    case.office_id = str(office.pk)
    case.save()
    assert_everything_agrees(office)


def test_a_step_rolled_back_leaves_the_aggregates_untouched(monkeypatch, clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    before = stored_aggregates()

    def fail(obj, *, case):
        raise RuntimeError("the step fails after its save")

    monkeypatch.setitem(registry._step_hooks, ("reissue.reissuecase", "close"), [fail])
    with pytest.raises(RuntimeError):
        services.case_close(case=case, acting_user=clerk)
    assert ReissueCase.objects.get(pk=case.pk).state == CaseState.SS_CARD_REISSUED
    assert stored_aggregates() == before
    assert_everything_agrees(office)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_steps_at_once_on_the_same_day_both_count(clerk, other_clerk, office):
    from tests.reissue.test_concurrency import winner_then_loser

    first = reissued_case(clerk=clerk, office=office)
    second = reissued_case(clerk=clerk, office=office)
    today = timezone.localdate()
    # The loser waits on the winner's aggregate rows, then adds to what the winner committed.
    winner, loser = winner_then_loser(
        lambda: services.case_close(case=first, acting_user=clerk),
        lambda: services.case_close(case=second, acting_user=clerk),
    )
    assert not isinstance(loser, Exception), loser
    states = daily_case_figures(office_ids=[office.pk], period=Period(today, today))[1]
    by_state = {row.state: row.count for row in states}
    assert by_state[CaseState.CLOSED] == 2 and by_state[CaseState.SS_CARD_REISSUED] == 0
    assert_everything_agrees(office)


def test_the_rebuild_command_fills_what_bulk_writes_left_out(history, office, other_office):
    ReissueCase.objects.filter(pk=history["D"].pk).update(  # past the application
        state=CaseState.CANCELLED, cancel_reason="SQL"
    )
    out = io.StringIO()
    call_command("rebuild_dashboard_aggregates", stdout=out)
    assert "Rebuilt the dashboard's daily aggregates" in out.getvalue()
    assert_everything_agrees(office, other_office)


def test_the_dashboard_counts_only_the_users_offices(history, supervisor, auditor, other_office):
    mine = supervisor_dashboard(user=supervisor, period=PERIOD, today=D(2025, 10, 27))
    foreign = supervisor_dashboard(
        user=supervisor, period=PERIOD, office=other_office, today=D(2025, 10, 27)
    )
    everyone = supervisor_dashboard(user=auditor, period=PERIOD, today=D(2025, 10, 27))
    assert mine.weeks[0].opened == 3 and everyone.weeks[0].opened == 4  # X is the other's
    assert sum(row.count for row in foreign.states) == 0  # not his office: nothing of it
    assert foreign.overdue_count == 0
