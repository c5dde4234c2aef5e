from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incident register")

    def ready(self) -> None:
        from workflow.registry import register_workflow

        from .incident_workflow import INCIDENT_WORKFLOW

        register_workflow(INCIDENT_WORKFLOW)
