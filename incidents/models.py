"""The register of personal-information incidents (Civil Code art. 1038) and its workflow.

When personal information is leaked, tampered with or lost, the bureau must take remedial
measures in time, notify the persons concerned and report to the competent authority; an
incident is closed only once all of that is on record.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from common.dates import validate_supported_date
from reissue.models import ReissueCase
from workflow.fsm import ConcurrentTransitionMixin
from workflow.transitions import condition

MANAGE_PERMISSION = "incidents.manage_incident"


class IncidentState(models.TextChoices):
    OPEN = "open", _("open")
    CONTAINED = "contained", _("contained")
    NOTIFIED = "notified", _("notified")
    CLOSED = "closed", _("closed")


CONTAINED_STATES = [IncidentState.CONTAINED, IncidentState.NOTIFIED, IncidentState.CLOSED]
NOTIFIED_STATES = [IncidentState.NOTIFIED, IncidentState.CLOSED]


@condition(_("Record the containment steps taken before recording the notifications."))
def containment_recorded(incident: "Incident") -> bool:
    return bool(incident.containment_steps.strip())


@condition(
    _(
        "The incident cannot be closed before it is recorded when the affected persons were "
        "notified and when the authority was informed."
    )
)
def notifications_recorded(incident: "Incident") -> bool:
    return incident.persons_notified_at is not None and incident.authority_informed_at is not None


class Incident(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("what happened"),
        help_text=_(
            "Which personal information was leaked, tampered with or lost, and how. Name the "
            "affected cases below instead of writing ID numbers here: this text goes into the "
            "audit trail, which can never be changed."
        ),
    )
    occurred_at = models.DateTimeField(
        _("happened at"),
        null=True,
        blank=True,
        help_text=_("Leave empty if not known."),
        validators=[validate_supported_date],
    )
    discovered_at = models.DateTimeField(_("discovered at"), validators=[validate_supported_date])
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now, editable=False)
    affected_cases = models.ManyToManyField(
        ReissueCase,
        related_name="incidents",
        blank=True,
        verbose_name=_("affected cases"),
        help_text=_("The cases whose applicants' personal information is concerned."),
    )
    containment_steps = models.TextField(_("containment steps"), blank=True)
    persons_notified_at = models.DateTimeField(
        _("affected persons notified at"),
        null=True,
        blank=True,
        validators=[validate_supported_date],
    )
    notification_method = models.CharField(_("notified by"), max_length=100, blank=True)
    authority_informed_at = models.DateTimeField(
        _("authority informed at"), null=True, blank=True, validators=[validate_supported_date]
    )
    authority_name = models.CharField(_("authority informed"), max_length=100, blank=True)
    closing_summary = models.TextField(_("closing summary"), blank=True)

    state = FSMField(
        _("state"), default=IncidentState.OPEN, choices=IncidentState.choices, protected=True
    )

    class Meta:
        verbose_name = _("personal information incident")
        verbose_name_plural = _("personal information incidents")
        ordering = ["-discovered_at", "-id"]
        permissions = [
            ("manage_incident", _("Can contain, record the notifications of and close incidents")),
            ("view_all_incidents", _("Can see every incident, not only those reported oneself")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_at__isnull=True) | Q(occurred_at__lte=F("discovered_at")),
                name="incident_occurred_before_discovered",
                violation_error_message=_("The incident cannot have happened after its discovery."),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=CONTAINED_STATES) | ~Q(containment_steps=""),
                name="incident_containment_steps_once_contained",
                violation_error_message=_("A contained incident needs its containment steps."),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=NOTIFIED_STATES)
                | Q(persons_notified_at__isnull=False, authority_informed_at__isnull=False),
                name="incident_notifications_before_notified_or_closed",
                violation_error_message=_(
                    "An incident is notified or closed only once the notification of the "
                    "affected persons and of the authority is recorded."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(persons_notified_at__isnull=True)
                    | Q(persons_notified_at__gte=F("discovered_at"))
                )
                & (
                    Q(authority_informed_at__isnull=True)
                    | Q(authority_informed_at__gte=F("discovered_at"))
                ),
                name="incident_notified_after_discovery",
                violation_error_message=_("Nobody can be notified before the discovery."),
            ),
            models.CheckConstraint(
                condition=~Q(state=IncidentState.CLOSED) | ~Q(closing_summary=""),
                name="incident_summary_when_closed",
                violation_error_message=_("A closed incident needs its closing summary."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean_fields(self, exclude=None) -> None:
        # As on the case: the protected state changes only by a transition.
        super().clean_fields(exclude={*(exclude or ()), "state"})

    def clean(self) -> None:
        errors = {}
        now = timezone.now()
        if self.discovered_at and self.discovered_at > now:
            errors["discovered_at"] = _("The time of discovery cannot be in the future.")
        if self.occurred_at and self.occurred_at > now:
            errors["occurred_at"] = _("This time cannot be in the future.")
        elif self.occurred_at and self.discovered_at and self.occurred_at > self.discovered_at:
            errors["occurred_at"] = _("The incident cannot have happened after its discovery.")
        for name in ("persons_notified_at", "authority_informed_at"):
            moment = getattr(self, name)
            if moment and moment > now:
                errors[name] = _("This time cannot be in the future.")
            elif moment and self.discovered_at and moment < self.discovered_at:
                errors[name] = _("Nobody can be notified before the discovery.")
        if errors:
            raise ValidationError(errors)

    # The workflow. Transitions change only this model's fields; services save and audit.
    # Conditions see the incident, not a step's inputs: the services check the inputs.

    @transition(
        field=state,
        source=IncidentState.OPEN,
        target=IncidentState.CONTAINED,
        permission=MANAGE_PERMISSION,
        custom={"label": _("Record containment")},
    )
    def contain(self, *, containment_steps: str) -> None:
        self.containment_steps = containment_steps

    @transition(
        field=state,
        source=IncidentState.CONTAINED,
        target=IncidentState.NOTIFIED,
        conditions=[containment_recorded],
        permission=MANAGE_PERMISSION,
        custom={"label": _("Record notifications")},
    )
    def record_notifications(
        self,
        *,
        persons_notified_at,
        notification_method: str,
        authority_informed_at,
        authority_name,
    ) -> None:
        self.persons_notified_at = persons_notified_at
        self.notification_method = notification_method
        self.authority_informed_at = authority_informed_at
        self.authority_name = authority_name

    @transition(
        field=state,
        source=IncidentState.NOTIFIED,
        target=IncidentState.CLOSED,
        conditions=[containment_recorded, notifications_recorded],
        permission=MANAGE_PERMISSION,
        custom={"label": _("Close incident")},
    )
    def close(self, *, closing_summary: str) -> None:
        self.closing_summary = closing_summary
