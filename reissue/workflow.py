"""Read django-fsm transitions for people: which steps exist now, and why one is blocked.

Shared by every FSM model of the project (cases here, expense claims in `claims`).
"""

from dataclasses import dataclass, field

from django.apps import apps
from django_fsm import FSMFieldMixin, Transition


@dataclass(frozen=True)
class TransitionOption:
    name: str
    label: str
    target: str
    reasons: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return not self.reasons


def transitions_from_current_state(instance, state_field: str = "state") -> list[Transition]:
    """Return the transitions whose source matches the instance's current state, in model order."""
    fsm_field = instance._meta.get_field(state_field)
    current = getattr(instance, state_field)
    found = []
    for method in fsm_field.transitions[type(instance)].values():
        meta = method._django_fsm
        if meta.has_transition(current):
            found.append(meta.get_transition(current))
    return found


def transition_named(instance, name: str, state_field: str = "state") -> Transition | None:
    """Return the transition `name` if it can start from the current state, else None."""
    for candidate in transitions_from_current_state(instance, state_field):
        if candidate.name == name:
            return candidate
    return None


def blocking_reasons(transition: Transition, instance) -> list[str]:
    """Return the readable failure message of every condition the instance does not meet."""
    return [
        str(getattr(check, "failure_message", check.__name__))
        for check in transition.conditions
        if not check(instance)
    ]


def applies_to(transition: Transition, instance) -> bool:
    """Return False if a condition says the step can never apply to this instance."""
    return all(
        check(instance)
        for check in transition.conditions
        if getattr(check, "decides_applicability", False)
    )


def transition_label(transition: Transition) -> str:
    return str(transition.custom.get("label", transition.name))


def transition_options(instance, user, state_field: str = "state") -> list[TransitionOption]:
    """Return the steps `user` is permitted to take from here, each with its blocking reasons.

    Steps that can never apply to this instance are left out.
    """
    return [
        TransitionOption(
            name=candidate.name,
            label=transition_label(candidate),
            target=str(candidate.target),
            reasons=blocking_reasons(candidate, instance),
        )
        for candidate in transitions_from_current_state(instance, state_field)
        if candidate.has_perm(instance, user) and applies_to(candidate, instance)
    ]


def workflow_state_fields() -> list[tuple[type, FSMFieldMixin]]:
    """Return (model, state field) of every model with a workflow, in the apps' order."""
    return [
        (model, state_field)
        for model in apps.get_models()
        for state_field in model._meta.concrete_fields
        if isinstance(state_field, FSMFieldMixin)
    ]


def transition_labels() -> dict[str, str]:
    """Return {step name: label} of every workflow's steps; a name two workflows share (a case's
    and an incident's "close") is labelled by both labels."""
    labels: dict[str, list[str]] = {}
    for model, state_field in workflow_state_fields():
        for transition in state_field.get_all_transitions(model):
            names = labels.setdefault(transition.name, [])
            if transition_label(transition) not in names:
                names.append(transition_label(transition))
    return {name: " / ".join(names) for name, names in labels.items()}


def state_labels() -> dict[str, str]:
    """Return {state: label} of every workflow's states (by the first workflow naming one)."""
    labels: dict[str, str] = {}
    for _model, state_field in workflow_state_fields():
        for value, label in state_field.flatchoices:
            labels.setdefault(str(value), str(label))
    return labels
