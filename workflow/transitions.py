"""Read django-fsm transitions for people: which steps exist now, and why one is blocked.

Shared by every FSM model of the project (cases here, expense claims in `claims`).
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django_fsm import FSMFieldMixin, Transition

from .registry import workflow_for


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


def state_labels() -> dict[str, str]:
    """Return {state: label} of every workflow's states (by the first workflow naming one)."""
    labels: dict[str, str] = {}
    for _model, state_field in workflow_state_fields():
        for value, label in state_field.flatchoices:
            labels.setdefault(str(value), str(label))
    return labels


def declared_at(transition: Transition) -> int:
    """Return the line the transition's method starts on: the model's own order of steps."""
    code = getattr(inspect.unwrap(transition.method), "__code__", None)
    return code.co_firstlineno if code else 0


def transition_by_name(model, name: str, state_field: str = "state") -> Transition | None:
    """Return a transition `name` of the model from any state (for its label and permission)."""
    fsm_field = model._meta.get_field(state_field)
    for candidate in fsm_field.get_all_transitions(model):
        if candidate.name == name:
            return candidate
    return None


def _states_after(model, transition: Transition, state_field: str) -> frozenset[str]:
    """Return the transition's target and every state reachable from there."""
    target = str(transition.target) if isinstance(transition.target, str) else None
    return _reachable(model, target, state_field)


@functools.cache
def _reachable(model, target: str | None, state_field: str) -> frozenset[str]:
    # The model's transitions, fixed at import: worked out once per target, not on each of
    # the five times a case page asks which fields are locked.
    fsm_field = model._meta.get_field(state_field)
    every = [str(value) for value, _label in fsm_field.choices]
    edges: dict[str, set[str]] = {}
    for step in fsm_field.get_all_transitions(model):
        if isinstance(step.target, str):
            sources = every if step.source in ("*", "+") else [str(step.source)]
            for source in sources:
                edges.setdefault(source, set()).add(str(step.target))
    found, todo = set(), [target] if target is not None else []
    while todo:
        state = todo.pop()
        if state not in found:
            found.add(state)
            todo.extend(edges.get(state, ()))
    return frozenset(found)


# Locks another app's steps put on a model's fields (a submitted claim fixes its case's date
# of loss): model -> functions of an instance returning {field: step}. Filled in ready().
LOCK_SOURCES: dict[type, list[Callable[[Any], dict[str, Transition]]]] = {}


def register_lock_source(model, source: Callable[[Any], dict[str, Transition]]) -> None:
    """Let `source(instance)` add locks to `model`'s fields (call from AppConfig.ready())."""
    LOCK_SOURCES.setdefault(model, []).append(source)


def field_locks(instance, state_field: str = "state", *, of: str = "") -> dict[str, Transition]:
    """Return {field: the step that locked it} for the fields the steps already taken lock.

    Each step's declaration names the fields later steps rely on (`StepMeaning.locks`). A step
    counts as taken once the instance stands at its target or beyond, unless it never applied
    to it (no ID card was lost: its new ID card was never recorded). The first step in the
    model's order names the lock. `of` reads the fields of a related object a step locks
    instead (`StepMeaning.locks_on`); registered lock sources add theirs.
    """
    locks = _own_locks(instance, state_field, of)
    for source in LOCK_SOURCES.get(type(instance), []) if not of else []:
        for name, step in source(instance).items():
            locks.setdefault(name, step)
    return locks


def _own_locks(instance, state_field: str, of: str) -> dict[str, Transition]:
    model, current = type(instance), str(getattr(instance, state_field))
    workflow = workflow_for(model, default=None)
    locks: dict[str, Transition] = {}
    seen = set()
    for step in _transitions_in_order(model, state_field):
        if step.name in seen or workflow is None or not workflow.has_step(step.name):
            continue  # (a step from several states is one Transition per state)
        seen.add(step.name)
        meaning = workflow.step(step.name)
        fields = meaning.locks_on.get(of, ()) if of else meaning.locks
        taken = fields and current in _states_after(model, step, state_field)
        if taken and applies_to(step, instance):
            for name in fields:
                locks.setdefault(name, step)
    return locks


@functools.cache
def _transitions_in_order(model, state_field: str) -> tuple[Transition, ...]:
    steps = model._meta.get_field(state_field).get_all_transitions(model)
    return tuple(sorted(steps, key=declared_at))


def locked_fields(instance, state_field: str = "state") -> set[str]:
    """Return the fields no longer to be changed: the steps taken relied on them."""
    return set(field_locks(instance, state_field))


def condition(message, *, decides_applicability: bool = False):
    """Mark a transition condition with the sentence a clerk reads when it fails.

    `decides_applicability`: the condition reads a fact that makes the step meaningless for
    this case (no ID card was lost), not something still to be done; the panel and the diagram
    leave such a step out instead of showing it blocked. The service refuses it all the same.
    """

    def decorate(func):
        func.failure_message = message
        func.decides_applicability = decides_applicability
        return func

    return decorate
