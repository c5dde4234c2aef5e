"""Offices, applicants and lost-card cases, with the case workflow and its audit trail."""

import ast
import datetime
import json
import re
import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .chain import ChainedRecord, ChainHead  # noqa: F401 (ChainHead: a model of this app)
from .fields import EncryptedCharField
from .id_numbers import (
    birth_date_from_id_number,
    id_number_digest,
    normalize_id_number,
    sex_from_id_number,
    validate_id_number,
)
from .text import PlainCharField, match_key

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 -]{5,18}[0-9]$",
    _("Enter a phone number of digits, optionally with spaces, dashes or a leading +."),
)


class Office(models.Model):
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,8}$", _("Use 2 to 8 capital letters or digits."))],
        help_text=_("Short code used in case references, for example DC."),
    )
    name = models.CharField(pgettext_lazy("office", "name"), max_length=100)
    # Printed on the slip and the decision notice, beside "give the case reference when you call".
    phone = models.CharField(
        _("phone"),
        max_length=20,
        blank=True,
        validators=[phone_validator],
        help_text=_("The number citizens call about their case; printed on slips and notices."),
    )
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=100,
        blank=True,
        help_text=_("As citizens read it, for example: Mon–Fri 9:00–17:00."),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="offices",
        blank=True,
        verbose_name=_("staff"),
        help_text=_("Users who work in this office and see its cases."),
    )

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class Applicant(models.Model):
    name = PlainCharField(_("name"), max_length=50)
    # Stored encrypted; found by `id_number_hash`, which also keeps one applicant per number.
    id_number = EncryptedCharField(
        _("resident ID number"),
        max_length=18,
        validators=[validate_id_number],
        help_text=_("18 characters; the last may be X."),
    )
    id_number_hash = models.CharField(max_length=64, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    phone = EncryptedCharField(_("phone"), max_length=20, validators=[phone_validator])
    hukou_address = PlainCharField(_("household registration address"), max_length=200)
    hukou_police_station = PlainCharField(
        _("police station of household registration"), max_length=100
    )

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        permissions = [("view_full_id_number", _("Can see full ID numbers"))]
        indexes = [
            # Search by the start of a name (a surname, a full name), with LIKE 'x%'.
            models.Index(
                fields=["name"], name="applicant_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                name="applicant_unique_id_number",
                violation_error_message=_("An applicant with this ID number already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Birth date, sex and the search hash are facts of the number, never typed separately.
        self.id_number = normalize_id_number(self.id_number)
        self.id_number_hash = id_number_digest(self.id_number)
        self.birth_date = birth_date_from_id_number(self.id_number)
        self.sex = sex_from_id_number(self.id_number)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.id_number = normalize_id_number(self.id_number)
        self.id_number_hash = id_number_digest(self.id_number)

    def validate_name(self, name: str) -> None:
        """Refuse a name other than the one this applicant's ID number is registered under."""
        if match_key(self.name) != match_key(name):
            raise ValidationError(
                {"name": _("This ID number is registered under another name. Check the card.")},
                code="another_name",
            )


class CaseState(models.TextChoices):
    REPORTED = "reported", _("reported")
    TEMP_CARD_ISSUED = "temp_card_issued", _("temporary card issued")
    ID_REISSUED = "id_reissued", _("ID card reissued")
    SS_CARD_REISSUED = "ss_card_reissued", _("SS card reissued")
    REIMBURSED = "reimbursed", _("reimbursed")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATES = [
    CaseState.REPORTED,
    CaseState.TEMP_CARD_ISSUED,
    CaseState.ID_REISSUED,
    CaseState.SS_CARD_REISSUED,
]
FINISHED_STATES = [CaseState.REIMBURSED, CaseState.CLOSED, CaseState.CANCELLED]
SS_CARD_DONE_STATES = [CaseState.SS_CARD_REISSUED, CaseState.REIMBURSED, CaseState.CLOSED]


class LostItems(models.TextChoices):
    BOTH = "both", _("ID card and SS card")
    ID_CARD = "id_card", _("ID card only")
    SS_CARD = "ss_card", _("SS card only")


class LossKind(models.TextChoices):
    LOST = "lost", _("lost")
    STOLEN = "stolen", _("stolen")
    DAMAGED = "damaged", _("damaged")


# The first resident ID cards were issued in 1984 (SS cards came later still): no card of a
# case can have been lost before. Nor before its holder was born, nor in the future.
EARLIEST_LOSS_DATE = datetime.date(1984, 1, 1)


def validate_loss_date(loss_date: datetime.date, *, birth_date: datetime.date | None) -> None:
    """Refuse a date of loss in the future, before 1984, or before the applicant's birth."""
    if loss_date > timezone.localdate():
        raise ValidationError(_("The date of loss cannot be in the future."), code="future")
    if loss_date < EARLIEST_LOSS_DATE:
        raise ValidationError(
            _("The date of loss cannot be before %(date)s, when the first ID cards were issued."),
            code="too_early",
            params={"date": EARLIEST_LOSS_DATE.isoformat()},
        )
    if birth_date is not None and loss_date < birth_date:
        raise ValidationError(
            _("The date of loss cannot be before the applicant's birth date (%(date)s)."),
            code="before_birth",
            params={"date": birth_date.isoformat()},
        )


def condition(message, *, decides_applicability: bool = False):
    """Mark a transition condition with the sentence a clerk reads when it fails.

    `decides_applicability`: the condition reads a fact that makes the step meaningless for
    this case (no ID card was lost), not something still to be done; the panel and the diagram
    leave such a step out instead of showing it blocked. The service refuses it all the same.
    """

    def decorate(func):
        func.failure_message = message
        func.decides_applicability = decides_applicability
        return func

    return decorate


@condition(
    _("The ID card was not reported lost, so there is no ID card to reissue."),
    decides_applicability=True,
)
def id_card_was_lost(case: "ReissueCase") -> bool:
    return case.id_card_lost


@condition(_("The household registration (hukou) book must be presented to reissue the ID card."))
def hukou_book_presented(case: "ReissueCase") -> bool:
    return case.presented_hukou_book


@condition(_("The ID card was lost: record the new ID card before reissuing the SS card."))
def id_card_settled(case: "ReissueCase") -> bool:
    return not case.id_card_lost or case.id_card_issued_on is not None


@condition(_("Proof of identity is required: the ID card, a temporary ID card or the hukou book."))
def identity_proven(case: "ReissueCase") -> bool:
    return case.presented_id_card or case.presented_hukou_book


@condition(_("A one-inch colour photo is required for an IC card conversion."))
def photo_for_ic_conversion(case: "ReissueCase") -> bool:
    return not case.converts_ic_card or case.presented_photo


@condition(_("An agent acts for the applicant: the agent's name and ID number are required."))
def agent_details_complete(case: "ReissueCase") -> bool:
    return not case.agent_acts or bool(case.agent_name and case.agent_id_number)


@condition(_("The expense claim of this case has not been paid yet."))
def claim_paid(case: "ReissueCase") -> bool:
    # The claims app supplies the reverse relation; without a claim this is never met.
    claim = getattr(case, "expense_claim", None)
    return claim is not None and claim.state == "paid"


@condition(_("An expense claim is still open for this case: decide and pay it, or reject it."))
def nothing_to_reimburse(case: "ReissueCase") -> bool:
    claim = getattr(case, "expense_claim", None)
    return claim is None or claim.state == "rejected"


# What a step relied on: its conditions' fields, and the date of loss that bounds the claim.
ID_STEP_LOCKS = ["lost_items", "presented_hukou_book"]
SS_CARD_STEP_LOCKS = [
    "lost_items",
    "loss_date",
    "presented_hukou_book",
    "presented_id_card",
    "presented_photo",
    "converts_ic_card",
    "agent_acts",
    "agent_name",
    "agent_id_number",
]


class ReissueCase(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="cases", verbose_name=_("applicant")
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="cases", verbose_name=_("office")
    )
    lost_items = models.CharField(_("what was lost"), max_length=10, choices=LostItems.choices)
    loss_kind = models.CharField(_("how"), max_length=10, choices=LossKind.choices)
    loss_date = models.DateField(_("date of loss"))
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="handled_cases",
        verbose_name=_("clerk"),
    )

    agent_acts = models.BooleanField(_("an agent acts for the applicant"), default=False)
    agent_name = PlainCharField(_("agent's name"), max_length=50, blank=True)
    agent_id_number = EncryptedCharField(
        _("agent's ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )

    presented_hukou_book = models.BooleanField(_("hukou book presented"), default=False)
    presented_id_card = models.BooleanField(
        _("ID card or temporary ID card presented"), default=False
    )
    presented_photo = models.BooleanField(_("one-inch colour photo presented"), default=False)
    converts_ic_card = models.BooleanField(
        _("converts an old medical-insurance IC card"), default=False
    )

    ss_card_suspended_at = models.DateTimeField(_("SS card suspended at"), null=True, blank=True)
    temp_card_number = models.CharField(_("temporary card number"), max_length=32, blank=True)
    temp_card_issued_on = models.DateField(_("temporary card issued on"), null=True, blank=True)
    id_card_issued_on = models.DateField(_("new ID card issued on"), null=True, blank=True)
    ss_card_number = models.CharField(_("new SS card number"), max_length=32, blank=True)
    ss_card_issued_on = models.DateField(_("new SS card issued on"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)

    state = FSMField(
        _("state"),
        default=CaseState.REPORTED,
        choices=CaseState.choices,
        protected=True,
        db_index=True,
    )

    class Meta:
        verbose_name = _("reissue case")
        verbose_name_plural = _("reissue cases")
        ordering = ["-reported_at", "-id"]
        permissions = [
            ("issue_temp_card", _("Can issue a temporary card")),
            ("record_id_reissued", _("Can record the reissued ID card")),
            ("reissue_ss_card", _("Can reissue the SS card")),
            ("reimburse_case", _("Can mark a case reimbursed")),
            ("close_case", _("Can close a case")),
            ("cancel_case", _("Can cancel a case")),
            ("view_all_offices", _("Can see the cases of every office")),
            ("export_cases", _("Can export cases")),
            ("import_cases", _("Can import legacy cases")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(state__in=OPEN_STATES),
                name="case_one_open_case_per_applicant",
                violation_error_message=_(
                    "This applicant already has an open case; continue that case instead."
                ),
            ),
            models.CheckConstraint(
                condition=Q(agent_acts=False) | (~Q(agent_name="") & ~Q(agent_id_number="")),
                name="case_agent_details_when_agent_acts",
                violation_error_message=_(
                    "When an agent acts, give the agent's name and ID number."
                ),
            ),
            models.UniqueConstraint(
                fields=["ss_card_number"],
                condition=~Q(ss_card_number=""),
                name="case_unique_ss_card_number",
                violation_error_message=_("This SS card number was already given to another case."),
                violation_error_code="unique",  # Django then reports it on the field
            ),
            models.CheckConstraint(
                condition=~Q(state__in=SS_CARD_DONE_STATES) | ~Q(ss_card_number=""),
                name="case_ss_card_number_once_reissued",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.CANCELLED) | ~Q(cancel_reason=""),
                name="case_cancel_reason_when_cancelled",
            ),
        ]
        indexes = [
            # The case list: newest first, per office or across all (auditors), by state.
            models.Index(fields=["office", "-reported_at", "-id"], name="case_office_newest_idx"),
            models.Index(fields=["-reported_at", "-id"], name="case_newest_idx"),
            models.Index(fields=["office", "state", "-reported_at"], name="case_office_state_idx"),
            # Filtered by state: office included so the capped count reads the index alone.
            models.Index(
                fields=["state", "-reported_at", "-id"],
                include=["office"],
                name="case_state_newest_idx",
            ),
            # The dashboard: cases finished per week, days to the new SS card (bench/dashboard.py).
            models.Index(fields=["ss_card_issued_on", "office"], name="case_card_issued_idx"),
            models.Index(
                fields=["state", "reference"],
                name="case_state_reference_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            # (A search by the start of a reference uses the unique reference's own index: on
            # PostgreSQL Django gives a unique varchar a second, varchar_pattern_ops, index.)
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def id_card_lost(self) -> bool:
        return self.lost_items in (LostItems.BOTH, LostItems.ID_CARD)

    @property
    def ss_card_lost(self) -> bool:
        return self.lost_items in (LostItems.BOTH, LostItems.SS_CARD)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def days_open(self) -> int:
        """Return the calendar days from the report to the finish (or to today, while open)."""
        end = self.finished_at or timezone.now()
        return (timezone.localdate(end) - timezone.localdate(self.reported_at)).days

    def clean_fields(self, exclude=None) -> None:
        # Field cleaning re-assigns each value; the protected state may only change by a
        # transition, and its value is checked by the database constraints anyway.
        super().clean_fields(exclude={*(exclude or ()), "state"})

    def clean(self) -> None:
        errors = {}
        self.agent_id_number = normalize_id_number(self.agent_id_number)
        if not self.agent_acts:
            # Keep no details of an agent who does not act (data minimisation).
            self.agent_name, self.agent_id_number = "", ""
        if self.loss_date:
            # Not against the stored birth date: on an edit, whoever may not see the full
            # number could find the birth date by trying dates. Registration checks it
            # against the number typed (forms.py, services.case_register).
            try:
                validate_loss_date(self.loss_date, birth_date=None)
            except ValidationError as error:
                errors["loss_date"] = error.error_list
        if self.agent_acts and not self.agent_name:
            errors["agent_name"] = _("An agent acts for the applicant: give the agent's name.")
        if self.agent_acts and not self.agent_id_number:
            errors["agent_id_number"] = _(
                "An agent acts for the applicant: give the agent's ID number."
            )
        if errors:
            raise ValidationError(errors)

    # The workflow. Transitions change only this model's fields; services save and audit.

    @transition(
        field=state,
        source=CaseState.REPORTED,
        target=CaseState.TEMP_CARD_ISSUED,
        permission="reissue.issue_temp_card",
        custom={"label": _("Issue temporary card")},
    )
    def issue_temp_card(self, *, card_number: str, issued_on) -> None:
        self.temp_card_number = card_number
        self.temp_card_issued_on = issued_on

    @transition(
        field=state,
        source=[CaseState.REPORTED, CaseState.TEMP_CARD_ISSUED],
        target=CaseState.ID_REISSUED,
        conditions=[id_card_was_lost, hukou_book_presented],
        permission="reissue.record_id_reissued",
        # "locks": what this step relied on, read-only from then on (workflow.field_locks).
        custom={"label": _("Record new ID card"), "locks": ID_STEP_LOCKS},
    )
    def record_id_reissued(self, *, issued_on) -> None:
        self.id_card_issued_on = issued_on

    @transition(
        field=state,
        source=[CaseState.REPORTED, CaseState.TEMP_CARD_ISSUED, CaseState.ID_REISSUED],
        target=CaseState.SS_CARD_REISSUED,
        conditions=[
            id_card_settled,
            identity_proven,
            photo_for_ic_conversion,
            agent_details_complete,
        ],
        permission="reissue.reissue_ss_card",
        custom={"label": _("Reissue SS card"), "locks": SS_CARD_STEP_LOCKS},
    )
    def reissue_ss_card(self, *, card_number: str, issued_on) -> None:
        self.ss_card_number = card_number
        self.ss_card_issued_on = issued_on

    @transition(
        field=state,
        source=CaseState.SS_CARD_REISSUED,
        target=CaseState.REIMBURSED,
        conditions=[claim_paid],
        permission="reissue.reimburse_case",
        custom={"label": _("Mark reimbursed")},
    )
    def reimburse(self) -> None:
        self.finished_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.SS_CARD_REISSUED,
        target=CaseState.CLOSED,
        conditions=[nothing_to_reimburse],
        permission="reissue.close_case",
        custom={"label": _("Close (nothing to reimburse)")},
    )
    def close(self) -> None:
        self.finished_at = timezone.now()

    @transition(
        field=state,
        source=OPEN_STATES,
        target=CaseState.CANCELLED,
        permission="reissue.cancel_case",
        custom={"label": _("Cancel case")},
    )
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason
        self.finished_at = timezone.now()


class CaseSequence(models.Model):
    """The last reference number given out per office and year."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "year"], name="case_sequence_office_year")
        ]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.year}: {self.last_number}"


def audit_entry_content(entry) -> dict:
    """Return what an audit entry's hash covers (also used by the migration that re-chained
    the entries when the actor's name joined the hash)."""
    return {
        "case": entry.case_id,
        "content_type": entry.content_type_id,
        "object_id": entry.object_id,
        "action": entry.action,
        "source_state": entry.source_state,
        "target_state": entry.target_state,
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "at": entry.at.isoformat(),
        "comment": entry.comment,
        "changes": entry.changes,
    }


# Fields of a case set by its registration or a workflow step: never typed in a form, never
# imported (the admin shows them read-only; the legacy import refuses them).
WORKFLOW_SET_FIELDS = [
    "state",
    "reference",
    "handled_by",
    "ss_card_suspended_at",
    "temp_card_number",
    "temp_card_issued_on",
    "id_card_issued_on",
    "ss_card_number",
    "ss_card_issued_on",
    "cancel_reason",
    "finished_at",
]


AUDIT_ACTION_LABELS = {
    "registered": _("registered"),
    "added": _("added"),
    "edited": _("edited"),
    "deleted": _("deleted"),
    "receipt_added": _("receipt added"),
    "receipt_changed": _("receipt changed"),
    "receipt_removed": _("receipt removed"),
    "password_changed": _("password changed"),
    # twofactor/services.py
    "two_factor_enrolled": _("two-factor log-in set up"),
    "recovery_codes_generated": _("recovery codes made"),
    "two_factor_reset": _("two-factor log-in reset"),
}


class AuditEntry(ChainedRecord):
    """One recorded change: a registration, an edit or a transition. Never changed afterwards."""

    CHAIN = "audit"

    # Empty for changes to an applicant's own record, which belong to no single case.
    case = models.ForeignKey(
        ReissueCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("case"),
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(_("action"), max_length=40)
    source_state = models.CharField(_("from state"), max_length=32, blank=True)
    target_state = models.CharField(_("to state"), max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # The user name at the time, in the hash: renaming users never changes who did what.
    actor_name = models.CharField(_("user name then"), max_length=150, blank=True, editable=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["at", "id"]
        default_permissions = ("view",)
        permissions = [("export_audit_trail", _("Can export the audit trail"))]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["case", "at"], name="audit_case_idx"),
            # The audit-trail list, in time order either way (a trail of millions of entries).
            models.Index(fields=["at", "id"], name="audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit entries cannot be deleted."))

    def chained_content(self) -> dict:
        return audit_entry_content(self)

    def prepare_for_chain(self) -> None:
        fill_actor_name(self)

    def actor_display(self) -> str:
        return actor_display(self)

    def action_display(self) -> str:
        """Return the action as a person reads it: the transition's label where there is one."""
        if self.action in AUDIT_ACTION_LABELS:
            return str(AUDIT_ACTION_LABELS[self.action])
        method = getattr(self.content_type.model_class(), self.action, None)
        for step in getattr(getattr(method, "_django_fsm", None), "transitions", {}).values():
            return str(step.custom.get("label", self.action))
        return self.action

    def changes_display(self) -> list[tuple[str, str, str]]:
        """Return (field label, old, new) for each recorded change."""
        rows = []
        for name, (old, new) in self.changes.items():
            field = self._changed_field(name)
            if field is None:
                rows.append((name, old, new))
                continue
            # Choices are kept as stored values ("outpatient"); show them in the user's language.
            # (Not a relation's: its flatchoices would read the whole related table.)
            choices = () if field.is_relation else field.flatchoices
            labels = {str(value): str(label) for value, label in choices}
            shown = [labels.get(value, value) for value in (old, new)]
            if isinstance(field, models.JSONField):
                shown = [self._recorded_value_display(field, value) for value in shown]
            rows.append((str(field.verbose_name), *shown))
        return rows

    @staticmethod
    def _recorded_value_display(field, value: str) -> str:
        """Return a recorded JSON value (a claim's policy) as text: by its model's
        `audit_value_display` where it has one, else as "key: value, ..."."""
        data = recorded_data(value)
        if data is None:
            return value
        shown = getattr(field.model, "audit_value_display", lambda name, data: None)
        return shown(field.name, data) or plain_data_display(data)

    def _changed_field(self, name: str):
        # The object's own fields first, then those of its parts (a claim's receipts).
        model = self.content_type.model_class()
        for candidate in [model, *(rel.related_model for rel in model._meta.related_objects)]:
            try:
                return candidate._meta.get_field(name)
            except (FieldDoesNotExist, AttributeError):
                continue
        return None

    def source_state_display(self) -> str:
        return self._state_label(self.source_state)

    def target_state_display(self) -> str:
        return self._state_label(self.target_state)

    def _state_label(self, value: str) -> str:
        model = self.content_type.model_class()
        try:
            choices = dict(model._meta.get_field("state").choices)
        except FieldDoesNotExist:
            return value
        return str(choices.get(value, value))


# How Python wrote a TextChoices member inside a dict: ExpenseCategory.OUTPATIENT (its value
# is the member's name in lower case, "outpatient", in every choice of this project).
ENUM_REPR = re.compile(r"\b[A-Z][A-Za-z]+\.([A-Z][A-Z0-9_]*)\b")


def recorded_data(value: str):
    """Return the dict or list an audit entry recorded as text, or None if it is not one.

    Kept as JSON since the trail reads it back; entries from before kept Python's repr of the
    dict ("{'deductible': '100.00'}"), read as a literal (never evaluated).
    """
    if not isinstance(value, str) or not value.startswith(("{", "[")) or len(value) > 20_000:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        try:
            data = ast.literal_eval(ENUM_REPR.sub(lambda m: repr(m[1].lower()), value))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return data if isinstance(data, dict | list) else None


def plain_data_display(data) -> str:
    """Return recorded data as "key: value, key: (key: value)" for a person to read."""
    if isinstance(data, dict):
        return ", ".join(
            f"{key}: ({plain_data_display(value)})"
            if isinstance(value, dict)
            else f"{key}: {plain_data_display(value)}"
            for key, value in data.items()
        )
    if isinstance(data, list):
        return ", ".join(plain_data_display(value) for value in data)
    return "" if data is None else str(data)


class AccessKind(models.TextChoices):
    REVEAL = "reveal", _("full number seen")
    SEARCH = "search", _("search by ID number")
    EXPORT = "export", _("export with full numbers")


class PersonalDataAccess(ChainedRecord):
    """One look at personal data: a full number seen, a search by ID number or an export with
    full numbers; who, when, which record and why. Never changed."""

    CHAIN = "access"
    kind = models.CharField(
        _("kind"), max_length=10, choices=AccessKind.choices, default=AccessKind.REVEAL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_name = models.CharField(_("user name then"), max_length=150, blank=True, editable=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # Empty for a search: it names a number, not a record.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    case = models.ForeignKey(
        ReissueCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    field = models.CharField(_("field"), max_length=40)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="access_object_idx"),
            models.Index(fields=["at", "id"], name="access_time_idx"),  # the list, newest first
            # A user's searches in the last minutes: the search limit counts them.
            models.Index(fields=["actor", "kind", "at"], name="access_actor_kind_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.field} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Access records cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Access records cannot be deleted."))

    def prepare_for_chain(self) -> None:
        fill_actor_name(self)

    def actor_display(self) -> str:
        return actor_display(self)

    def chained_content(self) -> dict:
        return access_content(self)

    def field_display(self) -> str:
        """Return the personal data looked at as a person reads it: the field's label."""
        if self.kind == AccessKind.EXPORT or self.field == "export":
            return str(_("ID and phone numbers"))
        # A search names no record: its number is an applicant's or an agent's.
        own = [self.content_type.model_class()] if self.content_type_id else []
        for model in [*own, Applicant, ReissueCase]:
            try:
                return str(model._meta.get_field(self.field).verbose_name)
            except (FieldDoesNotExist, AttributeError):
                continue
        return self.field

    def record_display(self) -> str:
        """Return the record looked at: the case's reference, an export's list, or nothing for
        a search (it names a number, not a record)."""
        if self.content_type_id is None:
            return ""
        model = self.content_type.model_class()
        if self.kind == AccessKind.EXPORT or self.field == "export":
            plural = model._meta.verbose_name_plural if model else self.content_type.name
            return str(_("export of the list of %(objects)s") % {"objects": plural})
        if model is ReissueCase and self.case_id == self.object_id and self.case is not None:
            return self.case.reference
        return f"{self.content_type.name} #{self.object_id}"


def access_content(access) -> dict:
    """Return what an access record's hash covers (also used by the migration that re-chained
    the records when the actor's name joined the hash)."""
    content = {
        "actor": access.actor_id,
        "actor_name": access.actor_name,
        "at": access.at.isoformat(),
        "content_type": access.content_type_id,
        "object_id": access.object_id,
        "case": access.case_id,
        "field": access.field,
        "reason": access.reason,
    }
    # Records written before kinds existed (and the migrations before 0022, whose model has
    # no kind) hash without one: their field told it. Any other kind is hashed.
    kind = getattr(access, "kind", "")
    implied = AccessKind.EXPORT if access.field == "export" else AccessKind.REVEAL
    if kind and kind != implied:
        content["kind"] = kind
    return content


def fill_actor_name(record) -> None:
    """Keep the acting user's name as it is now, so a later rename changes no trail."""
    if record.actor_id is not None and not record.actor_name:
        record.actor_name = record.actor.get_username()


def actor_display(record) -> str:
    """Return who acted, by the name they had then, and their name now if it changed."""
    if record.actor_id is None:
        return ""
    now = record.actor.get_username()
    if not record.actor_name or record.actor_name == now:
        return now
    return _("%(then)s (now %(now)s)") % {"then": record.actor_name, "now": now}


class ImportUpload(models.Model):
    """A file uploaded to the admin's import, kept encrypted between its preview and confirmation.

    Not on the app servers' disks: the confirmation may reach another server, and the file
    holds personal numbers. Dropped when imported, when the preview refuses it, or a day on.
    """

    name = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # The file's bytes in base64, encrypted by the field.
    content = EncryptedCharField(editable=False)
    # The name it was uploaded under, cleaned (`legacy_import.clean_file_name`): the audit
    # comment of each imported case names it, never the name a confirmation posts.
    file_name = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = _("import upload")
        verbose_name_plural = _("import uploads")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.name)
