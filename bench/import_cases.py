"""Time the legacy import of N rows beside a bare `bulk_create` of the same rows, on SQLite.

    .venv/bin/python bench/import_cases.py --rows 100000

Writes a CSV of N new applicants with their lost-card reports (UTF-8, Chinese names, valid
ID numbers), then runs each measurement in a fresh subprocess on a fresh, migrated SQLite
database in a temporary directory:

- "ours": `manage.py import_cases FILE --user ...` as an operator runs it: the file read and
  decoded, every row checked (ID number, field validation, office, open cases, duplicates),
  applicants, cases and one chained audit entry per case written in one transaction, the
  progress bar drawn on stderr.
- "bare": the same CSV read with csv.DictReader, and Applicant and ReissueCase objects made
  with what the database needs (hash, birth date, sex, reference) and `bulk_create`d in
  batches of 1,000 in one transaction: no validation, no audit trail. The ID and phone
  numbers are still encrypted by the model fields, as in ours.

Prints rows per second of both. Figures only; nothing is asserted.
"""

import argparse
import csv
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def measure_ours(csv_path: Path) -> float:
    from django.core.management import call_command

    prepare_database()
    started = time.perf_counter()
    call_command("import_cases", str(csv_path), user=USERNAME, stdout=io.StringIO())
    return time.perf_counter() - started


def measure_bare(csv_path: Path) -> float:
    from django.db import transaction
    from django.utils import timezone

    from common.id_numbers import birth_date_from_id_number, id_number_digest, sex_from_id_number
    from reissue.models import Applicant, ReissueCase

    office, user = prepare_database()
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    year, now = timezone.localdate().year, timezone.now()
    with transaction.atomic():
        for start in range(0, len(rows), 1000):
            batch = rows[start : start + 1000]
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
    return time.perf_counter() - started


def in_subprocess(which: str, csv_path: Path, database: Path) -> float:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    output = subprocess.run(
        [sys.executable, __file__, "--measure", which, "--csv", str(csv_path)],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    if options.measure:
        measure = measure_ours if options.measure == "ours" else measure_bare
        print(json.dumps({"seconds": measure(options.csv)}))
        return

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        csv_path = Path(folder) / "legacy.csv"
        write_csv(csv_path, options.rows)
        size = csv_path.stat().st_size / 1e6
        print(f"{options.rows:,} rows, CSV of {size:.1f} MB; SQLite, each run on a fresh database")
        results = {
            which: in_subprocess(which, csv_path, Path(folder) / f"{which}.sqlite3")
            for which in ("ours", "bare")
        }
    for which, label in [
        ("ours", "import_cases (full validation, audit trail)"),
        ("bare", "bare bulk_create (no validation, no audit)"),
    ]:
        seconds = results[which]
        print(f"{label:46} {seconds:7.1f} s  {options.rows / seconds:9,.0f} rows/s")
    print(f"ours / bare: {results['bare'] / results['ours']:.2f} of the bare speed")


if __name__ == "__main__":
    main()
