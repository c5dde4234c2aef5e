import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEntry
from claims import services
from claims.models import ClaimItem, ExpenseClaim
from reissue import services as case_services
from tests.factories import (
    PolicyFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
)


@pytest.fixture
def policy(office):
    return PolicyFactory(office=office)


@pytest.fixture
def case(clerk, office, policy):
    return reissued_case(clerk=clerk, office=office)


def test_the_whole_way_from_receipts_to_a_reimbursed_case(case, clerk, reviewer, supervisor):
    claim = claim_with_items(case=case, clerk=clerk, amounts=["300.00", "50.00"], submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    # (350 - 100 deductible) x 0.7, the deductible taken from the earlier receipt first
    assert claim.reimbursable_total == Decimal("175.00")
    assert claim.policy_snapshot["deductible"] == "100.00"
    claim = services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-001")

    case.refresh_from_db()
    assert (claim.state, case.state) == ("paid", "reimbursed")
    actions = list(AuditEntry.objects.filter(case=case).values_list("action", flat=True))
    assert actions[-6:] == [
        "receipt_added",
        "receipt_added",
        "submit",
        "approve",
        "pay",
        "reimburse",
    ]


def test_a_later_policy_change_never_alters_a_decided_claim(case, clerk, reviewer, policy):
    claim = claim_with_items(case=case, clerk=clerk, amounts=["300.00"], submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    type(policy).objects.filter(pk=policy.pk).update(rate_outpatient=Decimal("0.1"))
    claim.refresh_from_db()
    assert claim.reimbursable_total == Decimal("140.00")
    assert claim.items.get().reimbursable_amount == Decimal("140.00")


def test_a_policy_applied_to_a_decision_cannot_be_edited(case, clerk, reviewer, supervisor, policy):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    services.claim_approve(claim=claim, acting_user=reviewer)
    policy.deductible = Decimal("0")
    with pytest.raises(case_services.WorkflowError, match="add a new one"):
        services.policy_save(policy=policy, acting_user=supervisor)


@pytest.mark.parametrize("decide", [services.claim_approve, services.claim_reject])
def test_four_eyes_whoever_entered_a_claim_cannot_decide_it(case, office, decide):
    both = UserFactory(role="Reviewer", offices=[office])
    both.groups.add(Group.objects.get(name="Clerk"))  # a reviewer who also enters claims
    claim = claim_with_items(case=case, clerk=both, submit=True)
    with pytest.raises(PermissionDenied, match="another person must examine"):
        decide(claim=claim, acting_user=both, reason="mine")
    assert ExpenseClaim.objects.get(pk=claim.pk).state == "submitted"


def test_clerks_cannot_approve_and_reviewers_cannot_pay(case, clerk, reviewer, supervisor):
    other_clerk = UserFactory(role="Clerk", offices=[case.office])
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    with pytest.raises(PermissionDenied):
        services.claim_approve(claim=claim, acting_user=other_clerk)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    with pytest.raises(PermissionDenied):
        services.claim_pay(claim=claim, acting_user=reviewer, payment_reference="PAY-X")


def test_reject_needs_a_reason_and_then_the_case_can_close(case, clerk, reviewer):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    with pytest.raises(ValidationError):
        services.claim_reject(claim=claim, acting_user=reviewer, reason=" ")
    services.claim_reject(claim=claim, acting_user=reviewer, reason="receipts not original")
    case = case_services.case_close(case=case, acting_user=clerk)
    assert case.state == "closed"


def test_a_case_with_an_open_claim_cannot_close(case, clerk):
    claim_with_items(case=case, clerk=clerk)
    with pytest.raises(case_services.WorkflowError, match="still open"):
        case_services.case_close(case=case, acting_user=clerk)


def test_the_case_reaches_reimbursed_only_with_the_payment(case, clerk, reviewer, supervisor):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    services.claim_approve(claim=claim, acting_user=reviewer)
    with pytest.raises(case_services.WorkflowError, match="not been paid"):
        case_services.case_reimburse(case=case, acting_user=supervisor)


def test_payment_waits_for_the_new_ss_card(clerk, reviewer, supervisor, office, policy):
    case = register_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    with pytest.raises(case_services.WorkflowError, match="SS card must be reissued"):
        services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-002")
    assert ExpenseClaim.objects.get(pk=claim.pk).state == "approved"


def test_a_failed_case_step_rolls_the_payment_back(case, clerk, reviewer, supervisor):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    supervisor.groups.get(name="Supervisor").permissions.remove(
        *supervisor.groups.get().permissions.filter(codename="reimburse_case")
    )
    supervisor = type(supervisor).objects.get(pk=supervisor.pk)  # drop the permission cache
    with pytest.raises(PermissionDenied):
        services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-003")
    claim.refresh_from_db()
    case.refresh_from_db()
    assert (claim.state, claim.payment_reference, case.state) == (
        "approved",
        "",
        "ss_card_reissued",
    )
    assert not AuditEntry.objects.filter(action="pay").exists()


def test_paying_twice_pays_once(case, clerk, reviewer, supervisor):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-004")
    with pytest.raises(
        case_services.WorkflowError, match=r"already paid \(payment reference PAY-004"
    ):
        services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-005")
    assert ExpenseClaim.objects.get(pk=claim.pk).payment_reference == "PAY-004"


def test_one_claim_per_case(case, clerk):
    claim_with_items(case=case, clerk=clerk)
    with pytest.raises(case_services.WorkflowError, match="already has an expense claim"):
        services.claim_start(case=case, acting_user=clerk)


def test_receipts_change_only_in_a_draft(case, clerk, reviewer, supervisor):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    item = claim.items.get()
    with pytest.raises(case_services.WorkflowError, match="only while the claim is a draft"):
        services.claim_change_item(item=item, acting_user=clerk, data={"amount": Decimal(1)})
    with pytest.raises(case_services.WorkflowError):
        services.claim_remove_item(item=item, acting_user=supervisor)
    assert ClaimItem.objects.get(pk=item.pk).amount == Decimal("200.00")


def test_the_same_receipt_is_never_claimed_twice(case, clerk, office, supervisor, policy):
    first = claim_with_items(case=case, clerk=clerk)
    receipt = first.items.get()
    other_case = reissued_case(clerk=clerk, office=office)
    second = services.claim_start(case=other_case, acting_user=clerk)
    with pytest.raises(ValidationError, match=f"already claimed in case {case.reference}"):
        services.claim_add_item(
            claim=second,
            acting_user=clerk,
            provider=" 北京协和医院 ",  # blanks do not make it another hospital
            visit_date=receipt.visit_date,
            receipt_number=receipt.receipt_number.lower(),
            category="pharmacy",
            amount=Decimal("10.00"),
        )


def test_a_duplicate_from_another_office_does_not_name_its_case(
    case, clerk, other_clerk, other_office
):
    receipt = claim_with_items(case=case, clerk=clerk).items.get()
    PolicyFactory(office=other_office)
    other_case = reissued_case(clerk=other_clerk, office=other_office)
    claim = services.claim_start(case=other_case, acting_user=other_clerk)
    with pytest.raises(ValidationError) as refused:
        services.claim_add_item(
            claim=claim,
            acting_user=other_clerk,
            provider=receipt.provider,
            visit_date=receipt.visit_date,
            receipt_number=receipt.receipt_number,
            category="outpatient",
            amount=Decimal("5.00"),
        )
    assert "another office" in str(refused.value) and case.reference not in str(refused.value)


def test_the_database_refuses_a_duplicate_receipt(case, clerk):
    receipt = claim_with_items(case=case, clerk=clerk).items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimItem.objects.create(
            claim=receipt.claim,
            provider=receipt.provider,
            visit_date=receipt.visit_date,
            receipt_number=receipt.receipt_number,
            category="outpatient",
            amount=Decimal("1"),
        )


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00")])
def test_amounts_must_be_positive(case, clerk, amount):
    claim = services.claim_start(case=case, acting_user=clerk)
    with pytest.raises(ValidationError):
        services.claim_add_item(
            claim=claim,
            acting_user=clerk,
            provider="医院",
            visit_date=case.loss_date,
            receipt_number="R-NEG",
            category="outpatient",
            amount=amount,
        )
    assert not claim.items.exists()


def test_approval_needs_a_policy_in_effect(clerk, reviewer, office):
    PolicyFactory(office=office, effective_from=datetime.date.today() + datetime.timedelta(1))
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    with pytest.raises(case_services.WorkflowError, match="No reimbursement policy"):
        services.claim_approve(claim=claim, acting_user=reviewer)


def test_submitting_an_empty_claim_is_refused_with_the_reason(case, clerk):
    claim = services.claim_start(case=case, acting_user=clerk)
    with pytest.raises(case_services.WorkflowError, match="at least one receipt"):
        services.claim_submit(claim=claim, acting_user=clerk)


def test_a_receipt_claimed_under_a_pharmacy_typed_with_ascii_brackets_is_refused(case, clerk):
    claim = claim_with_items(case=case, clerk=clerk, amounts=())
    receipt = {
        "visit_date": case.loss_date,
        "receipt_number": "RX-7",
        "category": "pharmacy",
        "amount": Decimal("20.00"),
    }
    services.claim_add_item(
        claim=claim, acting_user=clerk, provider="同仁堂（和平里店）", **receipt
    )
    with pytest.raises(ValidationError) as refused:
        services.claim_add_item(
            claim=claim, acting_user=clerk, provider="同仁堂(和平里店)", **receipt
        )
    assert "receipt_number" in refused.value.message_dict
    assert ClaimItem.objects.get(claim=claim).provider == "同仁堂（和平里店）"


def test_every_claim_state_tells_the_case_where_its_reimbursement_stands():
    # A claim state the case cannot read would leave its slip, queue and close step guessing.
    from claims.models import STAGE_OF_STATE, ClaimState

    assert set(STAGE_OF_STATE) == set(ClaimState)
