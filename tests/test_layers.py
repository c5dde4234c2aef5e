"""The layers of pyproject.toml's [tool.importlinter]: no app imports from a layer above it
(the shared layer never from a domain app, `reissue` never from claims or reports)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
    reason="import-linter is missing (requirements-dev.txt)",
)
def test_every_import_runs_down_the_layers():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_services_and_permissions_know_nothing_of_http():
    # They raise domain exceptions (common.exceptions); the admin maps them to pages.
    modules = [
        path
        for pattern in ("*/services.py", "*/permissions.py", "*/services/*.py")
        for path in ROOT.glob(pattern)
        if ".venv" not in path.parts
    ]
    assert len(modules) >= 8
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules
        if any(word in path.read_text() for word in ("django.http", "Http404", "HttpResponse"))
    ]
    assert offenders == []
