"""Applicants and lost-card cases, with the case workflow."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from common.dates import is_after_today
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
from workflow.fsm import ConcurrentTransitionMixin
from workflow.transitions import condition

from .case_policy import CasePolicy, CaseRules, lapse_moment, rules_in_force
from .case_workflow import (
    CASE_WORKFLOW,
    CaseFlag,
    CaseState,
    Collector,
    LossReportKind,
    LostItems,
    ReportChannel,
    SecondaryDocument,
)
from .reimbursement import SETTLED, ClaimStage, claim_stage

__all__ = ["CasePolicy"]  # registered with the app from here


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
    if is_after_today(loss_date):
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


@condition(_("This office does not make cards at the counter: order the card from the card bank."))
def instant_issuance_offered(case: "ReissueCase") -> bool:
    return case.rules.instant_issuance


@condition(
    _("The old card has been cancelled: the loss report can no longer be lifted."),
)
def old_card_not_cancelled(case: "ReissueCase") -> bool:
    return case.old_card_cancelled_at is None


@condition(_("No temporary card is out for this case."), decides_applicability=True)
def holds_temp_card(case: "ReissueCase") -> bool:
    return bool(case.temp_card_number) and not case.temp_card_returned


@condition(_("The new card was made at the counter: none is ordered."), decides_applicability=True)
def card_not_made_at_counter(case: "ReissueCase") -> bool:
    """Never true of a card made at the counter, so its case's locks name that step."""
    return case.card_ordered_on is not None or not case.ss_card_number


@condition(_("The temporary card is already valid for as long as the city's rules allow."))
def temp_card_extendable(case: "ReissueCase") -> bool:
    return (
        case.temp_card_valid_until is not None
        and case.temp_card_valid_until < case.temp_card_latest_valid_until()
    )


@condition(_("A document promised is still missing: record it before finishing the case."))
def no_document_outstanding(case: "ReissueCase") -> bool:
    if case.pk is None:
        return True
    return not case.document_promises.filter(received_on__isnull=True).exists()


SYSTEM_USERNAME = "reissue-desk-system"
CLOCK_PERMISSION = "reissue.run_case_clocks"


def only_the_system(instance, user) -> bool:
    """The clocks' steps: taken by the scheduled jobs' account alone (reissue.clocks), not by
    a superuser who would hold the permission too."""
    return getattr(user, "username", None) == SYSTEM_USERNAME and user.has_perm(CLOCK_PERMISSION)


@condition(_("The expense claim of this case has not been paid yet."))
def claim_paid(case: "ReissueCase") -> bool:
    return claim_stage(case) is ClaimStage.PAID


@condition(_("An expense claim is still open for this case: decide and pay it, or reject it."))
def nothing_to_reimburse(case: "ReissueCase") -> bool:
    return claim_stage(case) in SETTLED


# Where a card may be applied for, and what the application needs (case_workflow.CARD_APPLICATION
# are the fields these conditions read).
APPLYING_FOR_THE_CARD = [CaseState.REPORTED, CaseState.TEMP_CARD_ISSUED, CaseState.ID_REISSUED]
CARD_APPLICATION_CONDITIONS = [
    id_card_settled,
    identity_proven,
    photo_for_ic_conversion,
    agent_details_complete,
]


