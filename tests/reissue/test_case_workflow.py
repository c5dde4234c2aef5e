"""The case workflow's declaration (reissue/case_workflow.py) is what the screens do, state by
state: the work queue, the overdue list, the slip, the badge, the case page and the export.

Every state a case can reach is reached here through the real services (a search along the
FSM's transitions, each step with inputs made from its form), so a state or step added to the
workflow is covered without a new test: what its declaration says is what a clerk sees.
"""

import datetime
import itertools

import pytest
from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from claims import services as claim_services
from reissue import services
from reissue.case_policy import CasePolicy
from reissue.case_workflow import CASE_WORKFLOW, CaseFlag, CaseState, LossReportKind, LostItems
from reissue.clocks import DUE, system_user
from reissue.deadlines import is_overdue
from reissue.models import ReissueCase
from reissue.resources import CASE_COLUMNS
from reissue.slip import next_steps
from reissue.work_queue import cases_overdue, cases_waiting_for
from tests.factories import PolicyFactory, claim_with_items, register_case
from workflow.declaration import Party
from workflow.services import WorkflowError

_numbers = itertools.count(1)


def _inputs(name: str, case) -> dict:
    """Return the step's arguments as its form on this case cleans them, filled in: today for a
    date, yes for a check box, the first choice, the initial value where there is one (the
    fee), a fresh card number for other text."""
    form_class = CASE_WORKFLOW.form(name)
    fields = form_class(instance=case).fields
    data = {
        field_name: _input(field) for field_name, field in fields.items() if field_name != "comment"
    }
    form = form_class(data, instance=case)
    assert form.is_valid(), (name, form.errors)
    return form.step_arguments()


def _input(field):
    if isinstance(field, forms.DateField):
        return timezone.localdate().isoformat()
    if isinstance(field, forms.BooleanField):
        return "on"
    if isinstance(field, forms.ChoiceField):
        return field.choices[0][0]
    if field.initial is not None:
        return str(field.initial)
    if not field.required:
        return ""
    return f"T-{next(_numbers):06d}"


def _take(case, name, people):
    if name in DUE:  # a clock's step: taken by the system account once its moment has come
        ReissueCase.objects.filter(pk=case.pk).update(lapses_at=timezone.now())
        return CASE_WORKFLOW.service(name)(case=case, acting_user=system_user())
    if name == "reimburse":  # taken by paying the case's claim
        claim = claim_with_items(case=case, clerk=people["clerk"], submit=True)
        claim = claim_services.claim_approve(claim=claim, acting_user=people["reviewer"])
        claim_services.claim_pay(
            claim=claim, acting_user=people["supervisor"], payment_reference=f"P-{case.pk}"
        )
        return ReissueCase.objects.get(pk=case.pk)
    service = CASE_WORKFLOW.service(name)
    return service(case=case, acting_user=people["supervisor"], **_inputs(name, case))


def _steps_from(state: str) -> list[str]:
    """Return the steps that lead from `state` to another (a step that keeps it reaches none)."""
    model = ReissueCase
    transitions = model._meta.get_field("state").get_all_transitions(model)
    return list(dict.fromkeys(t.name for t in transitions if str(t.source) == state and t.target))


def _walk(path, lost_items, report_kind, people):
    case = register_case(
        clerk=people["clerk"],
        office=people["office"],
        lost_items=lost_items,
        loss_report_kind=report_kind,
        presented_id_card=True,
        loss_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    try:
        for name in path:
            case = _take(case, name, people)
    except WorkflowError:
        return None  # a condition refuses this path for this kind of case
    return case


def reached_cases(people) -> list[tuple[ReissueCase, list[str]]]:
    """Return a case in every state it can reach, for each kind of loss and of loss report,
    with the path taken."""
    found = []
    for lost_items, report_kind in itertools.product(LostItems, LossReportKind):
        seen, paths = set(), [[]]
        while paths:
            path = paths.pop(0)
            case = _walk(path, lost_items, report_kind, people)
            if case is None or case.state in seen:
                continue
            seen.add(case.state)
            found.append((case, path))
            paths += [[*path, name] for name in _steps_from(case.state)]
    return found


@pytest.fixture
def people(office, clerk, reviewer, supervisor):
    PolicyFactory(office=office)
    return {"office": office, "clerk": clerk, "reviewer": reviewer, "supervisor": supervisor}


def _declared_turn(case):
    """Return the turn the declaration gives this case in its state (the first that holds)."""
    for turn in CASE_WORKFLOW.state(case.state).turns:
        if ReissueCase.objects.filter(Q(pk=case.pk) & turn.condition()).exists():
            return turn
    raise AssertionError(case.state)


def test_every_state_is_reached_by_the_search(people):
    states = {case.state for case, _path in reached_cases(people)}
    assert states == set(CaseState.values)


def test_a_case_waits_in_the_queue_of_whoever_may_take_the_step_its_state_declares_due(
    people, clerk, reviewer
):
    for case, path in reached_cases(people):
        turn = _declared_turn(case)
        for user in (clerk, reviewer):
            due = turn.party is Party.OFFICE and user.has_perm(CASE_WORKFLOW.permission(turn.step))
            waiting = cases_waiting_for(user=user).filter(pk=case.pk).exists()
            assert waiting == due, (case.lost_items, path, user.username)


def test_an_old_case_is_overdue_exactly_in_the_states_that_await_the_new_card(people, clerk):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for case, path in reached_cases(people):
        # The deadline kept on the case has passed (a temporary report has none yet).
        if case.service_due_on is not None:
            ReissueCase.objects.filter(pk=case.pk).update(service_due_on=yesterday)
        case.refresh_from_db()
        awaited = case.state in CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD)
        assert is_overdue(case) == awaited, path
        assert cases_overdue(user=clerk).filter(pk=case.pk).exists() == awaited, path


