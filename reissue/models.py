"""Applicants and lost-card cases, with the case workflow."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from common.fields import EncryptedCharField
from common.id_numbers import (
    birth_date_from_id_number,
    id_number_digest,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    sex_from_id_number,
    validate_id_number,
)
from common.text import PlainCharField, match_key
from common.validators import phone_validator
from offices.models import Office
from workflow.transitions import condition

from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState, LostItems
from .reimbursement import SETTLED, ClaimStage, claim_stage


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
        personal_number=mask_id_number,
    )
    id_number_hash = models.CharField(max_length=64, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, editable=False)
    phone = EncryptedCharField(
        _("phone"), max_length=20, validators=[phone_validator], personal_number=mask_phone
    )
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
            ),
            # The list sorted by name (the pattern index above cannot give the collation's order).
            models.Index(fields=["name"], name="applicant_name_idx"),
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


# The states (CaseState), what was lost (LostItems) and what each state and step means are
# declared in case_workflow.py.


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


@condition(
    _("The ID card was not reported lost, so there is no ID card to reissue."),
    decides_applicability=True,
)
def id_card_was_lost(case: "ReissueCase") -> bool:
    return case.id_card_lost


@condition(
    _("The SS card was not reported lost, so there is no loss report to lift."),
    decides_applicability=True,
)
def ss_card_was_lost(case: "ReissueCase") -> bool:
    return case.ss_card_lost


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
    return claim_stage(case) is ClaimStage.PAID


@condition(_("An expense claim is still open for this case: decide and pay it, or reject it."))
def nothing_to_reimburse(case: "ReissueCase") -> bool:
    return claim_stage(case) in SETTLED


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
        _("agent's ID number"),
        max_length=18,
        blank=True,
        validators=[validate_id_number],
        personal_number=mask_id_number,
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
    # Lifting the loss report (解挂): the SS card was found before a new one was made.
    lift_reason = models.TextField(_("how the card was found"), blank=True)
    temp_card_returned = models.BooleanField(_("temporary card handed back"), default=False)
    ss_card_unblocked_at = models.DateTimeField(
        _("SS card working again from"), null=True, blank=True
    )
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
            ("lift_loss_report", _("Can lift a loss report")),
            ("export_cases", _("Can export cases")),
            ("import_cases", _("Can import legacy cases")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(state__in=CASE_WORKFLOW.open_states),
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
                condition=~Q(state__in=CASE_WORKFLOW.flagged(CaseFlag.NEW_CARD_ISSUED))
                | ~Q(ss_card_number=""),
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
            # One office's cases by reference: the list sorted by it (bench/lists.py).
            models.Index(fields=["office", "reference"], name="case_office_reference_idx"),
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
        return self.state in CASE_WORKFLOW.open_states

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
            # against the number typed (registration.check_registration).
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

    # The workflow. Transitions change only this model's fields; services save and audit. What
    # each state and step means besides (form, service, roles, locks ...): case_workflow.py.

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
        custom={"label": _("Record new ID card")},
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
        custom={"label": _("Reissue SS card")},
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
        source=CASE_WORKFLOW.open_states,
        target=CaseState.CANCELLED,
        permission="reissue.cancel_case",
        custom={"label": _("Cancel case")},
    )
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason
        self.finished_at = timezone.now()

    @transition(
        field=state,
        # Only before the new SS card is made: then the old one is cancelled for good.
        source=[CaseState.REPORTED, CaseState.TEMP_CARD_ISSUED, CaseState.ID_REISSUED],
        target=CaseState.LIFTED,
        conditions=[ss_card_was_lost],
        permission="reissue.lift_loss_report",
        custom={"label": _("Lift loss report (card found)")},
    )
    def lift_loss_report(self, *, reason: str, temp_card_returned: bool) -> None:
        self.lift_reason = reason
        self.temp_card_returned = temp_card_returned
        self.ss_card_unblocked_at = self.finished_at = timezone.now()


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


# The details of an open case a clerk types on its page (the change form's inputs); the
# service takes no others (`services.case_fields_editable`, less what steps taken locked).
CASE_EDITABLE_FIELDS = [
    "lost_items",
    "loss_kind",
    "loss_date",
    "presented_hukou_book",
    "presented_id_card",
    "presented_photo",
    "converts_ic_card",
    "agent_acts",
    "agent_name",
    "agent_id_number",
]


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
