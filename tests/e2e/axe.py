"""axe-core in the page: the npm package from node_modules (`npm ci`), never fetched at run time.

The CSP forbids inline scripts, so a `<script>` tag with axe's source would be blocked; the
source is run with `page.evaluate`, which the CSP does not govern.
"""

from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def require_axe() -> None:
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci` (make install does)")


def serious_violations(page) -> list[dict]:
    """Run axe on the page and return its serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '')!r:.300}")
    return "\n".join(lines)