class ReissueCase(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="cases", verbose_name=_("applicant")
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="cases", verbose_name=_("office")
    )
    # The applicant's name kept on the case (copied at registration, rewritten when the name
    # is corrected: services.applicant_update), so one index of the case answers a search or
    # sort by name within an office; through the applicant PostgreSQL joined every case.
    # Labelled as the list's column always was ("applicant"): it is what the lists show.
    applicant_name = PlainCharField(_("applicant"), max_length=50, editable=False, default="")
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

    # The loss report: temporary ones lapse by themselves, formal ones cancel the old card.
    loss_report_kind = models.CharField(
        _("loss report"),
        max_length=10,
        choices=LossReportKind.choices,
        default=LossReportKind.FORMAL,
    )
    reported_via = models.CharField(
        _("reported"), max_length=10, choices=ReportChannel.choices, default=ReportChannel.COUNTER
    )
    told_to_report_bank_loss = models.BooleanField(
        _("told to report the loss to the card's bank too"), default=False
    )
    # SMS notices (notifications/): told at registration, the citizen may decline them.
    sms_opt_out = models.BooleanField(
        _("does not want SMS notices"),
        default=False,
        help_text=_(
            "Tell the citizen that notices about this case are sent by SMS to the phone given; "
            "tick if they do not want them."
        ),
    )
    sms_told_at = models.DateTimeField(
        _("told about SMS notices at"), null=True, blank=True, editable=False
    )
    lapses_at = models.DateTimeField(
        _("temporary report lapses at"), null=True, blank=True, editable=False
    )
    formal_reported_at = models.DateTimeField(
        _("formally reported at"), null=True, blank=True, editable=False
    )
    old_card_cancel_on = models.DateField(
        _("old card to be cancelled on"), null=True, blank=True, editable=False
    )
    old_card_cancelled_at = models.DateTimeField(
        _("old card cancelled at"), null=True, blank=True, editable=False
    )
    # The city's rules the case is handled under (case_policy.CaseRules), kept from its report.
    policy_values = models.JSONField(_("rules applied"), default=dict, blank=True, editable=False)
    service_due_on = models.DateField(_("service deadline"), null=True, blank=True, editable=False)
    overdue_flagged_at = models.DateTimeField(
        _("flagged overdue at"), null=True, blank=True, editable=False
    )

    ss_card_suspended_at = models.DateTimeField(_("SS card suspended at"), null=True, blank=True)
    temp_card_number = models.CharField(_("temporary card number"), max_length=32, blank=True)
    temp_card_issued_on = models.DateField(_("temporary card issued on"), null=True, blank=True)
    temp_card_valid_until = models.DateField(_("temporary card valid until"), null=True, blank=True)
    temp_card_expired_at = models.DateTimeField(
        _("temporary card expired at"), null=True, blank=True, editable=False
    )
    id_card_issued_on = models.DateField(_("new ID card issued on"), null=True, blank=True)
    # The new card: ordered from the card bank in a batch, produced, arrived, collected; or
    # made at the counter at once (instant issuance).
    card_batch = models.ForeignKey(
        "CardBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("card batch"),
    )
    card_ordered_on = models.DateField(_("new card ordered on"), null=True, blank=True)
    card_produced_on = models.DateField(_("new card produced on"), null=True, blank=True)
    card_arrived_on = models.DateField(_("new card arrived on"), null=True, blank=True)
    fee_charged = models.DecimalField(
        _("card fee charged (yuan)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    fee_waiver_reason = PlainCharField(_("fee waived because"), max_length=100, blank=True)
    ss_card_number = models.CharField(_("new SS card number"), max_length=32, blank=True)
    ss_card_issued_on = models.DateField(_("new SS card issued on"), null=True, blank=True)
    collected_by = models.CharField(
        _("collected by"), max_length=10, choices=Collector.choices, blank=True
    )
    collector_name = PlainCharField(_("collector's name"), max_length=50, blank=True)
    collector_id_checked = models.BooleanField(_("collector's ID card checked"), default=False)
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
            ("formalize_loss_report", _("Can make a temporary loss report formal")),
            ("extend_temp_card", _("Can extend a temporary card")),
            ("change_sms_choice", _("Can record the citizen's change of mind about SMS notices")),
            ("order_card", _("Can order a new SS card")),
            ("record_card_produced", _("Can record a new card produced")),
            ("record_card_arrived", _("Can record a new card arrived")),
            ("collect_card", _("Can hand over a new card")),
            ("run_case_clocks", _("Can run the case clocks (the system account)")),
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
                condition=~Q(state__in=CASE_WORKFLOW.flagged(CaseFlag.CARD_NUMBER_KNOWN))
                | ~Q(ss_card_number=""),
                name="case_ss_card_number_once_reissued",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.CANCELLED) | ~Q(cancel_reason=""),
                name="case_cancel_reason_when_cancelled",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.REPORTED_TEMPORARILY) | Q(lapses_at__isnull=False),
                name="case_temporary_report_lapses",
            ),
            models.CheckConstraint(
                condition=Q(fee_charged__isnull=True) | Q(fee_charged__gte=0),
                name="case_fee_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(card_batch__isnull=True) | Q(card_ordered_on__isnull=False),
                name="case_batch_when_ordered",
            ),
        ]
        indexes = [
            # The clocks (reissue.clocks): each reads its few due cases by date.
            models.Index(
                fields=["lapses_at"],
                condition=Q(state=CaseState.REPORTED_TEMPORARILY),
                name="case_lapsing_idx",
            ),
            models.Index(
                fields=["old_card_cancel_on"],
                condition=Q(old_card_cancelled_at__isnull=True, old_card_cancel_on__isnull=False),
                name="case_old_card_due_idx",
            ),
            models.Index(
                fields=["temp_card_valid_until"],
                condition=Q(temp_card_returned=False, temp_card_valid_until__isnull=False),
                name="case_temp_card_valid_idx",
            ),
            models.Index(fields=["state", "service_due_on"], name="case_state_due_idx"),
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
            # The list searched by the start of the applicant's name (LIKE 'x%'), in the
            # user's offices or across all, and sorted by it (bench/lists.py). The id included:
            # an office's matches are read from the index alone (at 1M PostgreSQL otherwise
            # preferred the office's own index and read every case of the office).
            models.Index(
                fields=["office", "applicant_name"],
                name="case_office_name_prefix_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
                include=["id"],
            ),
            models.Index(
                fields=["applicant_name"],
                name="case_name_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["applicant_name"], name="case_name_idx"),
            # One office's cases, and its applicants, sorted by the applicant's name: read in
            # the index's order (selectors.applicant_ids_by_name). Walking the names of every
            # office, a small office met one of its own in 50 (bench/lists.py).
            models.Index(
                fields=["office", "applicant_name", "applicant"],
                name="case_office_name_idx",
            ),
            # (A search by the start of a reference uses the unique reference's own index: on
            # PostgreSQL Django gives a unique varchar a second, varchar_pattern_ops, index.)
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            self.fill_report_clocks()
            self.applicant_name = self.applicant.name
        super().save(*args, **kwargs)

    @property
    def id_card_lost(self) -> bool:
        return self.lost_items in (LostItems.BOTH, LostItems.ID_CARD)

    @property
    def ss_card_lost(self) -> bool:
        return self.lost_items in (LostItems.BOTH, LostItems.SS_CARD)

    @property
    def is_open(self) -> bool:
        return self.state in CASE_WORKFLOW.open_states

    @property
    def rules(self) -> CaseRules:
        """The city's rules this case is handled under (kept from its report)."""
        return CaseRules.from_snapshot(self.policy_values)

    def temp_card_latest_valid_until(self) -> datetime.date | None:
        """Return the last day an extension may make the temporary card valid to."""
        if self.temp_card_issued_on is None:
            return None
        return self.temp_card_issued_on + datetime.timedelta(
            days=self.rules.temp_card_max_valid_days
        )

    def id_card_due_on(self) -> datetime.date | None:
        """Return the day by which the police must issue the new ID card (the law's clock)."""
        if not self.id_card_lost:
            return None
        reported_on = timezone.localdate(self.formal_reported_at or self.reported_at)
        return reported_on + datetime.timedelta(days=self.rules.id_card_issue_days)

    def days_open(self) -> int:
        """Return the calendar days from the report to the finish (or to today, while open)."""
        # One look-up of the time zone, not two: a list of 100 cases asks this per row.
        zone = timezone.get_current_timezone()
        end = self.finished_at or timezone.now()
        return (
            timezone.localtime(end, zone).date() - timezone.localtime(self.reported_at, zone).date()
        ).days

    def fill_report_clocks(self) -> None:
        """Keep the city's rules in force at the report, and the clocks they start.

        Facts of the report, whoever creates the case (registration, the legacy import, the
        demo): a temporary report lapses, a formal one cancels the old card, and the service
        deadline runs from a formal report.
        """
        from .deadlines import service_due_on  # (deadlines reads the workflow declared here)

        reported_on = timezone.localdate(self.reported_at)
        if not self.policy_values:
            self.policy_values = rules_in_force(self.office_id, reported_on).snapshot()
        rules = self.rules
        if self.loss_report_kind == LossReportKind.TEMPORARY:
            if self.lapses_at is None:
                self.lapses_at = lapse_moment(self.reported_at, rules)
            return
        self.formal_reported_at = self.formal_reported_at or self.reported_at
        if self.ss_card_lost and self.old_card_cancel_on is None:
            self.old_card_cancel_on = reported_on + datetime.timedelta(
                days=rules.old_card_cancelled_after_days
            )
        if self.service_due_on is None:
            self.service_due_on = service_due_on(reported_on, rules)

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
        source=CaseState.REPORTED_TEMPORARILY,
        target=CaseState.REPORTED,
        conditions=[identity_proven],
        permission="reissue.formalize_loss_report",
        custom={"label": _("Make the loss report formal")},
    )
    def formalize_loss_report(self, *, old_card_cancel_on, service_due_on) -> None:
        self.loss_report_kind = LossReportKind.FORMAL
        self.formal_reported_at = timezone.now()
        self.old_card_cancel_on = old_card_cancel_on
        self.service_due_on = service_due_on

    @transition(
        field=state,
        source=CaseState.REPORTED_TEMPORARILY,
        target=CaseState.LAPSED,
        permission=only_the_system,
        custom={"label": _("Lapse the temporary loss report")},
    )
    def lapse_loss_report(self) -> None:
        self.ss_card_unblocked_at = self.finished_at = timezone.now()

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
        self.temp_card_valid_until = issued_on + datetime.timedelta(
            days=self.rules.temp_card_valid_days
        )

    @transition(
        field=state,
        source=CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD),
        target=None,  # the case stays where it is
        conditions=[holds_temp_card, temp_card_extendable],
        permission="reissue.extend_temp_card",
        custom={"label": _("Extend the temporary card")},
    )
    def extend_temp_card(self, *, valid_until) -> None:
        self.temp_card_valid_until = valid_until
        self.temp_card_expired_at = None

    @transition(
        field=state,
        source=CASE_WORKFLOW.open_states,
        target=None,  # the case stays where it is
        permission="reissue.change_sms_choice",
        custom={"label": _("Change the SMS notices choice")},
    )
    def change_sms_choice(self, *, opt_out: bool, told_at: datetime.datetime) -> None:
        self.sms_opt_out = opt_out
        self.sms_told_at = told_at

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
        source=APPLYING_FOR_THE_CARD,
        target=CaseState.CARD_ORDERED,
        conditions=[*CARD_APPLICATION_CONDITIONS, card_not_made_at_counter],
        permission="reissue.order_card",
        custom={"label": _("Order the new card from the card bank")},
    )
    def order_card(self, *, batch: "CardBatch", ordered_on, fee_charged, fee_waiver_reason) -> None:
        self.card_batch = batch
        self.card_ordered_on = ordered_on
        self.fee_charged, self.fee_waiver_reason = fee_charged, fee_waiver_reason

    @transition(
        field=state,
        source=APPLYING_FOR_THE_CARD,
        target=CaseState.SS_CARD_REISSUED,
        conditions=[*CARD_APPLICATION_CONDITIONS, instant_issuance_offered],
        permission="reissue.reissue_ss_card",
        custom={"label": _("Make the new SS card at the counter")},
    )
    def reissue_ss_card(
        self,
        *,
        card_number: str,
        issued_on,
        fee_charged=None,
        fee_waiver_reason: str = "",
        temp_card_returned: bool = False,
    ) -> None:
        self.ss_card_number = card_number
        self.ss_card_issued_on = issued_on
        self.fee_charged, self.fee_waiver_reason = fee_charged, fee_waiver_reason
        self.temp_card_returned = self.temp_card_returned or temp_card_returned

    @transition(
        field=state,
        source=CaseState.CARD_ORDERED,
        target=CaseState.CARD_PRODUCED,
        permission="reissue.record_card_produced",
        custom={"label": _("Record the new card produced")},
    )
    def record_card_produced(self, *, card_number: str, produced_on) -> None:
        self.ss_card_number = card_number
        self.card_produced_on = produced_on

    @transition(
        field=state,
        source=CaseState.CARD_PRODUCED,
        target=CaseState.CARD_ARRIVED,
        permission="reissue.record_card_arrived",
        custom={"label": _("Record the new card arrived")},
    )
    def record_card_arrived(self, *, arrived_on) -> None:
        self.card_arrived_on = arrived_on

    @transition(
        field=state,
        source=CaseState.CARD_ARRIVED,
        target=CaseState.SS_CARD_REISSUED,
        conditions=[agent_details_complete],
        permission="reissue.collect_card",
        custom={"label": _("Hand over the new card")},
    )
    def collect_card(
        self,
        *,
        collected_on,
        collected_by: str,
        collector_name: str,
        temp_card_returned: bool = False,
    ) -> None:
        self.ss_card_issued_on = collected_on
        self.collected_by, self.collector_name = collected_by, collector_name
        self.collector_id_checked = True
        self.temp_card_returned = self.temp_card_returned or temp_card_returned

    @transition(
        field=state,
        source=CaseState.SS_CARD_REISSUED,
        target=CaseState.REIMBURSED,
        conditions=[claim_paid, no_document_outstanding],
        permission="reissue.reimburse_case",
        custom={"label": _("Mark reimbursed")},
    )
    def reimburse(self) -> None:
        self.finished_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.SS_CARD_REISSUED,
        target=CaseState.CLOSED,
        conditions=[nothing_to_reimburse, no_document_outstanding],
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
        source=[
            CaseState.REPORTED_TEMPORARILY,
            CaseState.REPORTED,
            CaseState.TEMP_CARD_ISSUED,
            CaseState.ID_REISSUED,
        ],
        target=CaseState.LIFTED,
        conditions=[ss_card_was_lost, old_card_not_cancelled],
        permission="reissue.lift_loss_report",
        custom={"label": _("Lift loss report (card found)")},
    )
    def lift_loss_report(self, *, reason: str, temp_card_returned: bool) -> None:
        self.lift_reason = reason
        self.temp_card_returned = temp_card_returned
        self.ss_card_unblocked_at = self.finished_at = timezone.now()

    # The clocks' steps (reissue.clocks): the system account takes them when they fall due.

    @transition(
        field=state,
        source=CASE_WORKFLOW.open_states,
        target=None,
        permission=only_the_system,
        custom={"label": _("Cancel the old card")},
    )
    def cancel_old_card(self) -> None:
        self.old_card_cancelled_at = timezone.now()

    @transition(
        field=state,
        source=CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD),
        target=None,
        permission=only_the_system,
        custom={"label": _("Mark the temporary card expired")},
    )
    def expire_temp_card(self) -> None:
        self.temp_card_expired_at = timezone.now()

    @transition(
        field=state,
        source=CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD),
        target=None,
        permission=only_the_system,
        custom={"label": _("Flag the case overdue")},
    )
    def flag_overdue(self) -> None:
        self.overdue_flagged_at = timezone.now()


