"""The workflow as a picture: an SVG drawn from a model's django-fsm transitions.

The states, arrows and names are read from the FSM field itself, so the picture cannot drift
from the code. States are laid out left to right by their distance from the initial state
along the longest path; the main line (the first successor declared at each step) is the top
row, and the other states (closed, cancelled, rejected) go below, in the column of their rank.
A step that keeps the object in its state (target None: extend a card, a clock's flag) is a
small numbered loop under each state it applies to, its name written once in the key beneath.
The current state and the path taken (read from the audit trail) are marked with classes that
static/reissue/diagram.css styles; no inline style, so the strict CSP lets it show.
"""

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .transitions import declared_at, transition_label, transition_options

COLUMN = 230  # distance between the left edges of two columns
BOX_WIDTH, BOX_HEIGHT = 132, 40
ROW = 76  # distance between two rows
ARC_LIFT = 34  # how far a skipping arrow rises per column skipped
LINE = 13  # height of one line of an arrow's label
MARGIN = 12
LOOP_SLOT = 14  # distance between two loops under a box
LOOP_DEPTH = 26  # how far a loop and its number reach below its box
KEY_COLUMN = 2 * COLUMN  # width of one entry of the loops' key


@dataclass(frozen=True)
class Edge:
    name: str  # the transition's method name
    label: str  # its translated label
    source: str
    target: str

    @property
    def is_loop(self) -> bool:
        """A step that keeps its state (declared with target None)."""
        return self.source == self.target


@dataclass
class WorkflowGraph:
    initial: str
    state_labels: dict[str, str]
    edges: list[Edge]
    rank: dict[str, int] = field(default_factory=dict)  # column
    row: dict[str, int] = field(default_factory=dict)
    main_line: list[str] = field(default_factory=list)

    @property
    def arrows(self) -> list[Edge]:
        return [edge for edge in self.edges if not edge.is_loop]

    @property
    def loops(self) -> list[Edge]:
        return [edge for edge in self.edges if edge.is_loop]

    def loop_steps(self) -> list[str]:
        """Return the names of the steps that keep their state, in declaration order."""
        return list(dict.fromkeys(edge.name for edge in self.loops))


def _targets(transition, states: list[str]) -> list[str]:
    target = transition.target
    if target is None:  # stays in its state: a loop on its source
        return [str(transition.source)]
    if isinstance(target, str):
        return [target]
    # RETURN_VALUE / GET_STATE declare the states they may end in.
    return [str(state) for state in getattr(target, "allowed_states", None) or []]


def _sources(source, target: str, states: list[str]) -> list[str]:
    if source == "*":
        return list(states)
    if source == "+":
        return [state for state in states if state != target]
    return [str(source)]


_GRAPHS: dict[tuple, WorkflowGraph] = {}


def workflow_graph(model, state_field: str = "state") -> WorkflowGraph:
    """Return the states and transitions of `model`'s FSM field, laid out in rows and columns.

    Built once per model and language (its labels are translated): the transitions are the
    model's own, fixed at import; each page only marks its object's state and path on it.
    """
    key = (model, state_field, get_language())
    graph = _GRAPHS.get(key)
    if graph is None:
        graph = _GRAPHS[key] = _laid_out_graph(model, state_field)
    return graph


def _laid_out_graph(model, state_field: str) -> WorkflowGraph:
    fsm_field = model._meta.get_field(state_field)
    state_labels = {str(value): str(label) for value, label in fsm_field.choices}
    states = list(state_labels)
    edges = []
    for transition in sorted(fsm_field.get_all_transitions(model), key=declared_at):
        for target in _targets(transition, states):
            for source in _sources(transition.source, target, states):
                is_loop = transition.target is None
                if (is_loop or source != target) and {source, target} <= set(states):
                    edges.append(
                        Edge(transition.name, transition_label(transition), source, target)
                    )
    graph = WorkflowGraph(str(fsm_field.get_default()), state_labels, edges)
    _lay_out(graph)
    return graph


