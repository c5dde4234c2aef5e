from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Workflow")

    def ready(self) -> None:
        from audit.models import register_step_labels

        from .transitions import workflow_state_fields

        # Every model is loaded by now: name each workflow's steps for the audit trail.
        for model, state_field in workflow_state_fields():
            steps = state_field.get_all_transitions(model)
            # The lazy label itself: it is read in the user's language when shown.
            labels = {step.name: step.custom.get("label", step.name) for step in steps}
            register_step_labels(model, labels)

        from .checks import check_workflow_declarations

        checks.register(check_workflow_declarations)
