"""The incident workflow, declared once: what each state and step of an incident means.

The transitions on `models.Incident` say which steps lead where; this says the rest
(workflow.declaration).
"""

from offices.roles import SUPERVISOR
from workflow.declaration import Badge, Party, StateMeaning, StepMeaning, Turn, Workflow

from . import forms, services
from .models import IncidentState

INCIDENT_WORKFLOW = Workflow(
    model="incidents.Incident",
    service_argument="incident",
    set_on_create=("reported_by", "reported_at"),
    states=(
        StateMeaning(IncidentState.OPEN, turn=Turn(Party.OFFICE, "contain"), badge=Badge.AMBER),
        StateMeaning(
            IncidentState.CONTAINED,
            turn=Turn(Party.OFFICE, "record_notifications"),
            badge=Badge.OCHRE,
        ),
        StateMeaning(IncidentState.NOTIFIED, turn=Turn(Party.OFFICE, "close"), badge=Badge.BLUE),
        StateMeaning(
            IncidentState.CLOSED, turn=Turn(Party.NOBODY), finished=True, badge=Badge.SLATE
        ),
    ),
    steps=(
        StepMeaning(
            "contain",
            roles=(SUPERVISOR,),
            form=forms.ContainIncidentForm,
            service=services.incident_contain,
            sets=("containment_steps",),
        ),
        StepMeaning(
            "record_notifications",
            roles=(SUPERVISOR,),
            form=forms.RecordNotificationsForm,
            service=services.incident_record_notifications,
            sets=(
                "persons_notified_at",
                "notification_method",
                "authority_informed_at",
                "authority_name",
            ),
        ),
        StepMeaning(
            "close",
            roles=(SUPERVISOR,),
            form=forms.CloseIncidentForm,
            service=services.incident_close,
            sets=("closing_summary",),
        ),
    ),
)
