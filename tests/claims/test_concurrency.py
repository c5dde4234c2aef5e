"""Paying is money: at the same instant, on PostgreSQL, exactly one payment lands."""

import pytest

from audit.models import AuditEntry
from claims import services
from claims.models import ExpenseClaim
from reissue.models import ReissueCase
from tests.factories import PolicyFactory, UserFactory, claim_with_items, reissued_case
from tests.reissue.test_concurrency import run_together
from workflow.services import WorkflowError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def approved_claim(clerk, reviewer, office):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    return services.claim_approve(claim=claim, acting_user=reviewer)


@pytest.mark.parametrize("same_person", [True, False], ids=["double-click", "two-supervisors"])
def test_concurrent_payments_pay_exactly_once(approved_claim, supervisor, office, same_person):
    second = supervisor if same_person else UserFactory(role="Supervisor", offices=[office])

    def pay(user, reference):
        return lambda: services.claim_pay(
            claim=ExpenseClaim.objects.get(pk=approved_claim.pk),
            acting_user=user,
            payment_reference=reference,
        )

    outcomes = run_together(pay(supervisor, "PAY-A"), pay(second, "PAY-B"))

    paid = [o for o in outcomes if isinstance(o, ExpenseClaim)]
    refused = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(paid) == 1 and len(refused) == 1, outcomes
    assert "already paid" in refused[0].message
    claim = ExpenseClaim.objects.get(pk=approved_claim.pk)
    assert claim.payment_reference == paid[0].payment_reference
    assert ReissueCase.objects.get(pk=claim.case_id).state == "reimbursed"
    assert AuditEntry.objects.filter(action="pay").count() == 1
    assert AuditEntry.objects.filter(action="reimburse").count() == 1


def test_the_same_receipt_in_two_claims_at_once_names_the_case_that_claimed_it(clerk, office):
    from django.core.exceptions import ValidationError

    from tests.reissue.test_concurrency import winner_then_loser

    claims = [
        services.claim_start(case=reissued_case(clerk=clerk, office=office), acting_user=clerk)
        for _ in range(2)
    ]

    def add(claim):
        return lambda: services.claim_add_item(
            claim=claim,
            acting_user=clerk,
            provider="朝阳医院",
            visit_date=claim.case.loss_date,
            receipt_number="R-RACE",
            category="outpatient",
            amount="80.00",
        )

    _won, lost = winner_then_loser(add(claims[0]), add(claims[1]))

    assert isinstance(lost, ValidationError), lost
    reference = claims[0].case.reference
    assert lost.message_dict == {
        "receipt_number": [f"This receipt was already claimed in case {reference}."]
    }


def test_two_clerks_opening_one_cases_claim_at_once_are_told_which_claim(clerk, office):
    from tests.reissue.test_concurrency import winner_then_loser

    case = reissued_case(clerk=clerk, office=office)
    second = UserFactory(role="Clerk", offices=[office])

    opened, lost = winner_then_loser(
        lambda: services.claim_start(case=case, acting_user=clerk),
        lambda: services.claim_start(case=case, acting_user=second),
    )

    assert isinstance(lost, services.ClaimAlreadyOpened), lost
    assert lost.claim.pk == opened.pk and ExpenseClaim.objects.count() == 1
