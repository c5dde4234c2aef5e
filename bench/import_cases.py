"""Time the legacy import of N rows beside a bare `bulk_create` of the same rows, with the
peak memory of each, on SQLite or PostgreSQL (DATABASE_URL).

    .venv/bin/python bench/import_cases.py --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_import \
        .venv/bin/python bench/import_cases.py --rows 10000

Writes a CSV of N new applicants with their lost-card reports (UTF-8, Chinese names, valid
ID numbers), migrates one database and copies it afresh for every measurement (SQLite: the
file; PostgreSQL: `CREATE DATABASE <name>_run TEMPLATE <name>`), then runs each measurement
in a fresh subprocess, ours (two ways) and the anchor interleaved (`--repeat` times each):

- "ours": `manage.py import_cases FILE --user ...` as an operator runs it: the file read and
  decoded, every row checked (ID number, field validation, office, open cases, duplicates),
  applicants, cases and one chained audit entry per case written in one transaction, a
  batch at a time, the progress bar drawn (to a buffer).
- "confirmed": the background import of the same file as an admin user runs it, checked by
  the worker (untimed), confirmed, then imported by the worker's task (timed): what the user
  waits for after *Confirm import*. The task reads the upload, checks each batch again only
  for what the database may have changed (the check's digests are kept on the upload) and
  writes it as above.
- "bare": the same CSV read with csv.DictReader a batch at a time, and Applicant and
  ReissueCase objects made with what the database needs (hash, birth date, sex, reference)
  and `bulk_create`d in batches of 1,000 in one transaction: no validation, no audit trail.
  The ID and phone numbers are still encrypted by the model fields, as in ours.

Prints the best time and rows per second of each, the ratio, and each process's peak RSS
(`resource.getrusage`, with its RSS before the run: Django and the libraries). Figures
only; nothing is asserted.
"""

