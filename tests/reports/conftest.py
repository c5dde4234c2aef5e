"""A small known office history for the dashboard, built with the real services.

The period is Monday 29 September to Sunday 26 October 2025: four weeks, with the National Day
holidays (1-8 October) and two make-up working days (Sunday 28 September, Saturday 11 October)
from the seeded calendar. Dates are set after the services ran, as the clock cannot be turned
back for them.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import services as claim_services
from claims.models import ExpenseClaim
from reissue import services
from reissue.models import ReissueCase
from reports.selectors import Period
from tests.factories import PolicyFactory, claim_with_items, register_case, reissued_case

PERIOD = Period(datetime.date(2025, 9, 29), datetime.date(2025, 10, 26))


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def set_dates(case: ReissueCase, *, reported_at, card_on=None) -> None:
    """Move the case's report to `reported_at`, its clocks counted from then (as registering
    it that day would have), and its new card to `card_on`."""
    moved = ReissueCase.objects.get(pk=case.pk)
    moved.reported_at = reported_at
    moved.formal_reported_at = moved.old_card_cancel_on = moved.service_due_on = None
    moved.fill_report_clocks()
    moved.loss_date = reported_at.date()
    moved.ss_card_issued_on = card_on
    moved.save(
        update_fields=[
            "reported_at",
            "loss_date",
            "ss_card_issued_on",
            "formal_reported_at",
            "old_card_cancel_on",
            "service_due_on",
        ]
    )


def set_claim_dates(case: ReissueCase, **dates) -> None:
    """Move the claim's dates (a save: the dashboard's daily aggregates follow)."""
    claim = ExpenseClaim.objects.get(case=case)
    for name, value in dates.items():
        setattr(claim, name, value)
    claim.save(update_fields=list(dates))


@pytest.fixture
def history(office, other_office, clerk, other_clerk, reviewer, supervisor):
    """Cases A..H of DC (and X of PD) with the figures the tests expect:

    A closed (report 29 Sep, card 9 Oct: 10 days)      B reimbursed (30 Sep -> 10 Oct: 10 days)
    C card reissued (Mon 6 Oct 00:30 -> 20 Oct: 14)    D reported 13 Oct, open
    E cancelled, reported 14 Oct                       F closed, reported 15 Sep, card 1 Oct (16)
    G temporary card, reported 10 Sep (overdue)        H ID card reissued, reported 29 Sep 11:00
    X of the other office, reported 1 Oct, open.
    """
    PolicyFactory(office=office)  # deductible 100, outpatient 70 %
    cases = {}
    for name in "ABCF":
        cases[name] = reissued_case(clerk=clerk, office=office)
    for name in "DEGH":
        cases[name] = register_case(clerk=clerk, office=office)
    cases["X"] = register_case(clerk=other_clerk, office=other_office)

    services.case_close(case=cases["A"], acting_user=clerk)
    services.case_close(case=cases["F"], acting_user=clerk)
    services.case_cancel(case=cases["E"], acting_user=supervisor, reason="card found")
    today = timezone.localdate()
    services.case_issue_temp_card(
        case=cases["G"], acting_user=clerk, card_number="T-1", issued_on=today
    )
    services.case_record_id_reissued(case=cases["H"], acting_user=clerk, issued_on=today)

    claim_b = claim_with_items(
        case=cases["B"], clerk=clerk, amounts=["300.00", "50.00"], submit=True
    )
    claim_b = claim_services.claim_approve(claim=claim_b, acting_user=reviewer)  # 175.00
    claim_services.claim_pay(claim=claim_b, acting_user=supervisor, payment_reference="PAY-B")
    claim_c = claim_with_items(case=cases["C"], clerk=clerk, amounts=["200.00"], submit=True)
    claim_services.claim_approve(claim=claim_c, acting_user=reviewer)  # 70.00

    set_dates(cases["A"], reported_at=local(2025, 9, 29, 10), card_on=datetime.date(2025, 10, 9))
    set_dates(cases["B"], reported_at=local(2025, 9, 30, 9), card_on=datetime.date(2025, 10, 10))
    set_dates(
        cases["C"], reported_at=local(2025, 10, 6, 0, 30), card_on=datetime.date(2025, 10, 20)
    )
    set_dates(cases["D"], reported_at=local(2025, 10, 13, 9))
    set_dates(cases["E"], reported_at=local(2025, 10, 14, 9))
    set_dates(cases["F"], reported_at=local(2025, 9, 15, 9), card_on=datetime.date(2025, 10, 1))
    set_dates(cases["G"], reported_at=local(2025, 9, 10, 9))
    set_dates(cases["H"], reported_at=local(2025, 9, 29, 11))
    set_dates(cases["X"], reported_at=local(2025, 10, 1, 9))
    set_claim_dates(
        cases["B"],
        submitted_at=local(2025, 10, 12, 9),
        examined_at=local(2025, 10, 15, 9),
        paid_at=local(2025, 10, 20, 9),
    )
    set_claim_dates(
        cases["C"], submitted_at=local(2025, 9, 30, 16), examined_at=local(2025, 10, 2, 9)
    )
    assert (
        claim_b.items.count() == 2
        and Decimal("175.00") == ExpenseClaim.objects.get(case=cases["B"]).reimbursable_total
    )
    return cases
