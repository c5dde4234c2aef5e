"""Medical-expense claims of a case, reimbursed once after examination, and office policies."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from common.display import format_percent, format_yuan
from common.text import PlainCharField, match_key
from offices.models import Office
from reissue.models import EARLIEST_LOSS_DATE, CaseState, ReissueCase
from reissue.reimbursement import ClaimSource, ClaimStage
from workflow.fsm import ConcurrentTransitionMixin
from workflow.transitions import condition, field_locks

from .calculation import PolicyTerms

MONEY = {"max_digits": 12, "decimal_places": 2}
RATE_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class ExpenseCategory(models.TextChoices):
    OUTPATIENT = "outpatient", _("outpatient")
    INPATIENT = "inpatient", _("inpatient")
    PHARMACY = "pharmacy", _("pharmacy")


class ReimbursementPolicy(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="policies", verbose_name=_("office")
    )
    effective_from = models.DateField(_("effective from"))
    deductible = models.DecimalField(
        _("deductible (yuan)"), validators=[MinValueValidator(Decimal(0))], **MONEY
    )
    rate_outpatient = models.DecimalField(
        _("outpatient rate"), max_digits=4, decimal_places=3, validators=RATE_VALIDATORS
    )
    rate_inpatient = models.DecimalField(
        _("inpatient rate"), max_digits=4, decimal_places=3, validators=RATE_VALIDATORS
    )
    rate_pharmacy = models.DecimalField(
        _("pharmacy rate"), max_digits=4, decimal_places=3, validators=RATE_VALIDATORS
    )
    cap_per_case = models.DecimalField(
        _("cap per case (yuan)"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )

    class Meta:
        verbose_name = _("reimbursement policy")
        verbose_name_plural = _("reimbursement policies")
        ordering = ["office", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "effective_from"],
                name="policy_one_per_office_and_day",
                violation_error_message=_("This office already has a policy from that day."),
            ),
            models.CheckConstraint(
                condition=Q(deductible__gte=0) & Q(cap_per_case__gt=0),
                name="policy_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(rate_outpatient__gte=0, rate_outpatient__lte=1)
                & Q(rate_inpatient__gte=0, rate_inpatient__lte=1)
                & Q(rate_pharmacy__gte=0, rate_pharmacy__lte=1),
                name="policy_rates_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office.code} {self.effective_from:%Y-%m-%d}"

    def terms(self) -> PolicyTerms:
        return PolicyTerms(
            deductible=self.deductible,
            rates={
                ExpenseCategory.OUTPATIENT: self.rate_outpatient,
                ExpenseCategory.INPATIENT: self.rate_inpatient,
                ExpenseCategory.PHARMACY: self.rate_pharmacy,
            },
            cap=self.cap_per_case,
        )

    def snapshot(self) -> dict:
        """Return the values used for a decision, kept with it as plain strings."""
        return {
            "policy_id": self.pk,
            "office": self.office.code,
            "effective_from": self.effective_from.isoformat(),
            "deductible": str(self.deductible),
            "rates": {key: str(value) for key, value in self.terms().rates.items()},
            "cap_per_case": str(self.cap_per_case),
        }


def policy_summary(values: dict) -> str:
    """Return a policy's values (a `snapshot`) as a sentence: "DC from 2026-01-01: deductible
    ¥100.00, outpatient 70 %, ..., cap ¥5,000.00 per case"."""
    labels = dict(ExpenseCategory.choices)
    separator = pgettext("list separator", ", ")
    rates = separator.join(
        f"{labels.get(category, category)} {format_percent(rate)}"
        for category, rate in (values.get("rates") or {}).items()
    )
    return gettext(
        "%(office)s from %(since)s: deductible %(deductible)s, %(rates)s, cap %(cap)s per case"
    ) % {
        "office": values.get("office", ""),
        "since": values.get("effective_from", ""),
        "deductible": format_yuan(values.get("deductible")),
        "rates": rates,
        "cap": format_yuan(values.get("cap_per_case")),
    }