class CardBatch(models.Model):
    """The new cards an office ordered from the card bank together, sent as one file.

    Open while cases are added; sent when its production file is exported (the file's
    SHA-256 kept); returned when the bank's file of card numbers is imported; arrived when
    the cards reached the office.
    """

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="card_batches", verbose_name=_("office")
    )
    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent to the card bank at"), null=True, blank=True)
    file_sha256 = models.CharField(_("production file SHA-256"), max_length=64, blank=True)
    # The production file as sent, in base64, encrypted by the field (it holds full ID
    # numbers): a re-download gives the bank the same bytes even after a name was corrected.
    production_file = EncryptedCharField(blank=True, editable=False)
    returned_at = models.DateTimeField(_("return file imported at"), null=True, blank=True)
    arrived_on = models.DateField(_("cards arrived on"), null=True, blank=True)

    class Meta:
        verbose_name = _("card batch")
        verbose_name_plural = _("card batches")
        ordering = ["-created_at", "-id"]
        permissions = [("send_card_batch", _("Can send a card batch to the card bank"))]
        constraints = [
            # One batch per office takes new orders at a time.
            models.UniqueConstraint(
                fields=["office"],
                condition=Q(sent_at__isnull=True),
                name="card_batch_one_open_per_office",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.sent_at is None


class DocumentPromise(models.Model):
    """A secondary document accepted as missing on the citizen's signed promise (容缺受理).

    The case goes on but cannot finish until the document is recorded; its service deadline
    is counted again from the day it arrives.
    """

    case = models.ForeignKey(
        ReissueCase,
        on_delete=models.PROTECT,
        related_name="document_promises",
        verbose_name=_("case"),
    )
    document = models.CharField(_("document"), max_length=20, choices=SecondaryDocument.choices)
    promised_on = models.DateField(_("promise signed on"), default=timezone.localdate)
    due_on = models.DateField(_("to be brought by"))
    received_on = models.DateField(_("brought on"), null=True, blank=True)

    class Meta:
        verbose_name = _("document promised")
        verbose_name_plural = _("documents promised")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "document"],
                name="document_promise_once_per_case",
                violation_error_message=_("This document is already promised for the case."),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("promised_on")),
                name="document_promise_due_after_promise",
            ),
        ]

    def __str__(self) -> str:
        return self.get_document_display()


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
    "told_to_report_bank_loss",
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


