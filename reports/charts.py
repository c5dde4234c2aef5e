"""Charts drawn on the server as SVG: bars a person reads at a glance, no script, no style="".

Colours come from classes styled in static/reports/dashboard.css (the strict CSP allows our
own style sheets); each bar carries a <title>, which browsers show on hover and screen readers
read. Every chart sits beside a table with the same numbers.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.display import NO_VALUE, format_month
from reissue.case_workflow import CASE_WORKFLOW

from .selectors import Dashboard

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 36
MAX_X_LABELS = 14

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    """One set of bars: its name (legend), its CSS class (colour) and a value per category."""

    name: str
    css_class: str
    values: Sequence[Number]


def nice_scale(largest: Number, ticks: int = 4) -> tuple[float, float]:
    """Return (top of the axis, step between grid lines): 1, 2 or 5 times a power of ten."""
    if largest <= 0:
        return 1.0, 1.0 / ticks if ticks else 1.0
    rough = float(largest) / ticks
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return step * math.ceil(float(largest) / step), step


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def _yuan_axis(value: float) -> str:
    return f"¥{value:,.0f}"


def _svg(title: str, body: list[str], height: int = HEIGHT) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        height,
        title,
        title,
        mark_safe("".join(body)),  # noqa: S308 (every piece was escaped as it was built)
    )


def _grid(top: float, step: float, plot_height: float, fmt: Callable[[float], str]) -> list[str]:
    lines = []
    value = 0.0
    while value <= top + step / 2:
        y = TOP + plot_height - plot_height * value / top
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
        value += step
    return lines


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = _number,
) -> SafeString:
    """Return grouped vertical bars: one group per category, one bar per series in it."""
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    largest = max((value for s in series for value in s.values), default=0)
    top, step = nice_scale(largest)
    body = _grid(top, step, plot_height, fmt)
    group = plot_width / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    label_every = math.ceil(len(categories) / MAX_X_LABELS) or 1
    for index, category in enumerate(categories):
        x0 = LEFT + index * group + group * 0.1
        for number, one in enumerate(series):
            value = float(one.values[index])
            height = plot_height * value / top
            body.append(
                f'<rect class="bar {escape(one.css_class)}" x="{x0 + number * bar:.1f}" '
                f'y="{TOP + plot_height - height:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{height:.1f}"><title>{escape(category)}: {escape(one.name)} '
                f"{escape(fmt(value))}</title></rect>"
            )
        if index % label_every == 0:
            body.append(
                f'<text class="axis" x="{x0 + group * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    body.append(_legend(series))
    return _svg(title, body)


def _legend(series: Sequence[Series]) -> str:
    items = []
    for number, one in enumerate(series):
        x = LEFT + number * 150
        items.append(
            f'<rect class="bar {escape(one.css_class)}" x="{x}" y="{HEIGHT - 12}" width="10" '
            f'height="10"/><text class="legend" x="{x + 14}" y="{HEIGHT - 3}">'
            f"{escape(one.name)}</text>"
        )
    return "".join(items)


def horizontal_bar_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, Number | None]],
    css_class: str,
    row_classes: Sequence[str] = (),
    fmt: Callable[[float], str] = _number,
) -> SafeString:
    """Return one horizontal bar per row, its label on the left and its value at its end.

    `row_classes`, if given, adds a class per row (a colour per case state). A row whose value
    is None (nothing to measure) gets no bar, only a dash: a bar of 0 would read as a figure.
    """
    row_height, label_width = 26, 170
    height = TOP + row_height * len(rows) + 8
    largest = max((float(value) for _label, value in rows if value is not None), default=0)
    top, _step = nice_scale(largest)
    room = WIDTH - label_width - RIGHT - 60
    body = []
    extra = list(row_classes) or [""] * len(rows)
    for index, (label, value) in enumerate(rows):
        y = TOP + index * row_height
        body.append(
            f'<text class="axis" x="{label_width - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if value is None:
            body.append(f'<text class="value" x="{label_width + 6}" y="{y + 15}">{NO_VALUE}</text>')
            continue
        length = room * float(value) / top
        body.append(
            f'<rect class="bar {escape(css_class)} {escape(extra[index])}" x="{label_width}" '
            f'y="{y + 3}" '
            f'width="{length:.1f}" height="{row_height - 8}"><title>{escape(label)}: '
            f"{escape(fmt(float(value)))}</title></rect>"
            f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + 15}">'
            f"{escape(fmt(float(value)))}</text>"
        )
    return _svg(title, body, height=height)


def dashboard_charts(dashboard: Dashboard) -> dict[str, SafeString]:
    """Return the dashboard's charts by table key."""
    weeks = [formats.date_format(row.week, "MONTH_DAY_FORMAT") for row in dashboard.weeks]
    months = [format_month(row.month) for row in dashboard.months]
    days = dashboard.days_to_card
    return {
        "weeks": bar_chart(
            title=_("Cases opened and finished per week"),
            categories=weeks,
            series=[
                Series(_("opened"), "opened", [row.opened for row in dashboard.weeks]),
                Series(_("finished"), "finished", [row.finished for row in dashboard.weeks]),
            ],
        ),
        "states": horizontal_bar_chart(
            title=_("Cases reported in the period, by state now"),
            rows=[(row.label, row.count) for row in dashboard.states],
            css_class="state",
            # Each state in its badge's colour (case_workflow), as the case list shows it.
            row_classes=[CASE_WORKFLOW.state(r.state).badge.css_class for r in dashboard.states],
        ),
        "days": horizontal_bar_chart(
            title=_("Days from report to new SS card"),
            rows=[
                (_("median"), days.median),
                (_("90th percentile"), days.p90),
            ],
            css_class="days",
        ),
        "money": bar_chart(
            title=_("Expense claims per month (yuan)"),
            categories=months,
            fmt=_yuan_axis,
            series=[
                Series(_("amount claimed"), "claimed", [row.claimed for row in dashboard.months]),
                Series(
                    _("amount approved"), "approved", [row.approved for row in dashboard.months]
                ),
                Series(_("amount paid"), "paid", [row.paid for row in dashboard.months]),
            ],
        ),
    }
