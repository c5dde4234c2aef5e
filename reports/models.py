"""The reports' permission (an admin entry with no table) and the dashboard's daily aggregates."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from offices.models import Office


class SupervisorDashboard(models.Model):
    """No table: the admin's entry for the supervisor dashboard, and the right to open it."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can see the supervisor dashboard and download it"))]
        verbose_name = _("supervisor dashboard")
        verbose_name_plural = _("supervisor dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# A row of the aggregates covers a day, or a week (Monday to Sunday, `day` its Monday): a year
# is read as 52 weeks and the days at its ends, not 365 days.
DAY, WEEK = "d", "w"


class CaseDay(models.Model):
    """How many cases of an office were reported on a day or in a week (Asia/Shanghai) and are
    in a state now.

    Kept exact in the transaction of each write (`reports.daily`); rebuilt from the cases by
    `manage.py rebuild_dashboard_aggregates`.
    """

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    span = models.CharField(max_length=1)  # DAY or WEEK
    day = models.DateField()
    state = models.CharField(max_length=32)
    cases = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["office", "span", "day", "state"], name="case_day_key"),
        ]
        # Covering (PostgreSQL; a plain index on SQLite): all offices' rows of a range of
        # days read from the index alone (reports.selectors._span_rows).
        indexes = [
            models.Index(
                fields=["span", "day"], include=["state", "cases"], name="case_day_all_offices_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.span}{self.day} {self.state}: {self.cases}"


class CardDay(models.Model):
    """How many cases of an office got their new SS card on a day or in a week, `days` after
    the report.

    Only cases whose state says the card was issued count; a histogram per day, so that the
    percentiles of the days to a new card are read without the cases.
    """

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    span = models.CharField(max_length=1)  # DAY or WEEK
    day = models.DateField()
    days = models.IntegerField()
    cases = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["office", "span", "day", "days"], name="card_day_key"),
        ]
        indexes = [
            models.Index(
                fields=["span", "day"], include=["days", "cases"], name="card_day_all_offices_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.span}{self.day} +{self.days}: {self.cases}"


class ClaimDay(models.Model):
    """The amounts of an office's claims on a day, in fen (integers: exact on every database).

    `claimed`: receipts of the claims submitted that day; `approved`: reimbursable totals of
    the claims (approved or paid) examined that day; `paid`: those of the claims paid that day.
    """

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed = models.BigIntegerField(default=0)
    approved = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["office", "day"], name="claim_day_key")]
        indexes = [models.Index(fields=["day"], name="claim_day_all_offices_idx")]

    def __str__(self) -> str:
        return f"{self.office_id} {self.day}: {self.claimed}/{self.approved}/{self.paid}"
