"""The outbox: one row per event the citizen is told of, written in the step's transaction."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.fields import EncryptedCharField
from common.id_numbers import mask_phone


class MessageState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    # The citizen opted out: kept so the case page says why no SMS went.
    SKIPPED = "skipped", _("not sent (opted out)")


class OutboxMessage(models.Model):
    # What the message is about, by label and key: this app knows no domain model.
    subject_type = models.CharField(_("about"), max_length=100, editable=False)
    subject_id = models.PositiveBigIntegerField(editable=False)
    subject_label = models.CharField(_("reference"), max_length=64, editable=False)
    # The domain's office, as a number given at write time (this app knows no office): the
    # admin's list is scoped by it like every other list.
    office_id = models.PositiveIntegerField(null=True, editable=False)
    # e.g. "reissue.reissuecase:123:card_arrived": one message per event, however often the
    # step's hook runs (the unique constraint makes the insert an insert-or-skip).
    event_key = models.CharField(_("event"), max_length=150, unique=True, editable=False)
    event = models.CharField(_("notice"), max_length=40, editable=False)
    # Encrypted like the applicant's; shown masked (masked_phone), never exported.
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, editable=False)
    template_code = models.CharField(_("template"), max_length=64, blank=True, editable=False)
    template_params = models.JSONField(default=dict, editable=False)
    text = models.TextField(_("text"), editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True)
    provider_message_id = models.CharField(_("provider's message id"), max_length=100, blank=True)
    provider_answer = models.TextField(_("provider's answer"), blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True)

    class Meta:
        verbose_name = _("SMS notice")
        verbose_name_plural = _("SMS notices")
        default_permissions = ("view",)
        permissions = [("send_again", _("Can send a failed SMS notice again"))]
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_label", "created_at"], name="outbox_reference_idx"),
            # The admin's list, newest first: an office's (scoped by office), or every one's.
            models.Index(fields=["office_id", "created_at"], name="outbox_office_idx"),
            models.Index(fields=["created_at"], name="outbox_created_idx"),
            # The sweep: the queued messages due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="queued"),
                name="outbox_queued_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_at_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return self.event_key

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""