def _reachable(without: set[str], start=(CaseState.REPORTED,)) -> set[str]:
    """Return the states a case can reach from `start` without taking the steps `without`."""
    reached, todo = set(), [str(state) for state in start]
    transitions = list(ReissueCase._meta.get_field("state").get_all_transitions(ReissueCase))
    while todo:
        state = todo.pop()
        if state not in reached:
            reached.add(state)
            todo += [
                str(t.target)
                for t in transitions
                if t.source == state and t.target and t.name not in without
            ]
    return reached


def test_the_deadline_runs_until_the_new_ss_card_is_issued_and_then_the_card_is_known():
    # It runs from the formal report until the card is made at the counter or has arrived.
    before = _reachable(without={"reissue_ss_card", "record_card_arrived"})
    assert set(CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD)) == before & set(
        CASE_WORKFLOW.open_states
    )
    every_start = (CaseState.REPORTED, CaseState.REPORTED_TEMPORARILY)
    unmade = _reachable(without={"reissue_ss_card", "record_card_produced"}, start=every_start)
    assert set(CASE_WORKFLOW.flagged(CaseFlag.CARD_NUMBER_KNOWN)) == set(CaseState.values) - unmade
    in_hand = _reachable(without={"reissue_ss_card", "collect_card"}, start=every_start)
    assert set(CASE_WORKFLOW.flagged(CaseFlag.NEW_CARD_ISSUED)) == set(CaseState.values) - in_hand


def test_every_state_tells_the_citizen_what_comes_next_on_the_slip(people):
    for case, path in reached_cases(people):
        steps = next_steps(case)
        assert steps and all(step.what.strip() for step in steps), (case.lost_items, path)


def test_the_case_list_shows_each_state_in_its_declared_colour(client, people, supervisor):
    reached = reached_cases(people)
    client.force_login(supervisor)
    page = client.get(reverse("admin:reissue_reissuecase_changelist")).content.decode()
    for case, _path in reached:
        badge = CASE_WORKFLOW.state(case.state).badge
        assert f'class="state-badge {badge.css_class}" data-state="{case.state}"' in page


def test_each_step_sets_exactly_the_fields_it_declares_and_they_show_and_export(
    client, people, supervisor
):
    client.force_login(supervisor)
    exported = {column.name for column in CASE_COLUMNS}
    set_by_step = {}  # what each step set, over every case it was taken on
    # The search lifts a report before any temporary card; lift one with a card out too.
    with_card = ["issue_temp_card", "lift_loss_report"]
    lifted = _walk(with_card, LostItems.SS_CARD, LossReportKind.FORMAL, people)
    # ... and the search pays the city's fee; waive one.
    CasePolicy.objects.create(
        office=people["office"], effective_from=datetime.date(2020, 1, 1), card_fee=20
    )
    waived = services.case_order_card(
        case=_walk([], LostItems.SS_CARD, LossReportKind.FORMAL, people),
        acting_user=supervisor,
        ordered_on=timezone.localdate(),
        fee_charged=0,
        fee_waiver_reason="最低生活保障对象",
    )
    made = services.case_reissue_ss_card(
        case=_walk(["issue_temp_card"], LostItems.SS_CARD, LossReportKind.FORMAL, people),
        acting_user=supervisor,
        card_number="SS-W-0001",
        issued_on=timezone.localdate(),
        fee_charged=0,
        fee_waiver_reason="重度残疾人",
        temp_card_returned=True,
    )
    extra = [
        (lifted, with_card),
        (waived, ["order_card"]),
        (made, ["issue_temp_card", "reissue_ss_card"]),
    ]
    for case, path in [*reached_cases(people), *extra]:
        entries = AuditEntry.objects.filter(case=case, action__in=path).exclude(action="edited")
        for entry in entries:
            declared = set(CASE_WORKFLOW.step(entry.action).sets)
            # Some fields only where they apply: a temporary card handed back where one is out.
            assert set(entry.changes) - {"state"} <= declared, entry.action
            set_by_step.setdefault(entry.action, set()).update(set(entry.changes) - {"state"})
        page = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
        for name in {f for step in path for f in CASE_WORKFLOW.step(step).sets}:
            assert f'class="form-row field-{name}' in page.content.decode(), (name, path)
            assert name in exported, name
    for name, fields in set_by_step.items():
        assert fields == set(CASE_WORKFLOW.step(name).sets), name
