"""How long a clerk's step waits while a legacy import runs, ours beside main's (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_stepwait \
        .venv/bin/python bench/import_step_wait.py --rows 20000 --anchor /work/main

Writes the CSV of `bench/import_cases.py` (N new applicants of office BX), migrates one
database with that office, an importing supervisor and one open case of BX, and for each
checkout (`--anchor`, the code before, and this one), interleaved `--repeat` times, on a fresh
copy of the database: starts `manage.py import_cases FILE` of that checkout, and meanwhile
edits the open case of the import's own office in a loop (`services.case_update`, a step
with its chained audit entry, as a clerk's edit of the documents presented), 10 a second,
until the import ends. Prints, for each, the import's time and the steps' waits: median, 95th
percentile and longest, and how many steps were taken during it. Figures only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_cases import (  # noqa: E402
    ROOT,
    USERNAME,
    Databases,
    prepare_database,
    run_child,
    write_csv,
)

SETTINGS = "config.settings.test"


def prepare() -> None:
    from reissue.models import ReissueCase
    from tests.factories import register_case

    office, user = prepare_database()
    case = register_case(clerk=user, office=office)
    assert ReissueCase.objects.filter(pk=case.pk).exists()


def step_during(tree: Path, csv_path: Path) -> dict:
    """Run `tree`'s import of the file and take steps until it ends; return the figures."""
    from django.contrib.auth import get_user_model

    from reissue import services
    from reissue.models import ReissueCase

    user = get_user_model().objects.get(username=USERNAME)
    case = ReissueCase.objects.get()
    python = tree / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)
    command = [str(python), str(tree / "manage.py"), "import_cases", str(csv_path)]
    started = time.perf_counter()
    importing = subprocess.Popen(
        [*command, "--user", USERNAME, "--quiet-progress"],
        cwd=tree,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
        stdout=subprocess.DEVNULL,
    )
    waits, shown = [], False
    while importing.poll() is None:
        shown = not shown
        began = time.perf_counter()
        services.case_update(case=case, acting_user=user, data={"presented_id_card": shown})
        waits.append(time.perf_counter() - began)
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    assert importing.returncode == 0, "the import failed"
    return {"seconds": seconds, "waits": waits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1, help="samples of each, interleaved")
    parser.add_argument("--anchor", type=Path, default=Path("/work/main"))
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--during", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    if options.prepare or options.during:
        import django

        django.setup()
        print(json.dumps(step_during(options.during, options.csv) if options.during else prepare()))
        return

    databases = Databases(Path("."))
    assert databases.postgres, "set DATABASE_URL to a PostgreSQL database of your own"
    trees = {"before (anchor)": options.anchor.resolve(), "ours": ROOT}
    with tempfile.TemporaryDirectory(prefix="bench-stepwait-") as folder:
        csv_path = Path(folder) / "legacy.csv"
        write_csv(csv_path, options.rows)
        databases._sql(
            f'DROP DATABASE IF EXISTS "{databases.name}"', f'CREATE DATABASE "{databases.name}"'
        )
        run_child(["--prepare"], databases.url, script=__file__)
        samples = {label: [] for label in trees}
        try:
            for _ in range(options.repeat):
                for label, tree in trees.items():
                    url = databases.fresh_copy()
                    arguments = ["--during", str(tree), "--csv", str(csv_path)]
                    samples[label].append(run_child(arguments, url, script=__file__))
        finally:
            databases.drop_copy()
    print(f"{options.rows:,} rows imported on PostgreSQL while a clerk edits a case of that office")
    for label, runs in samples.items():
        waits = sorted(w for r in runs for w in r["waits"])
        p95 = waits[min(len(waits) - 1, int(len(waits) * 0.95))]
        print(
            f"{label:16} import {min(r['seconds'] for r in runs):6.1f} s; {len(waits)} steps, "
            f"wait median {statistics.median(waits) * 1e3:7,.0f} ms, p95 {p95 * 1e3:7,.0f} ms, "
            f"longest {waits[-1] * 1e3:7,.0f} ms"
        )


if __name__ == "__main__":
    main()
