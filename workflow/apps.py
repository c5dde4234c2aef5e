from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Workflow")

    def ready(self) -> None:
        from .checks import check_workflow_declarations

        checks.register(check_workflow_declarations)
