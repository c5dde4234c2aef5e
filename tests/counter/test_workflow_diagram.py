"""The workflow picture: drawn from the FSM's own transitions, with the case's path marked."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.selectors import object_audit_trail
from claims.models import ExpenseClaim
from reissue import services
from reissue.models import CaseState, ReissueCase
from tests.factories import claim_with_items, register_case, reissued_case
from workflow.diagram import render_workflow_svg, workflow_graph
from workflow.transitions import transition_label

TODAY = timezone.localdate
FSM_TRANSITIONS = list(ReissueCase._meta.get_field("state").get_all_transitions(ReissueCase))


def edges_in(svg: str, css_class: str) -> set[tuple[str, str]]:
    pattern = (
        rf'<g class="[^"]*\b{css_class}\b[^"]*" data-transition="\w+" '
        r'data-source="(\w+)" data-target="(\w+)"'
    )
    return set(re.findall(pattern, svg))


def states_in(svg: str, css_class: str) -> set[str]:
    return set(re.findall(rf'<g class="[^"]*\b{css_class}\b[^"]*" data-state="(\w+)"', svg))


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


def page_of(client, user, case) -> str:
    client.force_login(user)
    return client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk])).content.decode()


def label_texts(svg: str) -> set[str]:
    """Return the arrows' written names, their wrapped lines joined again."""
    texts = re.findall(r'<text class="edge-label"[^>]*>(.*?)</text>', svg)
    return {" ".join(re.findall(r"<tspan[^>]*>(.*?)</tspan>", text)) for text in texts}


def test_every_fsm_transition_is_an_arrow_and_every_name_is_written(case):
    svg = render_workflow_svg(case)
    drawn = set(re.findall(r'data-transition="(\w+)" data-source="(\w+)" data-target="(\w+)"', svg))
    # A step that keeps its state (target None) is a loop on each state it applies to.
    assert drawn == {(t.name, t.source, t.target or t.source) for t in FSM_TRANSITIONS}
    assert label_texts(svg) == {transition_label(t) for t in FSM_TRANSITIONS}


def test_a_step_that_keeps_its_state_is_a_numbered_loop_named_once_in_the_key(case):
    svg = render_workflow_svg(case)
    loops = re.findall(
        r'<g class="edge edge-loop[^"]*" data-transition="(\w+)" data-source="(\w+)" '
        r'data-target="(\w+)">',
        svg,
    )
    assert ("extend_temp_card", "card_ordered", "card_ordered") in loops
    assert ("flag_overdue", "reported", "reported") in loops
    assert all(source == target for _name, source, target in loops)
    assert not any(name == "order_card" for name, _s, _t in loops)  # it moves the case
    assert list(label_texts(svg)).count("Extend the temporary card") == 1
    assert "steps that do not change the state" in svg


def test_every_state_is_drawn_once(case):
    svg = render_workflow_svg(case)
    assert sorted(re.findall(r'data-state="(\w+)"', svg)) == sorted(CaseState.values)


def test_names_follow_the_language(case):
    with translation.override("zh-hans"):
        svg = render_workflow_svg(case)
        names = {transition_label(t) for t in FSM_TRANSITIONS}
    assert {"窗口即时制卡", "向制卡银行申请制卡", "领取新卡", "临时卡延期"} <= names
    for name in names:
        assert f"<title>{name}</title>" in svg
    assert "Make the new SS card at the counter" not in svg


def test_main_line_is_read_from_the_transitions_in_process_order(db):
    graph = workflow_graph(ReissueCase)
    assert graph.main_line == [
        "reported",
        "temp_card_issued",
        "id_reissued",
        "card_ordered",
        "card_produced",
        "card_arrived",
        "ss_card_reissued",
        "reimbursed",
    ]
    assert graph.row["closed"] > 0 and graph.row["cancelled"] > 0
    # A case registered as a temporary loss report starts before the formal report, on its row.
    assert (graph.row["reported_temporarily"], graph.rank["reported_temporarily"]) == (0, 0)
    assert graph.rank["reported"] == 1 and graph.row["lapsed"] > 0


