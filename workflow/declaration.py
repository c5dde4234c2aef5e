"""What a workflow's states and steps mean, declared once next to its FSM model.

django-fsm knows the states and the transitions: their sources, target, permission and label.
A `Workflow` adds what it does not know. Per state: finished or not, whose turn it is, its
badge colour, the lines of the citizen's slip, and flags for what the domain reads from it
("awaits the new card"). Per step: its form, its service, the roles granted it, the fields it
sets and the fields it locks from then on. The admin, the work queue, the deadlines, the slip,
the exports, the role grants and the tests all read the declaration; none keeps a list of its
own. `problems()` compares it with the FSM (a system check and tests/test_workflow_declarations
run it), so a state or step the one has and the other lacks is found at once.

A domain app registers its workflows from its AppConfig.ready() (`workflow.registry`); the
shared screens find them by model (`workflow_for`).
"""

import enum
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from offices.roles import ROLES

from .forms import StepForm
from .transitions import declared_at, transition_by_name, transition_label


class Party(enum.Enum):
    """Who must act before an object in a state can move on."""

    OFFICE = "office"  # the office's staff: the object is in their work queue
    CITIZEN = "citizen"  # the citizen must come back, or bring something
    OTHER_BODY = "other_body"  # another body works on it, such as the police station
    RELATED = "related"  # another workflow moves first, such as the case's expense claim
    NOBODY = "nobody"  # finished


class Badge(enum.Enum):
    """The fixed palette of state badges: `.badge-<value>` in static/reissue/admin.css."""

    AMBER = "amber"
    OCHRE = "ochre"
    BLUE = "blue"
    INDIGO = "indigo"
    GREEN = "green"
    SLATE = "slate"
    RED = "red"
    GREY = "grey"

    @property
    def css_class(self) -> str:
        return f"badge-{self.value}"


@dataclass(frozen=True)
class Turn:
    """Whose turn it is in a state. The office's turn names the `step` due, so that the work
    queue shows the object to whoever may take it. With `when`, the turn holds only for the
    objects it matches; the state's next turn holds for the others. `when` may be a function
    returning the filter, for one that another app fills in when it is ready."""

    party: Party
    step: str = ""
    when: Q | Callable[[], Q] | None = None

    def condition(self) -> Q:
        if self.when is None:
            return Q()
        return self.when() if callable(self.when) else self.when


def _always(obj) -> bool:
    return True


def _no_values(obj) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class SlipLine:
    """One thing the citizen must do next, as the slip prints it, and when."""

    what: str  # translated (lazily); %(name)s placeholders are filled from `values(obj)`
    when: str = ""
    applies: Callable[[Any], bool] = _always
    values: Callable[[Any], Mapping[str, Any]] = _no_values

    def text(self, obj) -> str:
        values = self.values(obj)
        return str(self.what) % values if values else str(self.what)

    def when_text(self, obj) -> str:
        """Return `when` with its placeholders filled, as `text` does ("before %(date)s")."""
        values = self.values(obj)
        return str(self.when) % values if values and self.when else str(self.when)


@dataclass(frozen=True)
class StateMeaning:
    value: str
    turn: Turn | tuple[Turn, ...]
    badge: Badge
    finished: bool = False
    slip: tuple[SlipLine, ...] = ()
    flags: frozenset = frozenset()

    def __post_init__(self) -> None:
        turns = self.turns
        if turns[-1].when is not None or any(t.when is None for t in turns[:-1]):
            raise ValueError(f"State {self.value}: its last turn, and only that, holds always.")
        if self.finished != (turns[0].party is Party.NOBODY):
            raise ValueError(f"State {self.value}: finished states, and only they, are nobody's.")
        if any(t.party is Party.OFFICE and not t.step for t in turns):
            raise ValueError(f"State {self.value}: the office's turn names the step due.")

    @property
    def turns(self) -> tuple[Turn, ...]:
        return self.turn if isinstance(self.turn, tuple) else (self.turn,)


@dataclass(frozen=True)
class StepMeaning:
    """A step: `form` None takes no input but a comment; `service` None is the workflow's
    `take_step`. Forms and services may be named by dotted path (resolved on first use), for a
    declaration its own model imports (the case's: which states are open)."""

    name: str  # the transition's method
    roles: tuple[str, ...]  # the role groups granted the step's permission
    form: type | str | None
    service: Callable | str | None
    sets: tuple[str, ...] = ()  # the model's fields the step fills in
    locks: tuple[str, ...] = ()  # fields it relied on: read-only once it was taken
    locks_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # relation -> fields
    permission: str = ""  # the one to grant, where the transition's own is a check function