def _entries(graph: WorkflowGraph) -> list[str]:
    """Return where objects start: the initial state, then any state no arrow leads to that
    has arrows of its own (a case registered as a temporary loss report)."""
    reached = {edge.target for edge in graph.arrows}
    leaving = {edge.source for edge in graph.arrows}
    others = [s for s in graph.state_labels if s not in reached and s in leaving]
    return [graph.initial, *(s for s in others if s != graph.initial)]


def _forward_edges(graph: WorkflowGraph) -> list[Edge]:
    """Return the edges that lead away from the entries (no loop back), in order."""
    successors: dict[str, list[Edge]] = {}
    for edge in graph.arrows:
        successors.setdefault(edge.source, []).append(edge)
    forward, on_path, done = [], set(), set()

    def visit(state: str) -> None:
        on_path.add(state)
        for edge in successors.get(state, []):
            if edge.target in on_path:
                continue  # an arrow back; ranks follow the forward arrows only
            forward.append(edge)
            if edge.target not in done:
                visit(edge.target)
        on_path.discard(state)
        done.add(state)

    for entry in _entries(graph):
        visit(entry)
    return forward


def _lay_out(graph: WorkflowGraph) -> None:
    forward = _forward_edges(graph)
    entries = _entries(graph)
    rank = dict.fromkeys(entries, 0)
    changed = True
    while changed:  # longest distance from an entry; the forward arrows have no loop
        changed = False
        for edge in forward:
            if edge.source in rank and rank.get(edge.target, -1) < rank[edge.source] + 1:
                rank[edge.target] = rank[edge.source] + 1
                changed = True
    main_line = [graph.initial]
    while True:
        here = main_line[-1]
        following = [
            e.target for e in forward if e.source == here and rank[e.target] == rank[here] + 1
        ]
        if not following:
            break
        main_line.append(following[0])
    row = dict.fromkeys(main_line, 0)
    for entry in entries[1:]:  # another entry leading into the main line: on its row, before it
        if all(rank[state] != rank[entry] for state in row):
            row[entry] = 0
    # (column, row) taken by a box, or by the arrows running along a row to a box below.
    taken = {(rank[state], row[state]) for state in row}
    side_states = [e.target for e in forward] + list(graph.state_labels)  # unreachable last
    lanes = {}
    for state in dict.fromkeys(side_states):
        if state not in row:
            rank.setdefault(state, 0)
            sources = [rank[e.source] for e in forward if e.target == state] or [rank[state]]
            lanes[state] = range(min(min(sources) + 1, rank[state]), rank[state] + 1)
    for state, lane in sorted(lanes.items(), key=lambda item: len(item[1])):  # short ones near
        row[state] = next(r for r in itertools.count(1) if all((c, r) not in taken for c in lane))
        taken |= {(column, row[state]) for column in lane}
    graph.rank, graph.row, graph.main_line = rank, row, main_line


def path_taken(entries: Iterable) -> list[tuple[str, str]]:
    """Return the (from, to) state changes of an object's audit entries, in order."""
    steps = []
    for entry in entries:
        if entry.source_state and entry.target_state and entry.source_state != entry.target_state:
            steps.append((entry.source_state, entry.target_state))
    return steps


# Drawing ----------------------------------------------------------------------------------------


