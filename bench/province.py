"""A province: 10,000,000 cases in 200 offices, beside 1,000,000 in 20, interleaved.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_province \
        .venv/bin/python bench/province.py --rounds 5

Seeds (once; a database seeded so to its end is reused, one cut short is seeded anew) two
databases named after DATABASE_URL's, `<name>_<cases>` for --small (1,000,000 cases, 20
offices, `bench/lists.py`'s shares: the first office about 18 %) and --cases (10,000,000 in
200 offices: the first about 1.8 %, most about 0.5 %), both by `bench/lists.py`'s seed (reports
over five years, states by age, real surname frequencies, claims for about 14 % of the cases)
with a light audit trail (the registration and the last step: one or two entries a case).

The two largest offices are of about the same size (about 180,000 cases each), so the same
clerk's screen is compared: the province differs only in having 180 more offices and nine
times the rows around them. Then, alternating the two databases request by request over
--rounds rounds, it times (--parts):
- rebuild: `rebuild_dashboard_aggregates` (the seed writes past the signals that keep them),
  once per database, when the aggregates are empty or with --rebuild;
- lists: the case list as the largest office's supervisor (default page, a sort, a search by
  reference start, a surname search) and as an auditor of all offices;
- dashboard: for that office and all offices, 12 weeks and a year;
- export: the CSV export of that office's cases through the admin's export view, rows/s;
each beside the anchor, Django's stock admin list of offices on the same database, and prints
a table of the medians. Prints figures only; nothing here is a test.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import dashboard, export, lists  # noqa: E402
from bench.sessions import logged_in_client  # noqa: E402
from offices.models import Office  # noqa: E402
from reissue.models import ReissueCase  # noqa: E402
from reissue.resources import CaseResource  # noqa: E402
from reports.models import CaseDay  # noqa: E402

PROVINCE = 10_000_000
PROVINCE_OFFICES = 200
SMALL = 1_000_000
PARTS = ("rebuild", "lists", "dashboard", "export")


def province_office_weight(k: int) -> float:
    """Office k's (from 0) share: 1 + 3/(k+1), of 200 the first 1.8 %, most about 0.5 %."""
    return 1 + 3 / (k + 1)


def seed_options(total: int) -> dict:
    if total >= PROVINCE:
        return {
            "offices": PROVINCE_OFFICES,
            "office_weight": province_office_weight,
            "light_audit": True,
        }
    return {"light_audit": True}


def database_size() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


def prepare(name: str, total: int):
    began = time.perf_counter()
    wrapper = lists.prepare(name, total, **seed_options(total))
    print(
        f"{name}: {total:,} cases ready in {time.perf_counter() - began:.0f} s, {database_size()}",
        file=sys.stderr,
        flush=True,
    )
    return wrapper


def rebuild_aggregates(*, force: bool) -> str:
    """Rebuild the dashboard's daily aggregates as an operator would; say how long it took."""
    dashboard.fill_deadlines()  # the seed leaves the deadlines out; the overdue figure reads them
    if CaseDay.objects.exists() and not force:
        return "kept"
    began = time.perf_counter()
    call_command("rebuild_dashboard_aggregates", stdout=open(os.devnull, "w"))  # noqa: SIM115
    took = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_caseday, reports_cardday, reports_claimday")
    return f"{took:.0f} s"


def page(client, url: str):
    def run() -> tuple[float, int | None]:
        return lists.timed(client, url), None

    run.page = (client, url)  # for --explain
    return run


def case_export(username: str, office_code: str):
    """Return a run of the admin's CSV export of the office's cases, as bench/export.py does."""
    rows = ReissueCase.objects.filter(office__code=office_code).count()

    def run() -> tuple[float, int]:
        began = time.perf_counter()
        export.export_ours(username, office_code)
        return (time.perf_counter() - began) * 1000, rows

    return run


def case_copy(office_code: str):
    """Return a run of PostgreSQL's COPY of the same columns (numbers left encrypted)."""
    cases = ReissueCase.objects.filter(office__code=office_code).order_by("-reported_at", "-id")
    sql, params = cases.values_list(*CaseResource.columns.sources).query.sql_with_params()
    rows = cases.count()

    def run() -> tuple[float, int]:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            statement = cursor.mogrify(sql, params)
            statement = statement.decode() if isinstance(statement, bytes) else statement
            with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
                for _block in copy:
                    pass
        return (time.perf_counter() - began) * 1000, rows

    return run


def steps(parts: list[str]) -> dict:
    """Return {(part, label, role): run} for the database in use: its largest office's pages."""
    User = get_user_model()
    office = Office.objects.order_by("code").first()  # the largest: the first in the shares
    supervisor = User.objects.get(username=f"bench.supervisor.{office.code.lower()}.0")
    auditor = User.objects.get(username="bench.auditor")
    cases = reverse("admin:reissue_reissuecase_changelist")
    reference = lists.sortable_columns(ReissueCase, supervisor)[0]
    year = timezone.localdate().year - 2
    case_pages = {
        "cases": cases,
        "cases, by reference": f"{cases}?o=-{reference}",
        "cases, search reference start": f"{cases}?q={office.code}-{year}-00",
        "cases, search surname 王": f"{cases}?q={quote('王')}",
        "cases, search rare surname 诸葛": f"{cases}?q={quote('诸葛')}",
    }
    board = reverse("admin:reports_supervisordashboard_changelist")
    year_ago = (timezone.localdate() - datetime.timedelta(days=364)).isoformat()
    board_pages = {
        "dashboard, 12 weeks": board,
        "dashboard, a year": f"{board}?date_from={year_ago}",
    }
    out = {}
    for role, user in (("supervisor, 1 office", supervisor), ("auditor, all offices", auditor)):
        client = logged_in_client(user)
        out[("anchor", "anchor", role)] = page(client, reverse("admin:offices_office_changelist"))
        for part, pages in (("lists", case_pages), ("dashboard", board_pages)):
            if part in parts:
                out.update({(part, label, role): page(client, url) for label, url in pages.items()})
    if "export" in parts:
        role = "supervisor, 1 office"
        out[("export", "CSV export, 1 office", role)] = case_export(
            supervisor.username, office.code
        )
        out[("export", "its floor: COPY of the same columns", role)] = case_copy(office.code)
    return out


