"""The declared workflows by model, registered from the domain apps' AppConfig.ready()."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from offices.roles import register_role_grants

if TYPE_CHECKING:
    from .declaration import Workflow

_workflows: dict[str, "Workflow"] = {}


def register_workflow(workflow: "Workflow") -> None:
    """Make `workflow` the declaration of its model, and grant its steps to their roles."""
    _workflows[workflow.model.lower()] = workflow
    register_role_grants(workflow.model, workflow.grants)


def workflow_for(model, default=LookupError) -> "Workflow":
    """Return the declared workflow of a model (a class or an instance), else `default`."""
    label = model._meta.label_lower
    if label in _workflows:
        return _workflows[label]
    if default is LookupError:
        raise LookupError(f"No workflow is declared for {label}.")
    return default


def registered_workflows() -> list["Workflow"]:
    return list(_workflows.values())


# What a domain app does after a step, in the step's transaction (e.g. queue a notice to the
# citizen): keyed by model label and step name, registered from AppConfig.ready().
StepHook = Callable[..., Any]  # hook(obj, *, case)
_step_hooks: dict[tuple[str, str], list[StepHook]] = {}


def register_step_hook(model_label: str, step: str, hook: StepHook) -> None:
    """Call `hook(obj, case=case)` after each `step` taken on a `model_label` object."""
    hooks = _step_hooks.setdefault((model_label.lower(), step), [])
    if hook not in hooks:
        hooks.append(hook)


def step_hooks(model, step: str) -> list[StepHook]:
    return _step_hooks.get((model._meta.label_lower, step), [])