def _wrap(text: str, width: int = 13) -> list[str]:
    """Split a label into short lines: at spaces, or every 7 characters for Chinese."""
    if " " not in text:
        return [text[i : i + 7] for i in range(0, len(text), 7)] if len(text) > width else [text]
    lines = [""]
    for word in text.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _text(x: float, bottom: float, lines: list[str], anchor: str, css_class: str) -> str:
    """Return an SVG <text> whose last line sits on `bottom`, lines stacked upwards."""
    first = bottom - LINE * (len(lines) - 1)
    spans = "".join(
        f'<tspan x="{x:.0f}" y="{first + LINE * i:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="{css_class}" text-anchor="{anchor}">{spans}</text>'


class _Canvas:
    def __init__(self, graph: WorkflowGraph):
        self.graph = graph
        spans = [
            graph.rank[e.target] - graph.rank[e.source]
            for e in graph.arrows
            if graph.row[e.source] == graph.row[e.target]
        ]
        self.top = MARGIN + 2 * LINE + ARC_LIFT * max([1, *spans])
        self.loop_steps = graph.loop_steps()

    def centre(self, state: str) -> tuple[float, float]:
        x = MARGIN + self.graph.rank[state] * COLUMN + BOX_WIDTH / 2
        y = self.top + self.graph.row[state] * ROW + BOX_HEIGHT / 2
        return x, y

    def width(self) -> int:
        columns = max(self.graph.rank.values()) + 1
        return 2 * MARGIN + (columns - 1) * COLUMN + BOX_WIDTH

    def key_per_row(self) -> int:
        return max(1, (self.width() - 2 * MARGIN) // KEY_COLUMN)

    def bottom_of_boxes(self) -> float:
        rows = max(self.graph.row.values()) + 1
        return self.top + (rows - 1) * ROW + BOX_HEIGHT + (LOOP_DEPTH if self.loop_steps else 0)

    def size(self) -> tuple[int, int]:
        key_rows = -(-len(self.loop_steps) // self.key_per_row())  # (ceiling)
        height = self.bottom_of_boxes() + MARGIN + LINE + (key_rows + 1) * LINE * bool(key_rows)
        return self.width(), int(height)

    def loop(self, edge: Edge) -> tuple[str, float, float]:
        """Return a loop's SVG path and where its number goes (x, bottom): under its box, in
        the slot of its step, counted from the right (the middle is for arrows going down)."""
        x, y = self.centre(edge.source)
        slot_x = x + BOX_WIDTH / 2 - LOOP_SLOT * (1 + self.loop_steps.index(edge.name))
        bottom = y + BOX_HEIGHT / 2
        path = _d(
            "M", slot_x - 5, bottom + 1,
            "C", slot_x - 8, bottom + 14, slot_x + 8, bottom + 14, slot_x + 5, bottom + 3,
        )  # fmt: skip
        return path, slot_x, bottom + LOOP_DEPTH - 1

    def key_entry(self, name: str) -> tuple[float, float]:
        """Return where a loop step's number and name go in the key (x, bottom)."""
        index = self.loop_steps.index(name)
        per_row = self.key_per_row()
        x = MARGIN + (index % per_row) * KEY_COLUMN
        return x, self.bottom_of_boxes() + MARGIN + LINE * (2 + index // per_row)

    def route(self, edge: Edge) -> tuple[str, tuple[float, float, str]]:
        """Return an arrow's SVG path and where its label goes (x, bottom, anchor)."""
        (sx, sy), (tx, ty) = self.centre(edge.source), self.centre(edge.target)
        half_w, half_h = BOX_WIDTH / 2, BOX_HEIGHT / 2
        columns = self.graph.rank[edge.target] - self.graph.rank[edge.source]
        rows = self.graph.row[edge.target] - self.graph.row[edge.source]
        end_x = tx - half_w - 2  # arrowheads stop just short of the box
        if rows == 0 and columns == 1:  # the next column: straight across
            return _d("M", sx + half_w, sy, "H", end_x), ((sx + tx) / 2, sy - 6, "middle")
        if rows == 0 and columns > 1:  # skipping columns: an arc over the boxes between
            top, lift = sy - half_h, ARC_LIFT * columns
            path = _d("M", sx, top, "C", sx, top - lift, tx, top - lift, tx, top - 2)
            return path, ((sx + tx) / 2, top - lift * 0.75 - 4, "middle")
        if rows == 1 and columns == 1:  # one row down, next column: a slant
            path = _d("M", sx + half_w, sy, "L", end_x, ty)
            return path, ((sx + tx) / 2 + 6, (sy + ty) / 2 + LINE + 2, "start")
        if rows > 0 and columns > 0:  # further down: drop below the box, then across
            return _d("M", sx, sy + half_h, "V", ty, "H", end_x), (end_x - 6, ty - 5, "end")
        if (
            rows < 0 and columns == 0
        ):  # up the column: from the top of one to the bottom of the other
            path = _d("M", sx, sy - half_h, "V", ty + half_h + 2)
            return path, (sx + 6, (sy + ty) / 2 + 4, "start")
        if rows < 0 and columns > 0:  # up into a later column: a slant
            path = _d("M", sx + half_w, sy, "L", end_x, ty)
            return path, ((sx + tx) / 2 + 6, (sy + ty) / 2 - 4, "start")
        # Any other direction (an arrow back): a straight line between the boxes.
        path = _d("M", sx, sy + half_h, "L", tx, ty - half_h - 2)
        return path, ((sx + tx) / 2, (sy + ty) / 2, "middle")


def _d(*parts) -> str:
    """Return SVG path data from commands and numbers, ("M", 1, 2, "H", 3) -> "M1 2 H3"."""
    out = []
    for part in parts:
        out.append(f" {part}" if isinstance(part, str) else f"{part:.0f},")
    return "".join(out).replace(", ", " ").strip().rstrip(",")


MARKERS = (
    '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a8a8a"/>'
    '</marker><marker id="wf-arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#417690"/>'
    "</marker></defs>"
)


def render_workflow_svg(
    instance, entries: Iterable = (), state_field: str = "state", *, user=None
) -> SafeString:
    """Return the instance's workflow as inline SVG: current state and path taken marked.

    The next steps are dashed only where `user` may take them (all of them without a user).
    """
    next_steps = (
        None
        if user is None
        else frozenset(option.name for option in transition_options(instance, user, state_field))
    )
    return _drawn_svg(
        type(instance),
        state_field,
        get_language(),
        str(getattr(instance, state_field)),
        tuple(path_taken(entries)),
        next_steps,
    )


# Most cases stand on a few paths: drawing one costs 4 ms (the case page's largest Python
# part after the template), looking it up here nothing. The language is in the key because
# the labels are translated.
@functools.lru_cache(maxsize=512)
def _drawn_svg(model, state_field, _language, current, taken, next_steps) -> SafeString:
    graph = workflow_graph(model, state_field)
    taken_edges = set(taken)
    visited = {graph.initial, current, *(s for step in taken for s in step)}
    canvas = _Canvas(graph)
    width, height = canvas.size()
    path_names = [graph.state_labels.get(s, s) for s in [graph.initial, *(t for _s, t in taken)]]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" id="workflow-diagram" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img" '
        f'aria-labelledby="wf-title wf-desc" '
        f'data-current-state="{escape(current)}">',
        f'<title id="wf-title">{escape(_("Workflow"))}</title>',
        '<desc id="wf-desc">'
        + escape(
            _("Now: %(state)s. Path taken: %(path)s.")
            % {"state": graph.state_labels.get(current, current), "path": " → ".join(path_names)}
        )
        + "</desc>",
        MARKERS,
    ]
    parts += _edges_svg(graph, canvas, taken_edges, current, next_steps)
    parts += _states_svg(graph, canvas, visited, current)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def _label_placement(graph: WorkflowGraph, canvas: "_Canvas") -> dict[str, Edge]:
    """Return the one arrow of each transition that carries its name: the shortest, straightest.

    A transition with several sources (cancel, reissue the SS card) is named once; each of its
    arrows still names it in a tooltip.
    """

    def preference(edge: Edge) -> tuple:
        same_row = graph.row[edge.source] == graph.row[edge.target]
        columns = graph.rank[edge.target] - graph.rank[edge.source]
        return (not (same_row and columns == 1), same_row, columns)

    chosen: dict[str, Edge] = {}
    for edge in graph.arrows:
        if edge.name not in chosen or preference(edge) < preference(chosen[edge.name]):
            chosen[edge.name] = edge
    return chosen


def _edges_svg(graph, canvas, taken_edges, current, next_steps) -> list[str]:
    parts, named = [], _label_placement(graph, canvas)
    # Arrows taken are drawn last, so they lie on top where arrows share a line.
    for edge in sorted(graph.arrows, key=lambda e: (e.source, e.target) in taken_edges):
        path, (x, bottom, anchor) = canvas.route(edge)
        is_taken = (edge.source, edge.target) in taken_edges
        classes = ["edge"] + (["edge-taken"] if is_taken else [])
        is_next = edge.source == current and (next_steps is None or edge.name in next_steps)
        classes += ["edge-next"] if is_next else []
        marker = "wf-arrow-taken" if is_taken else "wf-arrow"
        label = ""
        if named[edge.name] is edge:
            label = _text(x, bottom, _wrap(edge.label), anchor, "edge-label")
        parts.append(_edge_group(edge, classes, path, marker, label))
    parts += _loops_svg(graph, canvas, current, next_steps)
    return parts


def _loops_svg(graph, canvas, current, next_steps) -> list[str]:
    """Return the loops of the steps that keep their state, numbered, and their key."""
    parts, keyed = [], set()
    for edge in graph.loops:
        path, x, bottom = canvas.loop(edge)
        number = str(1 + canvas.loop_steps.index(edge.name))
        is_next = edge.source == current and (next_steps is None or edge.name in next_steps)
        classes = ["edge", "edge-loop"] + (["edge-next"] if is_next else [])
        label = _text(x, bottom, [number], "middle", "loop-number")
        if edge.name not in keyed:  # the key names the step once, beside its number
            keyed.add(edge.name)
            key_x, key_bottom = canvas.key_entry(edge.name)
            label += _text(key_x, key_bottom, [f"{number}."], "start", "loop-key-number")
            label += _text(key_x + 18, key_bottom, [edge.label], "start", "edge-label")
        parts.append(_edge_group(edge, classes, path, "wf-arrow", label))
    if canvas.loop_steps:
        _x, first_bottom = canvas.key_entry(canvas.loop_steps[0])
        heading = _("Numbered loops: steps that do not change the state")
        parts.append(_text(MARGIN, first_bottom - LINE, [heading], "start", "loop-key-heading"))
    return parts


def _edge_group(edge: Edge, classes: list[str], path: str, marker: str, label: str) -> str:
    return (
        f'<g class="{" ".join(classes)}" data-transition="{escape(edge.name)}" '
        f'data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
        f"<title>{escape(edge.label)}</title>"
        f'<path d="{path}" fill="none" stroke="#8a8a8a" stroke-width="1.5" '
        f'marker-end="url(#{marker})"/>{label}</g>'
    )


def _states_svg(graph, canvas, visited, current) -> list[str]:
    parts = []
    for state, label in graph.state_labels.items():
        x, y = canvas.centre(state)
        classes = ["state"] + (["state-visited"] if state in visited else [])
        classes += ["state-current"] if state == current else []
        lines = _wrap(label, 18)
        parts.append(
            f'<g class="{" ".join(classes)}" data-state="{escape(state)}"'
            + (' aria-current="step"' if state == current else "")
            + ">"
            f'<rect x="{x - BOX_WIDTH / 2:.0f}" y="{y - BOX_HEIGHT / 2:.0f}" width="{BOX_WIDTH}" '
            f'height="{BOX_HEIGHT}" rx="6" fill="#ffffff" stroke="#8a8a8a"/>'
            + _text(x, y + 4 + (LINE / 2) * (len(lines) - 1), lines, "middle", "state-label")
            + "</g>"
        )
    return parts