import argparse
import csv
import datetime
import io
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OFFICE, USERNAME = "BX", "bench.import.supervisor"
HEADER = [
    "office",
    "name",
    "id_number",
    "phone",
    "hukou_address",
    "hukou_police_station",
    "lost_items",
    "loss_kind",
    "loss_date",
    "presented_hukou_book",
    "presented_id_card",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"


def write_csv(path: Path, rows: int) -> None:
    from common.id_numbers import compose_id_number

    lost = ["both", "id_card", "ss_card"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 1000)
            writer.writerow(
                [
                    OFFICE,
                    SURNAMES[n % 20] + GIVEN[n // 20 % 20] + GIVEN[n // 400 % 20],
                    compose_id_number("110101", birth, n % 1000),
                    f"138{n:08d}",
                    f"北京市东城区幸福路{n % 500 + 1}号",
                    "东城派出所",
                    lost[n % 3],
                    "lost",
                    (datetime.date(2024, 1, 1) + datetime.timedelta(days=n % 300)).isoformat(),
                    "1",
                    "1" if n % 3 == 2 else "0",
                ]
            )


def prepare_database():
    """Migrate the (fresh) database and create the office and an importing supervisor."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from offices.models import Office

    call_command("migrate", verbosity=0)
    office = Office.objects.create(code=OFFICE, name="Bench office")
    user = get_user_model().objects.create_user(USERNAME, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    office.staff.add(user)
    return office, user


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KB on Linux


def measure_ours(csv_path: Path) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(
        "import_cases", str(csv_path), user=USERNAME, stdout=io.StringIO(), stderr=io.StringIO()
    )
    return time.perf_counter() - started


def measure_confirmed(csv_path: Path) -> float:
    """The worker's import of an upload it has checked and its user confirmed: the check
    (untimed) as the worker runs it first, then the import task alone, timed."""
    import base64

    from django.contrib.auth import get_user_model

    from reissue.legacy_import.background import check_upload, confirm_upload, import_upload
    from reissue.models import ImportState, ImportUpload

    upload = ImportUpload.objects.create(
        owner=get_user_model().objects.get(username=USERNAME),
        content=base64.b64encode(csv_path.read_bytes()).decode(),
        file_name=csv_path.name,
        file_format="csv",
        state=ImportState.CHECKING,
    )
    check_upload(upload.pk, "zh-hans")
    upload.refresh_from_db()
    assert confirm_upload(upload), (upload.state, upload.failure, upload.problems[:3])
    started = time.perf_counter()
    import_upload(upload.pk, "zh-hans")
    seconds = time.perf_counter() - started
    upload.refresh_from_db()
    assert upload.state == ImportState.IMPORTED, (upload.state, upload.failure)
    return seconds


def measure_bare(csv_path: Path) -> float:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from common.id_numbers import birth_date_from_id_number, id_number_digest, sex_from_id_number
    from offices.models import Office
    from reissue.models import Applicant, ReissueCase

    office = Office.objects.get(code=OFFICE)
    user = get_user_model().objects.get(username=USERNAME)
    started = time.perf_counter()
    year, now = timezone.localdate().year, timezone.now()
    with csv_path.open(encoding="utf-8", newline="") as source, transaction.atomic():
        rows, start = csv.DictReader(source), 0
        while batch := list(itertools.islice(rows, 1000)):
            applicants = [
                Applicant(
                    name=row["name"],
                    id_number=row["id_number"],
                    id_number_hash=id_number_digest(row["id_number"]),
                    birth_date=birth_date_from_id_number(row["id_number"]),
                    sex=sex_from_id_number(row["id_number"]),
                    phone=row["phone"],
                    hukou_address=row["hukou_address"],
                    hukou_police_station=row["hukou_police_station"],
                )
                for row in batch
            ]
            Applicant.objects.bulk_create(applicants)
            ReissueCase.objects.bulk_create(
                ReissueCase(
                    reference=f"{OFFICE}-{year}-{start + i + 1:06d}",
                    applicant=applicant,
                    applicant_name=applicant.name,  # bulk inserts skip ReissueCase.save()
                    office=office,
                    handled_by=user,
                    lost_items=row["lost_items"],
                    loss_kind=row["loss_kind"],
                    loss_date=datetime.date.fromisoformat(row["loss_date"]),
                    reported_at=now,
                    presented_hukou_book=row["presented_hukou_book"] == "1",
                    presented_id_card=row["presented_id_card"] == "1",
                )
                for i, (row, applicant) in enumerate(zip(batch, applicants, strict=True))
            )
            start += len(batch)
    return time.perf_counter() - started


class Databases:
    """The migrated database, and a fresh copy of it for each measurement."""

    def __init__(self, folder: Path) -> None:
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parts = urlsplit(url)
            self.name = parts.path.lstrip("/")
            self.url = url
            self.run_url = urlunsplit(parts._replace(path=f"/{self.name}_run"))
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        else:
            self.template = folder / "template.sqlite3"
            self.run_file = folder / "run.sqlite3"
            self.url = f"sqlite:///{self.template}"
            self.run_url = f"sqlite:///{self.run_file}"

    @property
    def vendor(self) -> str:
        return "PostgreSQL" if self.postgres else "SQLite"

    def prepare(self) -> None:
        if self.postgres:
            self._sql(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        run_child(["--prepare"], self.url)

    def fresh_copy(self) -> str:
        if self.postgres:
            self._sql(
                f'DROP DATABASE IF EXISTS "{self.name}_run"',
                f'CREATE DATABASE "{self.name}_run" TEMPLATE "{self.name}"',
            )
        else:
            shutil.copyfile(self.template, self.run_file)
        return self.run_url

    def drop_copy(self) -> None:
        if self.postgres:
            self._sql(f'DROP DATABASE IF EXISTS "{self.name}_run"')

    def _sql(self, *statements: str) -> None:
        import psycopg

        parts = urlsplit(self.admin_url)
        with psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname="postgres",
            autocommit=True,
        ) as db:
            for statement in statements:
                db.execute(statement)


def run_child(arguments: list[str], database_url: str, script: str = __file__) -> dict:
    """Run `script` (this one by default) with `arguments` on the database; return the JSON
    of its last line."""
    env = {**os.environ, "DATABASE_URL": database_url}
    output = subprocess.run(
        [sys.executable, script, *arguments],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="samples of each, interleaved")
    parser.add_argument("--measure", choices=["ours", "confirmed", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if options.prepare or options.measure:
        import django

        django.setup()
    if options.prepare:
        prepare_database()
        print(json.dumps({}))
        return
    if options.measure:
        measure = {"ours": measure_ours, "confirmed": measure_confirmed, "bare": measure_bare}[
            options.measure
        ]
        from django.conf import settings

        if options.measure == "confirmed" and options.rows > settings.IMPORT_MAX_BROWSER_ROWS:
            # The admin refuses such a file: it goes through the command only.
            print(json.dumps({"over_the_browsers_limit": settings.IMPORT_MAX_BROWSER_ROWS}))
            return
        before = rss_mb()
        seconds = measure(options.csv)
        print(json.dumps({"seconds": seconds, "rss_before": before, "peak_rss": peak_rss_mb()}))
        return

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        csv_path = Path(folder) / "legacy.csv"
        write_csv(csv_path, options.rows)
        size = csv_path.stat().st_size / 1e6
        databases = Databases(Path(folder))
        databases.prepare()
        print(
            f"{options.rows:,} rows, CSV of {size:.1f} MB; {databases.vendor}, each run on a "
            f"fresh copy of one migrated database; {options.repeat} interleaved runs each"
        )
        samples = {"ours": [], "confirmed": [], "bare": []}
        try:
            for _ in range(options.repeat):
                for which in samples:
                    url = databases.fresh_copy()
                    arguments = ["--measure", which, "--csv", str(csv_path)]
                    sample = run_child([*arguments, "--rows", str(options.rows)], url)
                    if "seconds" in sample:
                        samples[which].append(sample)
                    else:
                        limit = sample["over_the_browsers_limit"]
        finally:
            databases.drop_copy()
    if not samples["confirmed"]:
        del samples["confirmed"]
        print(f"(no worker's import: the admin takes files of up to {limit:,} rows)")
    best = {which: min(runs, key=lambda r: r["seconds"]) for which, runs in samples.items()}
    for which, label in [
        ("ours", "import_cases (full validation, audit trail)"),
        ("confirmed", "a worker's import, confirmed after its check"),
        ("bare", "bare bulk_create (no validation, no audit)"),
    ]:
        if which not in samples:
            continue
        runs = samples[which]
        times = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        peak = max(r["peak_rss"] for r in runs)
        before = min(r["rss_before"] for r in runs)
        seconds = best[which]["seconds"]
        print(
            f"{label:44} {seconds:7.1f} s  {options.rows / seconds:7,.0f} rows/s  "
            f"(runs: {times} s)  peak RSS {peak:,.0f} MB ({before:,.0f} MB before)"
        )
    for which, label in [("ours", "import_cases"), ("confirmed", "the confirmed import")]:
        if which not in samples:
            continue
        ratio = best["bare"]["seconds"] / best[which]["seconds"]
        print(f"{label} / bare: {ratio:.2f} of the bare speed")


if __name__ == "__main__":
    main()