class ClaimState(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    PAID = "paid", _("paid")


STAGE_OF_STATE = {
    ClaimState.DRAFT: ClaimStage.BEING_PREPARED,
    ClaimState.SUBMITTED: ClaimStage.BEING_EXAMINED,
    ClaimState.APPROVED: ClaimStage.TO_BE_PAID,
    ClaimState.REJECTED: ClaimStage.REJECTED,
    ClaimState.PAID: ClaimStage.PAID,
}


def _stage_of(case) -> ClaimStage:
    claim = getattr(case, "expense_claim", None)
    return ClaimStage.NONE if claim is None else STAGE_OF_STATE[claim.state]


NO_CLAIM = ""  # the claim state of a case without a claim, in _cases_at


def _cases_at(stages: frozenset[ClaimStage]) -> Q:
    states = [str(state) for state, stage in STAGE_OF_STATE.items() if stage in stages]
    if ClaimStage.NONE in stages:
        states.append(NO_CLAIM)
    # The case's claim state read by a scalar subquery, per case the filter reaches, through
    # the claim's unique case index. A join (or EXISTS, which PostgreSQL hashes) read every
    # claim of every office: the work queue's count and ?waiting=yes took 350-940 ms at 1M.
    claim_state = ExpenseClaim.objects.filter(case=OuterRef("pk")).order_by().values("state")[:1]
    return Q(In(Coalesce(Subquery(claim_state), Value(NO_CLAIM)), states))


def claim_source() -> ClaimSource:
    """Return how a case reads its claim (registered in ClaimsConfig.ready)."""
    return ClaimSource(stage_of=_stage_of, cases_at=_cases_at)


def case_locks(case) -> dict:
    """Return {field of the case: claim step} for what the case's claim relied on."""
    claim = getattr(case, "expense_claim", None)
    return {} if claim is None else field_locks(claim, of="case")


@condition(_("Add at least one receipt before submitting."))
def has_items(claim: "ExpenseClaim") -> bool:
    return claim.items.exists()


@condition(_("The case is finished or cancelled: its claim can no longer go ahead."))
def case_still_open(claim: "ExpenseClaim") -> bool:
    return claim.case.is_open


@condition(_("The SS card must be reissued before paying: paying moves the case to “reimbursed”."))
def case_awaits_reimbursement(claim: "ExpenseClaim") -> bool:
    return claim.case.state == CaseState.SS_CARD_REISSUED


def examiner_is_not_the_enterer(claim: "ExpenseClaim", user) -> bool:
    """Four eyes: whoever entered or submitted a claim may not decide it."""
    return user.has_perm("claims.examine_claim") and user.pk not in (
        claim.entered_by_id,
        claim.submitted_by_id,
    )


class ExpenseClaim(ConcurrentTransitionMixin, models.Model):
    case = models.OneToOneField(
        ReissueCase,
        on_delete=models.PROTECT,
        related_name="expense_claim",
        verbose_name=_("case"),
        error_messages={"unique": _("This case already has an expense claim.")},
    )
    # The case's office kept on the claim (a case never changes office), so one office's
    # claims are read through an index of their own, not found among all through the case.
    office = models.ForeignKey(
        Office,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office"),
        editable=False,
        db_index=False,  # claim_office_newest_idx leads with the office
    )
    state = FSMField(
        _("state"), default=ClaimState.DRAFT, choices=ClaimState.choices, protected=True
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    examined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("examined by"),
    )
    examined_at = models.DateTimeField(_("examined at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    policy = models.ForeignKey(
        ReimbursementPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("policy applied"),
    )
    policy_snapshot = models.JSONField(_("policy values applied"), default=dict, blank=True)
    eligible_total = models.DecimalField(_("eligible total"), null=True, blank=True, **MONEY)
    reimbursable_total = models.DecimalField(
        _("reimbursable total"), null=True, blank=True, **MONEY
    )
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("expense claim")
        verbose_name_plural = _("expense claims")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_claim", _("Can submit an expense claim")),
            ("examine_claim", _("Can approve or reject an expense claim")),
            ("pay_claim", _("Can pay an expense claim")),
            ("export_claims", _("Can export expense claims")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=ClaimState.REJECTED) | ~Q(decision_reason=""),
                name="claim_reason_when_rejected",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[ClaimState.APPROVED, ClaimState.PAID])
                | Q(reimbursable_total__isnull=False),
                name="claim_amount_once_approved",
            ),
            models.CheckConstraint(
                condition=~Q(state=ClaimState.PAID) | ~Q(payment_reference=""),
                name="claim_payment_reference_when_paid",
            ),
            models.CheckConstraint(
                condition=Q(examined_by__isnull=True)
                | (
                    ~Q(examined_by=models.F("entered_by"))
                    & ~Q(examined_by=models.F("submitted_by"))
                ),
                name="claim_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["payment_reference"],
                condition=~Q(payment_reference=""),
                name="claim_unique_payment_reference",
                violation_error_message=_("This payment reference was already used."),
            ),
        ]
        indexes = [
            models.Index(fields=["state"], name="claim_state_idx"),
            # The list, newest first (bench/lists.py).
            models.Index(fields=["-created_at", "-id"], name="claim_newest_idx"),
            # One office's claims, newest first: the list and its count (bench/lists.py).
            models.Index(fields=["office", "-created_at", "-id"], name="claim_office_newest_idx"),
        ]

    def __str__(self) -> str:
        return _("Claim of %(reference)s") % {"reference": self.case.reference}

    def save(self, *args, **kwargs) -> None:
        if self.office_id is None:
            self.office_id = self.case.office_id
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None) -> None:
        # As on the case: the protected state changes only by a transition.
        super().clean_fields(exclude={*(exclude or ()), "state"})

    @classmethod
    def audit_value_display(cls, name: str, data) -> str | None:
        """Return a recorded value of the audit trail as text, where a sentence reads better."""
        if name == "policy_snapshot" and isinstance(data, dict):
            return policy_summary(data)
        return None

    @property
    def is_editable(self) -> bool:
        """Receipts can be added or changed only while the claim is a draft."""
        return self.state == ClaimState.DRAFT

    @transition(
        field=state,
        source=ClaimState.DRAFT,
        target=ClaimState.SUBMITTED,
        conditions=[has_items, case_still_open],
        permission="claims.submit_claim",
        custom={"label": _("Submit for examination")},
    )
    def submit(self, *, by, at) -> None:
        self.submitted_by, self.submitted_at = by, at

    @transition(
        field=state,
        source=ClaimState.SUBMITTED,
        target=ClaimState.APPROVED,
        conditions=[case_still_open],
        permission=examiner_is_not_the_enterer,
        custom={"label": _("Approve")},
    )
    def approve(self, *, by, at, policy, assessment, reason: str = "") -> None:
        self.examined_by, self.examined_at, self.decision_reason = by, at, reason
        self.policy, self.policy_snapshot = policy, policy.snapshot()
        self.eligible_total = assessment.eligible_total
        self.reimbursable_total = assessment.reimbursable_total

    @transition(
        field=state,
        source=ClaimState.SUBMITTED,
        target=ClaimState.REJECTED,
        permission=examiner_is_not_the_enterer,
        custom={"label": _("Reject")},
    )
    def reject(self, *, by, at, reason: str) -> None:
        self.examined_by, self.examined_at, self.decision_reason = by, at, reason

    @transition(
        field=state,
        source=ClaimState.APPROVED,
        target=ClaimState.PAID,
        conditions=[case_awaits_reimbursement],
        permission="claims.pay_claim",
        custom={"label": _("Pay")},
    )
    def pay(self, *, by, at, payment_reference: str) -> None:
        self.paid_by, self.paid_at, self.payment_reference = by, at, payment_reference