def test_current_state_is_marked(client, clerk, case):
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="T-1", issued_on=TODAY()
    )
    svg = render_workflow_svg(case, object_audit_trail(obj=case))
    assert states_in(svg, "state-current") == {"temp_card_issued"}
    assert 'data-state="temp_card_issued" aria-current="step"' in svg
    assert edges_in(svg, "edge-next") == {
        ("temp_card_issued", "id_reissued"),
        ("temp_card_issued", "card_ordered"),
        ("temp_card_issued", "ss_card_reissued"),
        ("temp_card_issued", "cancelled"),
        ("temp_card_issued", "lifted"),
        ("temp_card_issued", "temp_card_issued"),  # the loops: extend, and the clocks' steps
    }


def test_path_taken_follows_the_audit_trail(client, clerk, case):
    case = services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
    case.presented_id_card = True
    case = services.case_reissue_ss_card(
        case=case, acting_user=clerk, card_number="SS-77", issued_on=TODAY()
    )
    svg = render_workflow_svg(case, object_audit_trail(obj=case))
    assert edges_in(svg, "edge-taken") == {
        ("reported", "id_reissued"),
        ("id_reissued", "ss_card_reissued"),
    }
    assert states_in(svg, "state-visited") == {"reported", "id_reissued", "ss_card_reissued"}
    assert "temp_card_issued" not in states_in(svg, "state-visited")


def test_the_case_pages_path_is_the_cases_own_not_its_claims(client, clerk, office):
    # The page reads the trail once, claim entries and all, and draws the case's steps only.
    case = reissued_case(clerk=clerk, office=office)
    claim_with_items(case=case, clerk=clerk, submit=True)
    page = page_of(client, clerk, case)
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram"') :]
    svg = svg[: svg.index("</svg>") + len("</svg>")]
    assert edges_in(svg, "edge-taken") == {("reported", "ss_card_reissued")}
    assert states_in(svg, "state-visited") == {"reported", "ss_card_reissued"}
    assert svg == render_workflow_svg(case, object_audit_trail(obj=case), user=clerk)


def test_a_new_case_has_taken_no_step(case):
    svg = render_workflow_svg(case, object_audit_trail(obj=case))
    assert edges_in(svg, "edge-taken") == set()
    assert states_in(svg, "state-visited") == {"reported"}


def test_case_page_shows_the_picture_with_its_stylesheet_and_no_inline_style(client, clerk, case):
    page = page_of(client, clerk, case)
    assert 'id="workflow-diagram"' in page and 'data-current-state="reported"' in page
    assert "/static/reissue/diagram.css" in page
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram"') :]
    assert "style=" not in svg[: svg.index("</svg>")]


def test_claim_page_shows_the_claims_own_workflow(client, clerk, office):
    from tests.factories import PolicyFactory, claim_with_items, reissued_case

    PolicyFactory(office=office)
    claim = claim_with_items(
        case=reissued_case(clerk=clerk, office=office), clerk=clerk, submit=True
    )
    client.force_login(clerk)
    page = client.get(reverse("admin:claims_expenseclaim_change", args=[claim.pk])).content.decode()
    svg = page[page.index('id="workflow-diagram"') :]
    svg = svg[: svg.index("</svg>")]
    claim_states = {str(v) for v, _label in ExpenseClaim._meta.get_field("state").choices}
    assert set(re.findall(r'data-state="(\w+)"', svg)) == claim_states
    assert 'data-current-state="submitted"' in svg
    assert edges_in(svg, "edge-taken") == {("draft", "submitted")}


def test_the_next_steps_drawn_for_a_clerk_are_only_those_a_clerk_may_take(clerk, supervisor, case):
    for_clerk = edges_in(render_workflow_svg(case, user=clerk), "edge-next")
    for_supervisor = edges_in(render_workflow_svg(case, user=supervisor), "edge-next")
    assert ("reported", "cancelled") not in for_clerk  # cancelling is a supervisor's step
    assert ("reported", "cancelled") in for_supervisor


def test_a_step_that_can_never_apply_is_neither_offered_nor_drawn_as_next(client, clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items="ss_card")
    page = page_of(client, clerk, case)
    svg = render_workflow_svg(case, user=clerk)
    assert "record_id_reissued" not in page.split('id="workflow-diagram"')[0]
    assert ("reported", "id_reissued") not in edges_in(svg, "edge-next")
    # Not only hidden: the service refuses it with the reason.
    with pytest.raises(services.WorkflowError, match="no ID card to reissue"):
        services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
