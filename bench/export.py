"""Time the streamed CSV export of the case list beside a plain csv.writer, at N cases.

    psql -h 127.0.0.1 -U postgres -c 'create database reissue_bench_export'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_export \
        .venv/bin/python bench/export.py --cases 1000000

Migrates the database named in DATABASE_URL and fills it with N cases of one office by bulk
insert (once; a later run reuses them). Then each measurement runs in a fresh subprocess, so
that its peak memory is its own:

- "ours": the admin's export view, through Django's test client (a POST of the export form,
  CSV, every column), reading the StreamingHttpResponse to its end. Once as a supervisor (full
  ID numbers, one access-log row per export) and once as a user who may export but sees
  numbers masked (the masking costs a little).
- "plain": csv.writer over `values_list` of the same columns of the same cases: no masking,
  no escaping, no translation; the practical limit. (values_list decrypts the encrypted
  columns too, as ours does; both read a server-side cursor inside a transaction.)

Each is run twice: once for rows per second and the growth of peak RSS (ru_maxrss after
the run minus before it), and once under tracemalloc for the peak of Python allocations
(tracemalloc slows the run, so its time is not reported). Prints figures only.
"""

import argparse
import csv
import datetime
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from common.id_numbers import (
    birth_date_from_id_number,
    compose_id_number,
    id_number_digest,
    sex_from_id_number,
)
from offices.models import Office
from reissue.models import Applicant, CaseState, ReissueCase
from reissue.resources import CaseResource  # noqa: E402

OFFICE = "BX"
STATES = list(CaseState.values)
BATCH = 5000
SUPERVISOR, EXPORTER = "bench.export.supervisor", "bench.export.masked"


def applicant(n: int) -> Applicant:
    # Bulk inserts skip Applicant.save(): set what it would derive from the number.
    number = compose_id_number(
        "110101", datetime.date(1950, 1, 1) + datetime.timedelta(days=n // 1000), n % 1000
    )
    return Applicant(
        name=f"申请人{n}",
        id_number=number,
        id_number_hash=id_number_digest(number),
        birth_date=birth_date_from_id_number(number),
        sex=sex_from_id_number(number),
        phone=f"138{n:08d}",
        hukou_address="北京市东城区幸福路1号",
        hukou_police_station="东城派出所",
    )


def case(n: int, person: Applicant, office: Office, clerk) -> ReissueCase:
    state = STATES[n % len(STATES)]
    agent = n % 10 == 0
    return ReissueCase(
        reference=f"{OFFICE}-2026-{n:07d}",
        applicant=person,
        office=office,
        lost_items="both",
        loss_kind="lost",
        loss_date=datetime.date(2026, 1, 1),
        reported_at=timezone.now() - datetime.timedelta(seconds=n),
        handled_by=clerk,
        state=state,
        agent_acts=agent,
        agent_name=f"代办人{n}" if agent else "",
        agent_id_number=compose_id_number("310101", datetime.date(1980, 1, 1), n % 1000)
        if agent
        else "",
        cancel_reason="申请人已找回卡片" if state == CaseState.CANCELLED else "",
        ss_card_number=f"SS{OFFICE}{n:08d}" if n % len(STATES) in (3, 4, 5) else "",
    )


def users(office: Office):
    User = get_user_model()
    supervisor, _ = User.objects.get_or_create(username=SUPERVISOR, is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    exporter, _ = User.objects.get_or_create(username=EXPORTER, is_staff=True)
    exporter.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reissue", codename__in=["view_reissuecase", "export_cases"]
        )
    )
    office.staff.add(supervisor, exporter)
    return supervisor


def seed(total: int) -> None:
    office, _ = Office.objects.get_or_create(code=OFFICE, defaults={"name": "Export bench"})
    clerk = users(office)
    have = ReissueCase.objects.filter(office=office).count()
    began = time.perf_counter()
    for start in range(have, total, BATCH):
        numbers = range(start, min(start + BATCH, total))
        people = Applicant.objects.bulk_create([applicant(n) for n in numbers])
        ReissueCase.objects.bulk_create(
            case(n, person, office, clerk) for n, person in zip(numbers, people, strict=True)
        )
        if (numbers[-1] + 1) % 50000 == 0 or numbers[-1] + 1 == total:
            elapsed = time.perf_counter() - began
            print(f"  seeded {numbers[-1] + 1:,} cases ({elapsed:.0f} s)", file=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would, before timing reads


def export_ours(username: str) -> int:
    """Export every case of the office through the admin's export view; return bytes read."""
    client = logged_in_client(get_user_model().objects.get(username=username))
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    office = Office.objects.get(code=OFFICE)
    url = reverse("admin:reissue_reissuecase_export") + f"?office__id__exact={office.pk}"
    response = client.post(url, {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200 and response.streaming, response.status_code
    return sum(len(chunk) for chunk in response.streaming_content)


class Discard:
    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> None:
        self.size += len(text)


def export_plain() -> int:
    """Write the same columns of the same cases with csv.writer over values_list."""
    sources = CaseResource.columns.sources
    sink = Discard()
    rows = (
        ReissueCase.objects.filter(office__code=OFFICE)
        .order_by("-reported_at", "-id")
        .values_list(*sources)
    )
    with transaction.atomic():  # as ours: PostgreSQL streams the cursor, no WITH HOLD
        csv.writer(sink).writerows(rows.iterator(chunk_size=2000))
    return sink.size


def measure(which: str, traced: bool) -> dict:
    """Run one export in this (fresh) process and return its figures."""
    run = {"plain": export_plain, "ours": lambda: export_ours(SUPERVISOR)}.get(
        which, lambda: export_ours(EXPORTER)
    )
    count = ReissueCase.objects.filter(office__code=OFFICE).count()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    size = run()
    seconds = time.perf_counter() - began
    figures = {"rows": count, "seconds": seconds, "bytes": size}
    if traced:
        figures["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures["rss_growth"] = (rss_after - rss_before) * 1024  # ru_maxrss is in KiB on Linux
    return figures


def in_subprocess(which: str, traced: bool) -> dict:
    command = [sys.executable, __file__, "--measure", which] + (["--traced"] if traced else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure", choices=["ours", "ours-masked", "plain"], help="internal")
    parser.add_argument("--traced", action="store_true", help="internal")
    args = parser.parse_args()
    setup_test_environment()
    if args.measure:
        print(json.dumps(measure(args.measure, args.traced)))
        return
    call_command("migrate", verbosity=0)
    seed(args.cases)
    if args.seed_only:
        return
    count = ReissueCase.objects.filter(office__code=OFFICE).count()
    print(
        f"{connection.vendor}, {count:,} cases exported, "
        f"{len(CaseResource.columns.sources)} columns"
    )
    results = {}
    for which in ("plain", "ours", "ours-masked"):
        timed, traced = in_subprocess(which, False), in_subprocess(which, True)
        results[which] = timed["rows"] / timed["seconds"]
        print(
            f"  {which:<12} {timed['rows'] / timed['seconds']:>9,.0f} rows/s "
            f"({timed['seconds']:6.1f} s, {timed['bytes'] / 2**20:6.0f} MiB of CSV)  "
            f"peak RSS growth {timed['rss_growth'] / 2**20:6.1f} MiB  "
            f"tracemalloc peak {traced['traced_peak'] / 2**20:6.1f} MiB"
        )
    for which in ("ours", "ours-masked"):
        print(f"  {which} / plain: {results[which] / results['plain']:.0%} of the plain rows/s")


if __name__ == "__main__":
    main()
