"""The SVG charts: readable scales, bars to scale, text escaped, no inline style."""

import re

import pytest

from reports.charts import Series, bar_chart, horizontal_bar_chart, nice_scale


@pytest.mark.parametrize(
    ("largest", "scale"),
    [(0, (1.0, 0.25)), (7, (8.0, 2.0)), (38, (40.0, 10.0)), (171445.84, (200000.0, 50000.0))],
)
def test_axis_ends_on_a_round_number_above_the_largest_value(largest, scale):
    assert nice_scale(largest) == scale


def bar_heights(svg: str, css_class: str) -> list[float]:
    pattern = (
        rf'<rect class="bar {css_class}[^"]*" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"'
    )
    return [float(height) for height in re.findall(pattern, svg)]


def test_bars_are_drawn_to_scale_with_their_numbers_in_titles():
    svg = str(
        bar_chart(
            title="Cases",
            categories=["09-29", "10-06"],
            series=[Series("opened", "opened", [40, 10]), Series("finished", "finished", [0, 20])],
        )
    )
    opened = bar_heights(svg, "opened")[:2]  # the third is the legend's swatch
    assert opened[0] == pytest.approx(4 * opened[1])
    assert "<title>10-06: finished 20</title>" in svg
    assert "style=" not in svg and "<script" not in svg


def test_labels_are_escaped():
    svg = str(horizontal_bar_chart(title="<b>x</b>", rows=[("<script>", 3)], css_class="state"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<b>" not in svg


def test_a_missing_value_gets_a_dash_and_no_bar():
    svg = str(
        horizontal_bar_chart(title="Days", rows=[("median", None), ("p90", 8)], css_class="d")
    )
    assert len(bar_heights(svg, "d")) == 1  # p90's only
    assert ">\u2014</text>" in svg and ">0</text>" not in svg
