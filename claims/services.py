"""Writes on expense claims: receipts, the four-eyes decision, and the one-time payment."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, field_snapshot, snapshot_changes
from common.text import normalize_text, required_text
from offices.scoping import can_act_in_office
from reissue.models import ReissueCase
from reissue.services import lock_case_for
from workflow.services import WorkflowError, run_transition

from .models import ClaimItem, ClaimState, ExpenseClaim, ReimbursementPolicy
from .selectors import claim_assessment, duplicate_receipt_message, policy_in_effect

ITEM_FIELDS = ["provider", "visit_date", "receipt_number", "category", "amount"]


def _lock_claim_for(
    *, claim: ExpenseClaim, acting_user: AbstractUser
) -> tuple[ReissueCase, ExpenseClaim]:
    """Lock the case, then its claim (always in this order), after checking the office."""
    case = lock_case_for(case=claim.case, acting_user=acting_user)
    return case, ExpenseClaim.objects.select_for_update().get(pk=claim.pk)


class ClaimAlreadyOpened(WorkflowError):
    """The case got its claim from someone else a moment ago; `claim` is that claim."""

    def __init__(self, claim: ExpenseClaim) -> None:
        super().__init__(_("This case already has an expense claim."))
        self.claim = claim


def _require(acting_user: AbstractUser, permission: str, message: str) -> None:
    if not acting_user.has_perm(permission):
        raise PermissionDenied(message)


@transaction.atomic
def claim_start(*, case: ReissueCase, acting_user: AbstractUser) -> ExpenseClaim:
    """Open the (single) expense claim of a case, as a draft."""
    _require(acting_user, "claims.add_expenseclaim", _("You may not enter expense claims."))
    case = lock_case_for(case=case, acting_user=acting_user)
    if not case.is_open:
        raise WorkflowError(_("The case is finished or cancelled: no claim can be opened."))
    existing = ExpenseClaim.objects.filter(case=case).first()
    if existing is not None:
        raise ClaimAlreadyOpened(existing)
    claim = ExpenseClaim(case=case, office_id=case.office_id, entered_by=acting_user)
    claim.full_clean()
    claim.save()
    audit_record(
        obj=claim, case=case, action="registered", actor=acting_user, target_state=claim.state
    )
    return claim


def _save_item(item: ClaimItem, acting_user: AbstractUser) -> None:
    item.full_clean(validate_constraints=False)
    message = duplicate_receipt_message(item=item, user=acting_user)
    if message:
        raise ValidationError({"receipt_number": message})
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:  # the same receipt entered elsewhere at this very moment
        # The other claim is committed now: name its case, as when the two had not crossed.
        message = duplicate_receipt_message(item=item, user=acting_user)
        raise ValidationError(
            {"receipt_number": message or _("This receipt has already been claimed.")}
        ) from exc


def _editable_claim(*, claim: ExpenseClaim, acting_user: AbstractUser, permission: str):
    _require(acting_user, permission, _("You may not change receipts."))
    case, locked = _lock_claim_for(claim=claim, acting_user=acting_user)
    if not locked.is_editable:
        raise WorkflowError(_("Receipts can be changed only while the claim is a draft."))
    return case, locked


@transaction.atomic
def claim_add_item(*, claim: ExpenseClaim, acting_user: AbstractUser, **fields: Any) -> ClaimItem:
    """Add one receipt to a draft claim."""
    case, locked = _editable_claim(
        claim=claim, acting_user=acting_user, permission="claims.add_claimitem"
    )
    item = ClaimItem(claim=locked, **{name: fields[name] for name in ITEM_FIELDS})
    _save_item(item, acting_user)
    audit_record(
        obj=locked,
        case=case,
        action="receipt_added",
        actor=acting_user,
        changes={name: ["", str(getattr(item, name))] for name in ITEM_FIELDS},
    )
    return item


@transaction.atomic
def claim_change_item(
    *, item: ClaimItem, acting_user: AbstractUser, data: Mapping[str, Any]
) -> ClaimItem:
    """Change a receipt of a draft claim."""
    case, locked = _editable_claim(
        claim=item.claim, acting_user=acting_user, permission="claims.change_claimitem"
    )
    current = ClaimItem.objects.select_for_update().get(pk=item.pk, claim=locked)
    before = field_snapshot(current)
    for name in ITEM_FIELDS:
        if name in data:
            setattr(current, name, data[name])
    _save_item(current, acting_user)
    changes = snapshot_changes(before, field_snapshot(current), model=ClaimItem)
    if changes:
        audit_record(
            obj=locked, case=case, action="receipt_changed", actor=acting_user, changes=changes
        )
    return current


@transaction.atomic
def claim_remove_item(*, item: ClaimItem, acting_user: AbstractUser) -> None:
    """Remove a receipt from a draft claim."""
    case, locked = _editable_claim(
        claim=item.claim, acting_user=acting_user, permission="claims.delete_claimitem"
    )
    current = ClaimItem.objects.get(pk=item.pk, claim=locked)
    removed = {name: [str(getattr(current, name)), ""] for name in ITEM_FIELDS}
    current.delete()
    audit_record(
        obj=locked, case=case, action="receipt_removed", actor=acting_user, changes=removed
    )


def _access_as_examiner(claim: ExpenseClaim, acting_user: AbstractUser) -> None:
    """Four eyes: refuse, in words, whoever entered or submitted the claim."""
    if acting_user.pk in (claim.entered_by_id, claim.submitted_by_id):
        raise PermissionDenied(
            _("You entered or submitted this claim: another person must examine it.")
        )


def _run_claim_transition(*, claim: ExpenseClaim, acting_user: AbstractUser, name: str, **options):
    with transaction.atomic():
        case, locked = _lock_claim_for(claim=claim, acting_user=acting_user)
        return run_transition(
            locked=locked, case=case, acting_user=acting_user, name=name, **options
        )


def claim_submit(*, claim: ExpenseClaim, acting_user: AbstractUser, **options) -> ExpenseClaim:
    """Hand the claim over for examination by someone else."""
    return _run_claim_transition(
        claim=claim,
        acting_user=acting_user,
        name="submit",
        by=acting_user,
        at=timezone.now(),
        **options,
    )


def claim_approve(*, claim: ExpenseClaim, acting_user: AbstractUser, reason: str = "", **options):
    """Approve the claim: compute the amount by the office's policy; keep it with the decision."""
    with transaction.atomic():
        case, locked = _lock_claim_for(claim=claim, acting_user=acting_user)
        _access_as_examiner(locked, acting_user)
        policy = policy_in_effect(office=case.office, on=case.loss_date)
        if policy is None:
            raise WorkflowError(
                _("No reimbursement policy of office %(office)s is in effect on %(date)s.")
                % {"office": case.office.code, "date": case.loss_date}
            )
        assessment = claim_assessment(claim=locked, policy=policy)
        approved = run_transition(
            locked=locked,
            case=case,
            acting_user=acting_user,
            name="approve",
            by=acting_user,
            at=timezone.now(),
            policy=policy,
            assessment=assessment,
            reason=normalize_text(reason, multiline=True),
            **options,
        )
        _keep_item_amounts(approved, assessment)
        return approved