# An upload previewed and never confirmed is deleted this long after (reissue.tasks).
UPLOAD_KEPT = datetime.timedelta(days=1)


class ImportState(models.TextChoices):
    """Where an upload is: previewed in the request, or a worker's check and import."""

    PREVIEW = "preview", _("previewed")  # checked within the request (import-export's preview)
    CHECKING = "checking", _("checking")
    CHECKED = "checked", _("checked")
    QUEUED = "queued", _("waiting to be imported")
    IMPORTING = "importing", _("importing")
    IMPORTED = "imported", _("imported")
    FAILED = "failed", pgettext_lazy("import state", "failed")


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

    # A file too long to check within a request is checked, then imported, by a worker
    # (`reissue.tasks`); its progress is kept here for the page its uploader watches.
    state = models.CharField(
        max_length=10, choices=ImportState.choices, default=ImportState.PREVIEW, editable=False
    )
    file_format = models.CharField(max_length=4, blank=True, editable=False)  # csv, xlsx
    total_rows = models.PositiveIntegerField(null=True, editable=False)
    rows_checked = models.PositiveIntegerField(default=0, editable=False)
    rows_written = models.PositiveIntegerField(default=0, editable=False)
    problem_count = models.PositiveIntegerField(default=0, editable=False)
    # The first IMPORT_MAX_ERRORS_LISTED bad rows: [{number, errors}] (no personal data).
    problems = models.JSONField(default=list, editable=False)
    # The first rows as the preview shows them (personal numbers masked), to check the names;
    # emptied when the upload is imported or fails.
    sample = models.JSONField(default=list, editable=False)
    # Why the file was refused or the import failed, for its uploader.
    failure = models.TextField(blank=True, editable=False)
    # A worker's check that every row passed: each batch's digest and the offices named
    # (`legacy_import.PassedCheck`), so that the confirmed import checks the rows only for
    # what the database may have changed since. No personal data.
    passed_check = models.JSONField(default=dict, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("import upload")
        verbose_name_plural = _("import uploads")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.name)