class ClaimItem(models.Model):
    claim = models.ForeignKey(
        ExpenseClaim, on_delete=models.PROTECT, related_name="items", verbose_name=_("claim")
    )
    # Receipts are matched by hospital and number: the number is kept folded and the hospital's
    # name as typed ("（和平里店）"), matched by its folded key (reissue.text), so blanks,
    # letter case, fullwidth forms or invisible characters never let one through twice.
    provider = PlainCharField(_("hospital or pharmacy"), max_length=100)
    provider_key = models.CharField(
        _("hospital or pharmacy, as matched"), max_length=100, editable=False, default=""
    )
    visit_date = models.DateField(_("visit date"))
    receipt_number = PlainCharField(_("receipt number"), max_length=40, upper=True)
    category = models.CharField(_("category"), max_length=12, choices=ExpenseCategory.choices)
    amount = models.DecimalField(
        _("amount paid (yuan)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    # Kept with the decision, so that what was approved stays as it was.
    eligible = models.BooleanField(_("eligible"), null=True, editable=False)
    reimbursable_amount = models.DecimalField(
        _("reimbursable amount"), null=True, editable=False, max_digits=10, decimal_places=2
    )

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["visit_date", "receipt_number", "id"]
        indexes = [
            # The dashboard's amounts per month read the amounts from the index alone.
            models.Index(fields=["claim"], include=["amount"], name="claim_item_claim_amount_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_key", "receipt_number"],
                name="claim_item_receipt_claimed_once",
                violation_error_message=_("This receipt has already been claimed."),
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_item_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.receipt_number}"

    def save(self, *args, **kwargs) -> None:
        self.provider_key = match_key(self.provider)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.provider_key = match_key(self.provider)
        errors = {}
        if self.amount is not None and self.amount <= 0:
            errors["amount"] = _("The amount must be more than zero.")
        if self.visit_date is not None:
            try:
                validate_visit_date(self.visit_date, loss_date=self._loss_date())
            except ValidationError as error:
                errors["visit_date"] = error.error_list
        if errors:
            raise ValidationError(errors)

    def _loss_date(self) -> datetime.date | None:
        """Return the date of loss of the receipt's case, if the claim and case are known yet."""
        try:
            return self.claim.case.loss_date
        except ObjectDoesNotExist:  # a new claim whose case the form has not accepted
            return None


def validate_visit_date(visit_date: datetime.date, *, loss_date: datetime.date | None) -> None:
    """Refuse a visit in the future or before the loss: such a receipt is not part of the gap.

    (A visit after the new SS card is accepted and listed as ineligible, with the reason.)
    """
    if visit_date > timezone.localdate():
        raise ValidationError(_("The visit date cannot be in the future."), code="future")
    if loss_date is not None and visit_date < loss_date:
        raise ValidationError(
            _(
                "The visit was before the date of loss (%(date)s): only expenses after the "
                "loss are reimbursed. Check the date on the receipt."
            ),
            code="before_loss",
            params={"date": loss_date.isoformat()},
        )
    if visit_date < EARLIEST_LOSS_DATE:
        raise ValidationError(
            _("The visit date cannot be before %(date)s."),
            code="too_early",
            params={"date": EARLIEST_LOSS_DATE.isoformat()},
        )