def _resolved(reference):
    return import_string(reference) if isinstance(reference, str) else reference


@dataclass(frozen=True)
class Workflow:
    model: str  # "app_label.ModelName"
    states: tuple[StateMeaning, ...]
    steps: tuple[StepMeaning, ...]
    service_argument: str  # the keyword under which the services take the object
    take_step: Callable | str | None = None  # service(obj kw, acting_user, name, **inputs)
    set_on_create: tuple[str, ...] = ()  # fields its creation sets: never typed in a form
    has_slip: bool = False  # every state then says what the citizen does next
    state_field: str = "state"

    # What the declaration says (readable while the model's own module is still loading) --

    def state(self, value: str) -> StateMeaning:
        for meaning in self.states:
            if meaning.value == value:
                return meaning
        raise LookupError(f"{self.model} declares no state {value!r}")

    def step(self, name: str) -> StepMeaning:
        for meaning in self.steps:
            if meaning.name == name:
                return meaning
        raise LookupError(f"{self.model} declares no step {name!r}")

    def has_step(self, name: str | None) -> bool:
        return any(meaning.name == name for meaning in self.steps)

    @property
    def open_states(self) -> list[str]:
        return [meaning.value for meaning in self.states if not meaning.finished]

    @property
    def finished_states(self) -> list[str]:
        return [meaning.value for meaning in self.states if meaning.finished]

    def flagged(self, flag) -> list[str]:
        """Return the states that carry the domain flag `flag`."""
        return [meaning.value for meaning in self.states if flag in meaning.flags]

    def grants(self) -> dict[str, set[str]]:
        """Return {role: the permissions of the steps it is granted}."""
        granted: dict[str, set[str]] = {}
        for meaning in self.steps:
            for role in meaning.roles:
                granted.setdefault(role, set()).add(self.permission(meaning.name))
        return granted

    # What it adds to the FSM, read once the models are loaded ---------------------------

    @cached_property
    def model_class(self):
        return apps.get_model(self.model)

    @cached_property
    def _state_labels(self) -> dict[str | None, dict[str, str]]:
        return {}  # {language: {state: its label}}

    def state_label(self, value: str) -> str:
        """Return the label of the state `value` in the active language.

        The labels are translated once per language: `get_state_display()` builds a dict of
        every choice and hashes each lazy label (a translation apiece), on every row of a list.
        """
        language = get_language()
        labels = self._state_labels.get(language)
        if labels is None:
            choices = self.model_class._meta.get_field(self.state_field).choices
            labels = self._state_labels[language] = {v: str(label) for v, label in choices}
        return labels.get(value, value)

    def transition(self, name: str):
        """Return the FSM transition of the step `name` (from any of its sources)."""
        return transition_by_name(self.model_class, name, self.state_field)

    def label(self, name: str) -> str:
        return transition_label(self.transition(name))

    def permission(self, name: str) -> str:
        """Return the permission a user needs for the step: the transition's, or the declared
        one where the transition checks a function (four eyes on a claim)."""
        own = self.transition(name).permission
        return self.step(name).permission or (own if isinstance(own, str) else "")

    def form(self, name: str) -> type:
        return _resolved(self.step(name).form) or StepForm

    def service(self, name: str) -> Callable:
        own = _resolved(self.step(name).service)
        return own or partial(_resolved(self.take_step), name=name)

    @cached_property
    def fields_set_by_steps(self) -> list[str]:
        """Return the fields the steps fill in, in the model's order (the case page's cards)."""
        named = {name for meaning in self.steps for name in meaning.sets}
        return [f.name for f in self.model_class._meta.fields if f.name in named]

    @cached_property
    def set_fields(self) -> list[str]:
        """Return every field the workflow sets: never typed into a form, never imported."""
        return [self.state_field, *self.set_on_create, *self.fields_set_by_steps]

    def waiting_for(self, party: Party, *, may_take: Callable[[str], bool] = _always) -> Q:
        """Return the filter of the objects whose turn is `party`'s; an office's turn only where
        `may_take(permission)` allows the step due."""
        found = Q(pk__in=[])
        for meaning in self.states:
            earlier: Q | None = None  # the objects an earlier turn of the state holds for
            for turn in meaning.turns:
                holds = turn.condition()
                mine = turn.party is party and (
                    not turn.step or may_take(self.permission(turn.step))
                )
                if mine:
                    here = Q(**{self.state_field: meaning.value}) & holds
                    found |= here if earlier is None else here & ~earlier
                earlier = holds if earlier is None else earlier | holds
        return found

    def problems(self) -> list[str]:
        """Return what the declaration and the FSM disagree on, or the declaration lacks."""
        return [
            *_state_problems(self),
            *_step_problems(self),
            *(problem for meaning in self.steps for problem in _one_step_problems(self, meaning)),
        ]


