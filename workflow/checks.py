"""The system check that each declared workflow matches its FSM (`Workflow.problems`)."""

from django.core import checks

from .registry import registered_workflows


def check_workflow_declarations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, obj=workflow.model, id="workflow.E001")
        for workflow in registered_workflows()
        for problem in workflow.problems()
    ]
