"""Every declared workflow (workflow.declaration) covers its FSM and lacks nothing a screen reads.

Each step: a form when it has inputs (or explicitly none), a service, a role granted its
permission, a label in Chinese. Each state: a badge of the palette, slip lines where the
workflow has a slip. Every FSM state and transition declared, and nothing declared the FSM
lacks. The second half shows the check finding each of those gaps in a broken copy.
"""

import dataclasses
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import translation

from reissue.case_workflow import CASE_WORKFLOW, CaseState
from workflow.declaration import Badge, Party, StateMeaning, Turn, step_inputs
from workflow.registry import registered_workflows

STATIC = Path(__file__).resolve().parent.parent / "static"
WORKFLOWS = [pytest.param(workflow, id=workflow.model) for workflow in registered_workflows()]


def test_the_case_claim_and_incident_workflows_are_declared():
    assert {w.model for w in registered_workflows()} == {
        "reissue.ReissueCase",
        "claims.ExpenseClaim",
        "incidents.Incident",
    }


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_declaration_and_the_fsm_agree_and_nothing_is_missing(workflow):
    assert workflow.problems() == []


def test_the_system_check_runs_the_declarations_check():
    call_command("check", "--fail-level", "ERROR")  # raises SystemCheckError on a problem


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_step_has_a_service_and_a_form_taking_its_inputs(workflow):
    for meaning in workflow.steps:
        form = workflow.form(meaning.name)
        assert callable(workflow.service(meaning.name)), meaning.name
        assert set(step_inputs(workflow, meaning.name)) <= set(form.base_fields), meaning.name
        if meaning.form is None:
            assert step_inputs(workflow, meaning.name) == [], meaning.name


@pytest.mark.django_db
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_step_is_granted_to_its_roles_groups(workflow):
    for meaning in workflow.steps:
        app_label, codename = workflow.permission(meaning.name).split(".")
        holders = Group.objects.filter(
            permissions__codename=codename, permissions__content_type__app_label=app_label
        )
        assert set(holders.values_list("name", flat=True)) >= set(meaning.roles), meaning.name
        assert meaning.roles, meaning.name


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_step_and_state_label_reads_in_chinese(workflow):
    fsm_field = workflow.model_class._meta.get_field(workflow.state_field)
    labels = [lambda m=m: workflow.label(m.name) for m in workflow.steps]
    labels += [lambda label=label: str(label) for _value, label in fsm_field.choices]
    for label in labels:
        with translation.override("en"):
            english = label()
        with translation.override("zh-hans"):
            assert label() != english, f"not translated: {english}"


def test_every_colour_of_the_palette_is_styled_and_no_state_has_a_colour_of_its_own():
    css = "".join(p.read_text(encoding="utf-8") for p in STATIC.rglob("*.css"))
    for badge in Badge:
        assert re.search(rf"\.{badge.css_class} \{{ --badge-colour: #[0-9a-f]{{6}}; \}}", css)
    states = {str(m.value) for w in registered_workflows() for m in w.states}
    assert not [s for s in states if f".state-{s} " in css or f".state-{s}{{" in css]


# The check finds what a declaration lacks -------------------------------------------------


def _step(name, **changes):
    return lambda w: dataclasses.replace(
        w, steps=tuple(dataclasses.replace(m, **changes) if m.name == name else m for m in w.steps)
    )


def _state(value, **changes):
    return lambda w: dataclasses.replace(
        w,
        states=tuple(
            dataclasses.replace(m, **changes) if m.value == value else m for m in w.states
        ),
    )


def _without_state(value):
    return lambda w: dataclasses.replace(w, states=tuple(m for m in w.states if m.value != value))


def _without_step(name):
    return lambda w: dataclasses.replace(w, steps=tuple(m for m in w.steps if m.name != name))


def _with_state(value):
    extra = StateMeaning(value, turn=Turn(Party.CITIZEN), badge=Badge.GREY)
    return lambda w: dataclasses.replace(w, states=(*w.states, extra))


BROKEN = [
    ("a step granted to no role", _step("cancel", roles=()), "step cancel: granted to no role"),
    ("a role that does not exist", _step("close", roles=("Janitor",)), "no role Janitor"),
    (
        "a step with inputs and no form",
        _step("issue_temp_card", form=None),
        "step issue_temp_card: its form lacks the inputs card_number, issued_on",
    ),
    (
        "a form that is no step form",
        _step("cancel", form="reissue.forms.RevealForm"),
        "step cancel: its form is not a StepForm",
    ),
    (
        "no service, nothing to take a step by name",
        lambda w: dataclasses.replace(_step("close", service=None)(w), take_step=None),
        "step close: no service",
    ),
    ("a service that does not exist", _step("close", service="reissue.services.nope"), "close"),
    ("a transition left undeclared", _without_step("reimburse"), "step reimburse: not declared"),
    (
        "a declared step with no transition",
        lambda w: dataclasses.replace(
            w, steps=(*w.steps, dataclasses.replace(w.steps[0], name="no_such_step"))
        ),
        "step no_such_step: no such transition",
    ),
    ("a state left undeclared", _without_state(CaseState.CLOSED), "state closed: not declared"),
    (
        "a declared state not in the FSM",
        _with_state("no_such_state"),
        "no_such_state: declared, not",
    ),
    ("a state without slip lines", _state(CaseState.ID_REISSUED, slip=()), "id_reissued: no slip"),
    ("a badge of no palette", _state(CaseState.REPORTED, badge="pink"), "reported: its badge"),
    (
        "an open state declared finished",
        _state(CaseState.SS_CARD_REISSUED, finished=True, turn=Turn(Party.NOBODY)),
        "state ss_card_reissued: finished is True, the FSM disagrees",
    ),
    (
        "the office's turn at a step that cannot start there",
        _state(CaseState.REPORTED, turn=Turn(Party.OFFICE, "close")),
        "state reported: the step due, close, cannot start here",
    ),
]


@pytest.mark.parametrize(
    ("broken", "problem"), [pytest.param(b, p, id=name) for name, b, p in BROKEN]
)
def test_the_check_finds_what_a_declaration_lacks(broken, problem):
    found = broken(CASE_WORKFLOW).problems()
    assert any(problem in line for line in found), found


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"turn": Turn(Party.OFFICE)}, "names the step due"),
        ({"turn": Turn(Party.NOBODY)}, "finished states, and only they"),
        ({"finished": True}, "finished states, and only they"),
        ({"turn": (Turn(Party.CITIZEN), Turn(Party.OFFICE, "x"))}, "last turn"),
    ],
)
def test_a_state_must_say_whose_turn_it_is_in_a_way_the_queue_can_read(changes, message):
    fields = {"value": "x", "turn": Turn(Party.CITIZEN), "badge": Badge.GREY, **changes}
    with pytest.raises(ValueError, match=message):
        StateMeaning(**fields)
