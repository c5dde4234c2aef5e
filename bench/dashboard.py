"""Time the supervisor dashboard on its daily aggregates, beside the live queries it replaced.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_dash \
        .venv/bin/python bench/dashboard.py --cases 1000000

Seeds the database named in DATABASE_URL once, as `bench/lists.py` does (20 offices of unequal
size, reports over five years, states by age, claims for about 14 % of the cases; reused
while its size matches), then fills the daily aggregates with `rebuild_daily_aggregates` (the
seed writes in SQL, past the signals that keep them) when they are empty or --rebuild.

Then it requests, round after round, interleaved: the dashboard page (last 12 weeks, last
year) as the supervisor of the largest office (a fifth of the cases) and as an auditor of all
offices, read from the aggregates ("daily") and from the live queries ("live", the dashboard
as it was: `reports.selectors`' live functions), and the anchor, Django's stock list of
offices, and prints the medians and the query counts. Prints figures only; nothing here is a
test.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import lists  # noqa: E402
from bench.sessions import logged_in_client  # noqa: E402
from reissue.deadlines import awaiting_card_states  # noqa: E402
from reissue.models import ReissueCase  # noqa: E402
from reports import selectors  # noqa: E402
from reports.daily import rebuild_daily_aggregates  # noqa: E402
from reports.models import CaseDay  # noqa: E402

GOAL_MS = 300


def live_dashboard(*, user, period, office=None, today=None) -> selectors.Dashboard:
    """The dashboard as it was before the aggregates: every figure from the cases."""
    today = today or timezone.localdate()
    office_ids = selectors.dashboard_office_ids(user=user, office=office)
    cases = selectors.dashboard_cases(office_ids=office_ids)
    overdue_count, overdue_oldest = selectors.overdue_cases(cases=cases, today=today)
    return selectors.Dashboard(
        period=period,
        weeks=selectors.cases_per_week(cases=cases, period=period),
        states=selectors.cases_by_state(cases=cases, period=period),
        days_to_card=selectors.days_to_new_card(cases=cases, period=period),
        overdue_count=overdue_count,
        overdue_oldest=overdue_oldest,
        months=selectors.claim_amounts_per_month(
            claims=selectors.dashboard_claims(office_ids=office_ids), period=period
        ),
    )


def request(client, url: str, *, live: bool) -> float:
    began = time.perf_counter()
    if live:
        with mock.patch("reports.admin.supervisor_dashboard", live_dashboard):
            response = client.get(url)
    else:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return (time.perf_counter() - began) * 1000


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def fill_deadlines() -> None:
    """Give the cases awaiting their card the deadline registration gives (the lists' seed
    leaves it out): 21 calendar days, about 15 working days, so some are overdue."""
    waiting = ReissueCase.objects.filter(
        state__in=awaiting_card_states(), service_due_on__isnull=True
    )
    if waiting.exists():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE reissue_reissuecase SET service_due_on ="
                " (reported_at AT TIME ZONE 'Asia/Shanghai')::date + 21"
                " WHERE service_due_on IS NULL AND state = ANY(%s)",
                [list(awaiting_card_states())],
            )
            cursor.execute("VACUUM ANALYZE reissue_reissuecase")


def prepare_aggregates(*, rebuild: bool) -> None:
    if rebuild or not CaseDay.objects.exists():
        began = time.perf_counter()
        rows = rebuild_daily_aggregates()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_caseday, reports_cardday, reports_claimday")
        took = time.perf_counter() - began
        print(f"rebuilt the daily aggregates in {took:.1f} s: {rows}", file=sys.stderr)


def check_identical(clients) -> None:
    """Say whether the aggregates give the live figures, for each user and period."""
    today = timezone.localdate()
    for who, client in clients.items():
        user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
        for days in (83, 364):
            period = selectors.Period(today - datetime.timedelta(days=days), today)
            daily = selectors.supervisor_dashboard(user=user, period=period)
            live = live_dashboard(user=user, period=period)
            same = "identical" if daily == live else "DIFFERENT"
            print(f"{who}, {days + 1} days: daily figures {same} to the live ones")


def time_overdue(clients, rounds: int) -> None:
    """Time the one figure still counted live: the overdue cases (count and oldest 20)."""
    today = timezone.localdate()
    for who, client in clients.items():
        user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
        cases = selectors.dashboard_cases(office_ids=selectors.dashboard_office_ids(user=user))
        times = []
        for _round in range(rounds):
            began = time.perf_counter()
            count, _oldest = selectors.overdue_cases(cases=cases, today=today)
            times.append((time.perf_counter() - began) * 1000)
        print(f"{who}: overdue cases, live: {count:,} in {statistics.median(times):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the aggregates first")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/dashboard.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    lists.prepare(connections.settings["default"]["NAME"], args.cases)
    fill_deadlines()
    prepare_aggregates(rebuild=args.rebuild)
    User = get_user_model()
    page = reverse("admin:reports_supervisordashboard_changelist")
    year_ago = (timezone.localdate() - datetime.timedelta(days=364)).isoformat()
    periods = {"12 weeks": page, "a year": f"{page}?date_from={year_ago}"}
    anchor = reverse("admin:offices_office_changelist")
    clients = {
        "supervisor, 1 office (20 %)": logged_in_client(
            User.objects.get(username="bench.supervisor.b01.0")
        ),
        "auditor, all 20 offices": logged_in_client(User.objects.get(username="bench.auditor")),
    }
    check_identical(clients)
    time_overdue(clients, args.rounds)
    plan = [(who, name, url) for who in clients for name, url in periods.items()]
    times = {key: [] for key in [(*step, live) for step in plan for live in (False, True)]}
    anchors = []
    for client in clients.values():  # warm caches and sessions
        request(client, anchor, live=False)
    for _round in range(args.rounds):
        for who, name, url in plan:
            for live in (False, True):
                times[(who, name, url, live)].append(request(clients[who], url, live=live))
            anchors.append(request(clients[who], anchor, live=False))
    cases = ReissueCase.objects.count()
    print(f"PostgreSQL, {cases:,} cases in 20 offices, median of {args.rounds} rounds, interleaved")
    print(f"anchor, Django's stock list of offices: {statistics.median(anchors):.0f} ms")
    print(f"{'user':<28} {'period':<9} {'daily ms':>9} {'live ms':>9} {'queries':>8}  goal")
    for who, name, url in plan:
        daily = statistics.median(times[(who, name, url, False)])
        live = statistics.median(times[(who, name, url, True)])
        queries = query_count(clients[who], url)
        goal = "under" if daily < GOAL_MS else "OVER"
        print(f"{who:<28} {name:<9} {daily:9.0f} {live:9.0f} {queries:8d}  {goal} {GOAL_MS} ms")


if __name__ == "__main__":
    main()
