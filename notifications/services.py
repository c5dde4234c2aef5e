"""Writing notices into the outbox, and sending them.

A domain app calls `queue_notice` inside the transaction of its step: the message commits
or rolls back with the step, and one event gives at most one message (its key is unique).
After commit a task sends it; the every-minute sweep sends whatever that task missed or
what waits for a retry.

At-least-once, honestly: a message is claimed with SELECT ... FOR UPDATE SKIP LOCKED, sent,
and marked sent in that same transaction, so two workers never send it at the same time and
a provider's refusal or a crash before the call leaves it queued. One window remains: the
provider accepted it and the worker died (or the database went away) before the commit. The
message is then still queued and is sent again on its next attempt. The event key travels as
the provider's OutId (Alibaba) / SessionContext (Tencent), so such a duplicate can be found
in the provider's receipts; neither provider de-duplicates on it.
"""

import dataclasses
import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .backends import OutgoingSms, get_backend
from .models import MessageState, OutboxMessage

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Notice:
    """What a domain app wants said: the text is the template filled in with the params."""

    event: str  # a key of settings.SMS_TEMPLATES, e.g. "card_arrived"
    template: str  # the provider-registered wording, with {name} placeholders
    params: dict[str, str]

    @property
    def text(self) -> str:
        return self.template.format(**self.params)


def event_key(subject: models.Model, event: str, *, discriminator: str = "") -> str:
    key = f"{subject._meta.label_lower}:{subject.pk}:{event}"
    return f"{key}:{discriminator}" if discriminator else key


def queue_notice(
    *,
    subject: models.Model,
    subject_label: str,
    notice: Notice,
    phone: str,
    opted_out: bool,
    office_id: int | None = None,
    discriminator: str = "",
) -> OutboxMessage | None:
    """Write the notice for `subject` once; return it, or None when it was written before.

    Call inside the step's transaction. An opted-out citizen's notice is kept as skipped,
    without the phone number, so the case page says why nothing was sent.
    """
    skipped = opted_out or not phone
    message = OutboxMessage(
        subject_type=subject._meta.label_lower,
        subject_id=subject.pk,
        subject_label=subject_label,
        office_id=office_id,
        event_key=event_key(subject, notice.event, discriminator=discriminator),
        event=notice.event,
        phone="" if skipped else phone,
        template_code=settings.SMS_TEMPLATES.get(notice.event, ""),
        template_params=notice.params,
        text=notice.text,
        state=MessageState.SKIPPED if skipped else MessageState.QUEUED,
        next_attempt_at=None if skipped else timezone.now(),
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the step's work standing
            message.save()
    except IntegrityError:
        return None  # this event's message exists already: never a second one
    if not skipped:
        transaction.on_commit(lambda: _enqueue_send(message.pk))
    return message


def _enqueue_send(message_id: int) -> None:
    from .tasks import send_sms

    try:
        send_sms.enqueue(message_id)
    except Exception:  # the sweep sends it within a minute: the step must not fail for this
        logger.exception("Could not enqueue SMS %s; the sweep will send it", message_id)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from SMS_RETRY_BASE_SECONDS."""
    return datetime.timedelta(seconds=settings.SMS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def send_message(message_id: int, *, now: datetime.datetime | None = None) -> str:
    """Send one queued message if it is due and no other worker holds it; return its state."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                pk=message_id, state=MessageState.QUEUED, next_attempt_at__lte=now or timezone.now()
            )
            .first()
        )
        if message is None:
            return "skipped"  # sent, failed, not due yet, or being sent by another worker
        result = get_backend().send(
            OutgoingSms(
                phone=message.phone,
                text=message.text,
                template_code=message.template_code,
                template_params=message.template_params,
                event_key=message.event_key,
            )
        )
        at = timezone.now()
        message.attempts += 1
        message.last_attempt_at = at
        message.provider_answer = result.answer
        if result.accepted:
            message.state = MessageState.SENT
            message.sent_at = at
            message.provider_message_id = result.message_id
            message.next_attempt_at = None
        elif result.permanent or message.attempts >= settings.SMS_MAX_ATTEMPTS:
            message.state = MessageState.FAILED
            message.next_attempt_at = None
        else:
            message.next_attempt_at = at + retry_delay(message.attempts)
        message.save()
        return message.state


def due_message_ids(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    return list(
        OutboxMessage.objects.filter(
            state=MessageState.QUEUED, next_attempt_at__lte=now or timezone.now()
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def send_due_messages(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every message due (the sweep); count the outcomes."""
    counts = {"sent": 0, "failed": 0, "queued": 0, "skipped": 0}
    for message_id in due_message_ids(now=now):
        counts[send_message(message_id, now=now)] += 1
    return counts


def messages_about(subject: models.Model) -> models.QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        subject_type=subject._meta.label_lower, subject_id=subject.pk
    ).order_by("created_at", "id")


def requeue_failed(message: OutboxMessage, *, phone: str) -> None:
    """Queue a failed message (row-locked by the caller) again, to `phone`, with a fresh
    round of attempts; its task is enqueued after commit, the sweep sends it otherwise."""
    message.state = MessageState.QUEUED
    message.phone = phone
    message.attempts = 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["state", "phone", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: _enqueue_send(message.pk))


def skip_queued(*, subject_label: str) -> int:
    """Mark the messages still queued under `subject_label` not sent (opted out), their phone
    wiped; return how many. One being sent at this moment is waited for: if it went out, it
    stays sent (PostgreSQL re-reads the row's state after the sender's commit)."""
    return OutboxMessage.objects.filter(
        subject_label=subject_label, state=MessageState.QUEUED
    ).update(state=MessageState.SKIPPED, phone="", next_attempt_at=None)


def wipe_old_phones(*, before: datetime.datetime) -> int:
    """Wipe the phone of the messages written before `before` and finished (sent, failed),
    keeping the record (text, state, provider's answer); return how many. Idempotent."""
    finished = OutboxMessage.objects.filter(
        state__in=[MessageState.SENT, MessageState.FAILED], created_at__lt=before
    ).exclude(phone="")
    return finished.update(phone="")
