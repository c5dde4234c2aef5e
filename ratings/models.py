"""The citizen's rating of a finished case (政务服务好差评), its follow-up and its appeal.

One rating per case (a unique constraint: a second one, or a race, is refused). A poor rating
(不满意, 非常不满意) opens a follow-up (整改) for the office's supervisor, due within
RATING_FOLLOW_UP_WORKING_DAYS working days; an office may appeal a rating made in error
(申诉), which an auditor decides; an upheld appeal leaves the rating out of the figures.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from offices.models import Office

COMMENT_MAX_LENGTH = 500


class RatingLevel(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("very satisfied")
    SATISFIED = "satisfied", _("satisfied")
    FAIRLY_SATISFIED = "fairly_satisfied", _("fairly satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")
    VERY_DISSATISFIED = "very_dissatisfied", _("very dissatisfied")


# 差评: followed up within the working days allowed.
POOR_LEVELS = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})
SATISFIED_LEVELS = frozenset(set(RatingLevel) - POOR_LEVELS)


class RatingAction(models.TextChoices):
    """What the audit trail records of a rating."""

    RATED = "rated", _("rated by the citizen")
    FOLLOW_UP_DONE = "follow_up_done", _("follow-up of a poor rating recorded")
    APPEALED = "rating_appealed", _("rating appealed")
    APPEAL_UPHELD = "rating_appeal_upheld", _("appeal upheld: rating left out of the figures")
    APPEAL_REJECTED = "rating_appeal_rejected", _("appeal rejected")


ACTION_LABELS = {action.value: action.label for action in RatingAction}


class Rating(models.Model):
    case = models.OneToOneField(
        "reissue.ReissueCase",
        on_delete=models.PROTECT,
        related_name="rating",
        verbose_name=_("case"),
    )
    # The case's office, kept on the row: the lists and the dashboard filter by it.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, verbose_name=_("office"))
    level = models.CharField(_("rating"), max_length=20, choices=RatingLevel.choices)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    rated_at = models.DateTimeField(_("rated at"))
    # Set when an appeal is upheld: the rating stays on record, out of the figures.
    excluded = models.BooleanField(_("left out of the figures"), default=False)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-rated_at", "-id"]
        default_permissions = ("view",)
        permissions = [
            ("appeal_rating", _("Can appeal a rating made in error")),
            ("decide_rating_appeal", _("Can decide the appeal of a rating")),
        ]
        indexes = [models.Index(fields=["office", "rated_at"], name="rating_office_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=RatingLevel.values), name="rating_level_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} {self.get_level_display()}"

    @property
    def is_poor(self) -> bool:
        return self.level in POOR_LEVELS


class FollowUp(models.Model):
    """整改: what the office did about a poor rating, by its due date."""

    rating = models.OneToOneField(
        Rating, on_delete=models.PROTECT, related_name="follow_up", verbose_name=_("rating")
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, verbose_name=_("office"))
    due_on = models.DateField(_("due on"))
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)
    done_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("follow-up of a poor rating")
        verbose_name_plural = _("follow-ups of poor ratings")
        ordering = ["due_on", "id"]
        default_permissions = ("view",)
        permissions = [("record_follow_up", _("Can record the outcome of a follow-up"))]
        indexes = [models.Index(fields=["office", "due_on"], name="follow_up_office_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(done_at__isnull=True, outcome="", done_by__isnull=True))
                | (Q(done_at__isnull=False, done_by__isnull=False) & ~Q(outcome="")),
                name="follow_up_outcome_when_done",
            ),
        ]

    def __str__(self) -> str:
        return str(self.rating)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class AppealDecision(models.TextChoices):
    PENDING = "pending", _("pending")
    UPHELD = "upheld", _("upheld")
    REJECTED = "rejected", _("rejected")


class RatingAppeal(models.Model):
    """申诉: the office says a rating was made in error; an auditor decides."""

    rating = models.OneToOneField(
        Rating, on_delete=models.PROTECT, related_name="appeal", verbose_name=_("rating")
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, verbose_name=_("office"))
    reason = models.TextField(_("reason"), max_length=2000)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("appealed by"),
    )
    appealed_at = models.DateTimeField(_("appealed at"))
    decision = models.CharField(
        _("decision"),
        max_length=10,
        choices=AppealDecision.choices,
        default=AppealDecision.PENDING,
    )
    decision_note = models.TextField(_("decision note"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal of a rating")
        verbose_name_plural = _("appeals of ratings")
        ordering = ["-appealed_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(decision="pending", decided_at__isnull=True, decided_by__isnull=True))
                | (
                    Q(decision__in=["upheld", "rejected"])
                    & Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
                name="rating_appeal_decided_when_not_pending",
            ),
            # Four eyes: whoever appealed does not decide.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("appealed_by")),
                name="rating_appeal_four_eyes",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="rating_appeal_reason_given"),
        ]

    def __str__(self) -> str:
        return str(self.rating)