def _keep_item_amounts(claim: ExpenseClaim, assessment) -> None:
    by_key = {item.key: item for item in assessment.items}
    items = list(claim.items.all())
    for item in items:
        item.eligible = by_key[item.pk].eligible
        item.reimbursable_amount = by_key[item.pk].reimbursable
    ClaimItem.objects.bulk_update(items, ["eligible", "reimbursable_amount"])


def claim_reject(
    *, claim: ExpenseClaim, acting_user: AbstractUser, reason: str, **options
) -> ExpenseClaim:
    """Reject the claim, with the reason the citizen will be told."""
    reason = required_text(reason, field="reason", message=_("Give the reason for rejecting."))
    _access_as_examiner(claim, acting_user)
    return _run_claim_transition(
        claim=claim,
        acting_user=acting_user,
        name="reject",
        by=acting_user,
        at=timezone.now(),
        reason=reason,
        **options,
    )


def claim_pay(
    *, claim: ExpenseClaim, acting_user: AbstractUser, payment_reference: str, **options
) -> ExpenseClaim:
    """Pay the approved claim once and move its case to `reimbursed`, both or neither.

    The case row is locked first, so a double click, a second tab or a second supervisor
    finds the claim already paid and gets a WorkflowError.
    """
    reference = required_text(
        payment_reference,
        field="payment_reference",
        message=_("Give the payment reference."),
        multiline=False,
        fold=True,
    )
    with transaction.atomic():
        case, locked = _lock_claim_for(claim=claim, acting_user=acting_user)
        if locked.state == ClaimState.PAID:
            raise WorkflowError(
                _(
                    "This claim was already paid (payment reference %(reference)s). "
                    "Nothing more was paid."
                )
                % {"reference": locked.payment_reference}
            )
        paid = run_transition(
            locked=locked,
            case=case,
            acting_user=acting_user,
            name="pay",
            by=acting_user,
            at=timezone.now(),
            payment_reference=reference,
            **options,
        )
        case.expense_claim = paid  # the case's condition reads the claim just paid
        run_transition(
            locked=case,
            case=case,
            acting_user=acting_user,
            name="reimburse",
            comment=_("Claim paid, payment reference %(reference)s.") % {"reference": reference},
        )
        return paid


@transaction.atomic
def policy_save(*, policy: ReimbursementPolicy, acting_user: AbstractUser) -> ReimbursementPolicy:
    """Create or change an office's policy; one already applied to a decision stays as it is."""
    _require(acting_user, "claims.change_reimbursementpolicy", _("You may not change policies."))
    if not can_act_in_office(acting_user, policy.office_id):
        raise PermissionDenied(_("You may not set the policy of this office."))
    before = {}
    if policy.pk is not None:
        if ExpenseClaim.objects.filter(policy_id=policy.pk).exists():
            raise WorkflowError(
                _("This policy was applied to decided claims; add a new one from a later date.")
            )
        before = field_snapshot(ReimbursementPolicy.objects.get(pk=policy.pk))
    policy.full_clean()
    policy.save()
    after = field_snapshot(policy)
    changes = snapshot_changes(before or dict.fromkeys(after), after, model=ReimbursementPolicy)
    audit_record(obj=policy, case=None, action="edited", actor=acting_user, changes=changes)
    return policy
