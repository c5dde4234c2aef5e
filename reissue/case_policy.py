"""The city's rules of a lost-card case (办事规则), versioned per office like the claims' policy.

What differs between cities is data, never code: how long a temporary loss report holds, when a
formally reported card is cancelled, how long a temporary card is valid and how far it may be
extended, the service deadline, the police's time for a new ID card, the fee and its waivers,
and whether the office makes cards on the spot. A case keeps the values it was registered
under (`ReissueCase.policy_values`), so a policy changed later never rewrites its history.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office
from workdays.calendar import add_working_days, start_of_day


@dataclasses.dataclass(frozen=True)
class CaseRules:
    """The values a case is handled under (a snapshot of the policy in force at its report)."""

    temporary_report_lapse_days: int = 15
    temporary_report_lapse_in_working_days: bool = False
    old_card_cancelled_after_days: int = 15
    temp_card_valid_days: int = 60
    temp_card_max_valid_days: int = 183
    service_deadline_working_days: int = 15
    id_card_issue_days: int = 60
    card_fee: Decimal = Decimal("0.00")
    fee_waivers: tuple[str, ...] = ()
    instant_issuance: bool = True
    policy_id: int | None = None  # None: the built-in defaults (no policy entered)
    effective_from: str = ""

    def snapshot(self) -> dict:
        """Return the values as JSON for the case to keep."""
        values = dataclasses.asdict(self)
        values["card_fee"] = str(self.card_fee)
        values["fee_waivers"] = list(self.fee_waivers)
        return values

    @classmethod
    def from_snapshot(cls, values: dict | None) -> "CaseRules":
        """Read a kept snapshot; a value missing (a case from before it existed) is the default."""
        known = {f.name for f in dataclasses.fields(cls)}
        given = {key: value for key, value in (values or {}).items() if key in known}
        if "card_fee" in given:
            given["card_fee"] = Decimal(given["card_fee"])
        if "fee_waivers" in given:
            given["fee_waivers"] = tuple(given["fee_waivers"])
        return dataclasses.replace(default_rules(), **given)


def default_rules() -> CaseRules:
    """Return the rules of an office with no policy: the defaults, the deadline from settings."""
    return CaseRules(service_deadline_working_days=settings.SERVICE_DEADLINE_WORKING_DAYS)


DAYS = [MinValueValidator(1), MaxValueValidator(3660)]


class CasePolicy(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="case_policies", verbose_name=_("office")
    )
    effective_from = models.DateField(_("effective from"))
    temporary_report_lapse_days = models.PositiveSmallIntegerField(
        _("a temporary loss report lapses after (days)"),
        default=15,
        validators=DAYS,
        help_text=_("The card works again unless a formal report follows in this time."),
    )
    temporary_report_lapse_in_working_days = models.BooleanField(
        _("count the lapse in working days"), default=False
    )
    old_card_cancelled_after_days = models.PositiveSmallIntegerField(
        _("the old card is cancelled after a formal report (days)"), default=15, validators=DAYS
    )
    temp_card_valid_days = models.PositiveSmallIntegerField(
        _("a temporary card is valid for (days)"), default=60, validators=DAYS
    )
    temp_card_max_valid_days = models.PositiveSmallIntegerField(
        _("extended, at most (days from issue)"), default=183, validators=DAYS
    )
    service_deadline_working_days = models.PositiveSmallIntegerField(
        _("service deadline (working days)"), default=15, validators=DAYS
    )
    id_card_issue_days = models.PositiveSmallIntegerField(
        _("the police issue a new ID card within (days)"),
        default=60,
        validators=DAYS,
        help_text=_("60 days; 90 in remote areas (Resident Identity Card Law, art. 12)."),
    )
    card_fee = models.DecimalField(
        _("card fee (yuan)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal(0))],
    )
    fee_waivers = models.TextField(
        _("fee waived for"),
        blank=True,
        help_text=_("One group per line, for example: 最低生活保障对象"),
    )
    instant_issuance = models.BooleanField(_("cards made at the counter (即时制卡)"), default=True)

    class Meta:
        verbose_name = _("case policy")
        verbose_name_plural = _("case policies")
        ordering = ["office", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "effective_from"],
                name="case_policy_one_per_office_and_day",
                violation_error_message=_("This office already has a case policy from that day."),
            ),
            models.CheckConstraint(
                condition=Q(temp_card_max_valid_days__gte=models.F("temp_card_valid_days")),
                name="case_policy_extension_not_shorter",
                violation_error_message=_(
                    "A temporary card cannot be extended to less than its first validity."
                ),
            ),
            models.CheckConstraint(
                condition=Q(card_fee__gte=0), name="case_policy_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office.code} {self.effective_from:%Y-%m-%d}"

    def rules(self) -> CaseRules:
        return CaseRules(
            temporary_report_lapse_days=self.temporary_report_lapse_days,
            temporary_report_lapse_in_working_days=self.temporary_report_lapse_in_working_days,
            old_card_cancelled_after_days=self.old_card_cancelled_after_days,
            temp_card_valid_days=self.temp_card_valid_days,
            temp_card_max_valid_days=self.temp_card_max_valid_days,
            service_deadline_working_days=self.service_deadline_working_days,
            id_card_issue_days=self.id_card_issue_days,
            card_fee=self.card_fee,
            fee_waivers=tuple(
                line.strip() for line in self.fee_waivers.splitlines() if line.strip()
            ),
            instant_issuance=self.instant_issuance,
            policy_id=self.pk,
            effective_from=self.effective_from.isoformat(),
        )


def rules_in_force(office_id: int, day: datetime.date) -> CaseRules:
    """Return the rules of the office's policy in force on `day`, or the defaults."""
    policy = (
        CasePolicy.objects.filter(office_id=office_id, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    return policy.rules() if policy else default_rules()


def lapse_moment(reported_at: datetime.datetime, rules: CaseRules) -> datetime.datetime:
    """Return when a temporary loss report made at `reported_at` lapses by itself.

    In calendar days, the same time of day N days on; in working days, the end of the Nth
    working day after the report.
    """
    if not rules.temporary_report_lapse_in_working_days:
        return reported_at + datetime.timedelta(days=rules.temporary_report_lapse_days)
    last = add_working_days(timezone.localdate(reported_at), rules.temporary_report_lapse_days)
    return start_of_day(last + datetime.timedelta(days=1))
