"""What the citizen is told by SMS, and when: hooked to the steps (workflow step hooks).

The wording is fixed Chinese, not translated UI: it must match the template registered with
the SMS provider (settings.SMS_TEMPLATES gives its code). A notice says only what the citizen
needs: the surname and 先生/女士, the case reference, the office's name and phone; never an ID
number. Written in the step's transaction (notifications.services.queue_notice).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from notifications.services import Notice, queue_notice, skip_queued

from .case_workflow import CASE_WORKFLOW
from .models import DocumentPromise, ReissueCase, Sex
from .rating_link import rating_url

TEMPLATES = {
    "temp_card_issued": "{name}，您的临时社保卡已办妥，可用于就医结算（业务编号{reference}）。"
    "如有疑问请致电{office}：{phone}。",
    "card_arrived": "{name}，您的新社保卡已到{office}，请凭本人有效证件前来领取"
    "（业务编号{reference}）。咨询电话：{phone}。",
    "document_due": "{name}，您承诺补交的{document}请于{due}前交到{office}（业务编号{reference}）。"
    "咨询电话：{phone}。",
    "rating_invited": "{name}，您的新社保卡已办结（业务编号{reference}）。"
    "欢迎对{office}的服务作出评价：{link}",
}


def salutation(case: ReissueCase) -> str:
    applicant = case.applicant
    title = "先生" if applicant.sex == Sex.MALE else "女士"
    return f"{applicant.name[:1]}{title}"


def case_params(case: ReissueCase) -> dict[str, str]:
    office = case.office
    return {
        "name": salutation(case),
        "reference": case.reference,
        "office": office.name,
        "phone": office.phone or "—",
    }


def notify_case(
    case: ReissueCase,
    *,
    event: str,
    template: str,
    subject=None,
    discriminator: str = "",
    **params: str,
):
    """Queue `event`'s notice to the case's applicant (once per event; see queue_notice)."""
    return queue_notice(
        subject=subject or case,
        subject_label=case.reference,
        notice=Notice(event=event, template=template, params={**case_params(case), **params}),
        phone=case.applicant.phone,
        opted_out=case.sms_opt_out,
        office_id=case.office_id,
        discriminator=discriminator,
    )


def temp_card_issued(locked: ReissueCase, **_context) -> None:
    notify_case(locked, event="temp_card_issued", template=TEMPLATES["temp_card_issued"])


def card_arrived(locked: ReissueCase, **_context) -> None:
    notify_case(locked, event="card_arrived", template=TEMPLATES["card_arrived"])


def rating_invited(locked: ReissueCase, **_context) -> None:
    """Send the link to rate the service once the citizen holds the new card (once per case:
    made at the counter or collected, the event key is the case's)."""
    notify_case(
        locked,
        event="rating_invited",
        template=TEMPLATES["rating_invited"],
        link=rating_url(locked),
    )


def sms_choice_changed(locked: ReissueCase, **_context) -> None:
    if locked.sms_opt_out:  # what is still queued is no longer wanted
        skip_queued(subject_label=locked.reference)


def document_name(promise: DocumentPromise) -> str:
    with translation.override("zh-hans"):  # the citizen's SMS is Chinese whatever the UI
        return str(promise.get_document_display())


def register_notices() -> None:
    from workflow.registry import register_step_hook

    label = CASE_WORKFLOW.model
    register_step_hook(label, "issue_temp_card", temp_card_issued)
    register_step_hook(label, "record_card_arrived", card_arrived)
    register_step_hook(label, "reissue_ss_card", rating_invited)
    register_step_hook(label, "collect_card", rating_invited)
    register_step_hook(label, "change_sms_choice", sms_choice_changed)


def remind_documents_due(*, today: datetime.date | None = None) -> int:
    """Remind the citizen of each promised document due within SMS_DOCUMENT_REMINDER_DAYS.

    Once per promise (its event key): run daily, or twice, it writes one reminder.
    """
    today = today or timezone.localdate()
    due = (
        DocumentPromise.objects.filter(
            received_on__isnull=True,
            due_on__gte=today,
            due_on__lte=today + datetime.timedelta(days=settings.SMS_DOCUMENT_REMINDER_DAYS),
            case__state__in=CASE_WORKFLOW.open_states,
        )
        .select_related("case__applicant", "case__office")
        .order_by("due_on", "pk")
    )
    written = 0
    for promise in due:
        with transaction.atomic():
            message = notify_case(
                promise.case,
                subject=promise,
                event="document_due",
                template=TEMPLATES["document_due"],
                document=document_name(promise),
                due=f"{promise.due_on.month}月{promise.due_on.day}日",
            )
        written += message is not None
    return written
