"""The staff's hands on the SMS notices (notifications/): sending a failed one again.

The outbox knows no case or office; this app knows both: a message carries the case's
reference (`subject_label`) and its office's id, written by `notices.notify_case`.
"""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import register_step_labels
from audit.services import audit_record
from common.exceptions import ObjectNotFound, Refusal
from notifications.models import MessageState, OutboxMessage
from notifications.services import requeue_failed
from offices.scoping import can_act_in_office, scope_to_offices

from .models import ReissueCase

SEND_AGAIN_PERMISSION = "notifications.send_again"
SMS_SENT_AGAIN = "sms_sent_again"


class SmsNotSentAgain(Refusal):
    """Only a failed message to a citizen who still wants SMS notices is sent again."""


def register_audit_labels() -> None:
    """Name the outbox's audit action (from ReissueConfig.ready)."""
    register_step_labels(OutboxMessage, {SMS_SENT_AGAIN: gettext_lazy("SMS notice sent again")})


def sms_messages_visible_to(*, user) -> QuerySet[OutboxMessage]:
    """Return the SMS notices of the offices `user` may see (all of them for auditors)."""
    return scope_to_offices(OutboxMessage.objects.all(), user, office_path="office_id")


def can_send_again(user) -> bool:
    return user.is_active and user.has_perm(SEND_AGAIN_PERMISSION)


@transaction.atomic
def sms_send_again(*, message: OutboxMessage, acting_user: AbstractUser) -> OutboxMessage:
    """Queue a failed SMS notice again, to the applicant's phone now, and audit it.

    Once: a message already queued again is left as it is (a second click does nothing).
    Refused for a message sent or not sent (opted out), and when the citizen has opted out
    since; another office's message looks like a missing one.
    """
    # The case first, then the message, in the steps' order: an opt-out recorded meanwhile
    # waits for this, or this reads it.
    label = OutboxMessage.objects.filter(pk=message.pk).values_list("subject_label", flat=True)
    case = (
        ReissueCase.objects.select_for_update(of=("self",))
        .select_related("applicant")
        .filter(reference=label.first())
        .first()
    )
    locked = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
    if locked is None or not can_act_in_office(acting_user, locked.office_id):
        raise ObjectNotFound(_("No such SMS notice."))
    if not can_send_again(acting_user):
        raise PermissionDenied(_("You may not send SMS notices again."))
    if locked.state == MessageState.QUEUED:
        return locked  # queued already (sent again a moment ago, or never failed)
    if locked.state == MessageState.SENT:
        raise SmsNotSentAgain(_("This SMS notice was sent: it is not sent again."))
    if locked.state == MessageState.SKIPPED:
        raise SmsNotSentAgain(
            _("This SMS notice was not sent because the citizen does not want SMS notices.")
        )
    if case is None or case.reference != locked.subject_label:
        raise ObjectNotFound(_("No such SMS notice."))
    if case.sms_opt_out:
        raise SmsNotSentAgain(_("The citizen no longer wants SMS notices: nothing is sent."))
    if not case.applicant.phone:
        raise SmsNotSentAgain(_("The applicant has no phone number: record one first."))
    attempts = locked.attempts
    requeue_failed(locked, phone=case.applicant.phone)
    audit_record(
        obj=locked,
        case=case,
        action=SMS_SENT_AGAIN,
        actor=acting_user,
        comment=locked.event,
        changes={"attempts": [str(attempts), "0"]},
    )
    return locked
