"""The citizen's SMS when their reimbursement is decided or paid (reissue.notices' rules)."""

from reissue.notices import notify_case
from workflow.registry import register_step_hook

from .claim_workflow import CLAIM_WORKFLOW
from .models import ExpenseClaim

TEMPLATES = {
    "claim_approved": "{name}，您的补办费用报销申请已审核通过，应报销{amount}元，"
    "将按规定支付（业务编号{reference}）。咨询电话：{phone}。",
    "claim_rejected": "{name}，您的补办费用报销申请未获通过，具体原因请咨询{office}："
    "{phone}（业务编号{reference}）。",
    "claim_paid": "{name}，您的补办费用报销款{amount}元已支付，请留意到账（业务编号{reference}）。"
    "咨询电话：{phone}。",
}


def _amount(claim: ExpenseClaim) -> str:
    return f"{claim.reimbursable_total:,.2f}" if claim.reimbursable_total is not None else "—"


def _notify(event: str):
    def hook(claim: ExpenseClaim, *, case, **_context) -> None:
        notify_case(
            case, subject=claim, event=event, template=TEMPLATES[event], amount=_amount(claim)
        )

    hook.__name__ = f"notify_{event}"
    return hook


STEP_NOTICES = {"approve": "claim_approved", "reject": "claim_rejected", "pay": "claim_paid"}
_HOOKS = {step: _notify(event) for step, event in STEP_NOTICES.items()}


def register_notices() -> None:
    for step, hook in _HOOKS.items():
        register_step_hook(CLAIM_WORKFLOW.model, step, hook)