def explain_slowest(client, url: str) -> str:
    """Return the EXPLAIN ANALYZE of the slowest query of a page, indented."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    worst = max(queries.captured_queries, key=lambda query: float(query["time"]))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {worst['sql']}")
        plan = "\n".join(f"      {row[0]}" for row in cursor.fetchall())
    return f"    {len(queries)} queries; slowest {float(worst['time']) * 1000:.0f} ms:\n{plan}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=PROVINCE)
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parts", default=",".join(PARTS), help="seed only: --parts ''")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the daily aggregates")
    parser.add_argument("--only", default="", help="time only pages whose label contains this")
    parser.add_argument(
        "--explain", action="store_true", help="print each page's slowest query on both"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/province.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    base = connections.settings["default"]["NAME"]
    sizes = {"small": args.small, "large": args.cases}
    wrappers = {size: prepare(f"{base}_{total}", total) for size, total in sizes.items()}
    parts = [part for part in args.parts.split(",") if part]
    if not parts:
        return
    rebuilt, plans, facts = {}, {}, {}
    for size, wrapper in wrappers.items():
        lists.use_database(wrapper)
        if "rebuild" in parts or "dashboard" in parts:
            rebuilt[size] = rebuild_aggregates(force=args.rebuild)
            print(f"daily aggregates of {sizes[size]:,}: {rebuilt[size]}", file=sys.stderr)
        plans[size] = {
            key: run
            for key, run in steps(parts).items()
            if args.only in key[1] or key[0] == "anchor"
        }
        office = Office.objects.order_by("code").first()
        office_cases = ReissueCase.objects.filter(office=office).count()
        facts[size] = (Office.objects.count(), office_cases, database_size())
    keys = list(plans["small"])
    samples = {(key, size): [] for key in keys for size in sizes}
    notes = {}
    for size, wrapper in wrappers.items():  # warm each page once
        lists.use_database(wrapper)
        for key in keys:
            if key[0] != "export":
                plans[size][key]()
    for round_number in range(args.rounds):
        order = ["small", "large"] if round_number % 2 == 0 else ["large", "small"]
        for key in keys:
            for size in order:
                lists.use_database(wrappers[size])
                elapsed, notes[(key, size)] = plans[size][key]()
                samples[(key, size)].append(elapsed)
                anchor = ("anchor", "anchor", key[2])
                if key != anchor:  # the anchor beside each page, on the same database
                    samples.setdefault(("anchor of", key, size), []).append(
                        plans[size][anchor]()[0]
                    )
        print(f"  round {round_number + 1} of {args.rounds}", file=sys.stderr, flush=True)
    print_table(args, sizes, facts, rebuilt, keys, samples, notes)
    if args.explain:
        for key in keys:
            for size, wrapper in wrappers.items():
                if hasattr(plans[size][key], "page") and key[0] != "anchor":
                    lists.use_database(wrapper)
                    print(f"{key[1]}, {key[2]}, {sizes[size]:,}:")
                    print(explain_slowest(*plans[size][key].page))


def print_table(args, sizes, facts, rebuilt, keys, samples, notes) -> None:
    small, large = f"{sizes['small']:,}", f"{sizes['large']:,}"
    print(
        f"PostgreSQL, {timezone.localdate()}; median of {args.rounds} rounds, the two databases"
        " alternated request by request, each page followed by the anchor on the same database"
    )
    for size, (offices, office_cases, disk) in facts.items():
        print(
            f"{sizes[size]:,} cases in {offices} offices ({disk}); the timed office holds"
            f" {office_cases:,}; daily aggregates rebuilt: {rebuilt.get(size, '-')}"
        )
    print(f"| page | user | {small} ms | {large} ms | ratio | anchor ms ({small} / {large}) |")
    print("|---|---|---|---|---|---|")
    for key in keys:
        part, label, role = key
        if part == "anchor":
            continue
        ms = {size: statistics.median(samples[(key, size)]) for size in sizes}
        anchor = {size: statistics.median(samples[("anchor of", key, size)]) for size in sizes}
        note = ""
        if notes[(key, "small")]:  # an export: its rate, from the median time
            rates = [notes[(key, size)] / ms[size] * 1000 for size in sizes]
            note = f" (rows/s: {rates[0]:,.0f} / {rates[1]:,.0f})"
        print(
            f"| {label}{note} | {role} | {ms['small']:.0f} | {ms['large']:.0f} |"
            f" {ms['large'] / ms['small']:.2f} | {anchor['small']:.0f} / {anchor['large']:.0f} |"
        )


if __name__ == "__main__":
    main()
