"""The expense-claim workflow, declared once: what each state and step of a claim means.

The transitions on `models.ExpenseClaim` say which steps lead where; this says the rest
(workflow.declaration). Examining a claim is checked by a function (four eyes), so its
steps declare the permission their roles are granted.
"""

from offices.roles import CLERK, REVIEWER, SUPERVISOR
from workflow.declaration import Badge, Party, StateMeaning, StepMeaning, Turn, Workflow

from . import forms, services
from .models import ClaimState

EXAMINED = ("examined_by", "examined_at", "decision_reason")

CLAIM_WORKFLOW = Workflow(
    model="claims.ExpenseClaim",
    service_argument="claim",
    set_on_create=("entered_by",),
    states=(
        StateMeaning(
            ClaimState.DRAFT,
            turn=Turn(Party.CITIZEN),  # brings the receipts still missing; then it is submitted
            badge=Badge.GREY,
        ),
        StateMeaning(ClaimState.SUBMITTED, turn=Turn(Party.OFFICE, "approve"), badge=Badge.AMBER),
        StateMeaning(ClaimState.APPROVED, turn=Turn(Party.OFFICE, "pay"), badge=Badge.BLUE),
        StateMeaning(ClaimState.REJECTED, turn=Turn(Party.NOBODY), finished=True, badge=Badge.RED),
        StateMeaning(ClaimState.PAID, turn=Turn(Party.NOBODY), finished=True, badge=Badge.GREEN),
    ),
    steps=(
        StepMeaning(
            "submit",
            roles=(CLERK, SUPERVISOR),
            form=None,
            service=services.claim_submit,
            sets=("submitted_by", "submitted_at"),
            # The examination reads the case's date of loss (the window of eligible visits).
            locks_on={"case": ("loss_date",)},
        ),
        StepMeaning(
            "approve",
            roles=(REVIEWER,),
            form=forms.ApproveClaimForm,
            service=services.claim_approve,
            sets=(*EXAMINED, "policy", "policy_snapshot", "eligible_total", "reimbursable_total"),
            permission="claims.examine_claim",
        ),
        StepMeaning(
            "reject",
            roles=(REVIEWER,),
            form=forms.RejectClaimForm,
            service=services.claim_reject,
            sets=EXAMINED,
            permission="claims.examine_claim",
        ),
        StepMeaning(
            "pay",
            roles=(SUPERVISOR,),
            form=forms.PayClaimForm,
            service=services.claim_pay,
            sets=("paid_by", "paid_at", "payment_reference"),
        ),
    ),
)