def _fsm_states(workflow: Workflow) -> list[str]:
    fsm_field = workflow.model_class._meta.get_field(workflow.state_field)
    return [str(value) for value, _label in fsm_field.choices]


def _fsm_sources(workflow: Workflow) -> dict[str, set[str]]:
    """Return {transition name: the states it starts from}, in the model's order."""
    fsm_field = workflow.model_class._meta.get_field(workflow.state_field)
    states, found = _fsm_states(workflow), {}
    for step in sorted(fsm_field.get_all_transitions(workflow.model_class), key=declared_at):
        sources = states if step.source in ("*", "+") else [str(step.source)]
        found.setdefault(step.name, set()).update(s for s in sources if s != step.target)
    return found


def _state_problems(workflow: Workflow) -> list[str]:
    fsm_states, sources = _fsm_states(workflow), _fsm_sources(workflow)
    declared = [str(meaning.value) for meaning in workflow.states]
    leaving = set().union(*sources.values())
    problems = [f"state {s}: not declared" for s in fsm_states if s not in declared]
    problems += [f"state {s}: declared, not in the FSM" for s in declared if s not in fsm_states]
    for meaning in workflow.states:
        value = str(meaning.value)
        if meaning.finished == (value in leaving):
            problems.append(f"state {value}: finished is {meaning.finished}, the FSM disagrees")
        if not isinstance(meaning.badge, Badge):
            problems.append(f"state {value}: its badge is not a colour of the palette")
        if workflow.has_slip and not meaning.slip:
            problems.append(f"state {value}: no slip lines")
        problems += [
            f"state {value}: the step due, {turn.step}, cannot start here"
            for turn in meaning.turns
            if turn.step and value not in sources.get(turn.step, ())
        ]
    return problems


def _step_problems(workflow: Workflow) -> list[str]:
    fsm_steps = _fsm_sources(workflow)
    declared = [meaning.name for meaning in workflow.steps]
    problems = [f"step {name}: not declared" for name in fsm_steps if name not in declared]
    problems += [f"step {name}: no such transition" for name in declared if name not in fsm_steps]
    return problems


def _one_step_problems(workflow: Workflow, meaning: StepMeaning) -> list[str]:
    if workflow.transition(meaning.name) is None:
        return []  # reported as no such transition
    name, problems = meaning.name, []
    known_roles = {role.name for role in ROLES}
    if not meaning.roles:
        problems.append(f"step {name}: granted to no role")
    problems += [
        f"step {name}: no role {role}" for role in meaning.roles if role not in known_roles
    ]
    if not workflow.permission(name):
        problems.append(f"step {name}: no permission to grant (declare `permission`)")
    model_fields = {f.name for f in workflow.model_class._meta.get_fields()}
    problems += [
        f"step {name}: no field {field_name}"
        for field_name in (*meaning.sets, *meaning.locks)
        if field_name not in model_fields
    ]
    problems += _form_and_service_problems(workflow, meaning)
    return problems


def _form_and_service_problems(workflow: Workflow, meaning: StepMeaning) -> list[str]:
    name = meaning.name
    if meaning.service is None and workflow.take_step is None:
        return [f"step {name}: no service, and the workflow takes no step by name"]
    try:
        form = workflow.form(name)
        workflow.service(name)
    except ImportError as error:
        return [f"step {name}: {error}"]
    if not (isinstance(form, type) and issubclass(form, StepForm)):
        return [f"step {name}: its form is not a StepForm"]
    missing = sorted(set(step_inputs(workflow, name)) - set(form.base_fields))
    return [f"step {name}: its form lacks the inputs {', '.join(missing)}"] if missing else []


def step_inputs(workflow: Workflow, name: str) -> list[str]:
    """Return the inputs the step's service requires from its form (beyond the object and
    who acts); a generic service passes them on to the transition, which then requires them."""
    service = workflow.service(name)
    if isinstance(service, partial):
        function, given = workflow.transition(name).method, {"self"}
    else:
        function, given = service, {workflow.service_argument, "acting_user"}
    parameters = inspect.signature(inspect.unwrap(function)).parameters.values()
    return [
        p.name
        for p in parameters
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and p.name not in given
    ]
