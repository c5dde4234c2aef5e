"""What each request of the counter's mix costs in-process, beside the stock admin's floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/requests.py --cases 10000 --rounds 30
    ... --profile "case list" [--flat]    # a pyinstrument profile of that request instead

Seeds as bench/load.py does (bench/changelist.py's seed; reused when already there) and runs
the mix bench/load.py drives over HTTP, in one process through Django's test client, in
Chinese as the clerks' browsers ask: the case list, a case page, the temporary-card step
page, its POST, the redirect it answers (the case page again), a search by reference; each
HTTP request timed on its own, as bench/load.py times them. Each round takes every request
once and then the stock admin list of offices (the floor, bench/load.py's anchor), so both
see the same machine at the same moment. Prints for each request the median milliseconds
(wall clock, and CPU of this process: steadier on a shared machine), its ratio to the floor,
its queries and the functions it calls (a count the machine's other work does not move); then
the mix per request, and as the earlier rounds counted it (the POST and its redirect as one).
Prints figures; not a test.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changelist import seed  # noqa: E402  (sets up Django)
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from reissue.models import ReissueCase  # noqa: E402

BASE = "/admin/reissue/reissuecase/"
FLOOR = "stock office list"
STEP_POST = "step POST"
REDIRECT = "its redirect"


def mix(client, next_case):
    """Return the mix's requests: (name, a function making the request and its response).

    Each HTTP request is one: the step's POST and the redirect the browser follows after it
    (to the case page) are timed apart, as the floor's single GET is.
    """
    redirect = {}

    def step_post():
        case_id = next_case()
        response = client.post(
            f"{BASE}{case_id}/step/issue_temp_card/",
            {
                "card_number": f"TMP{case_id}",
                "issued_on": timezone.localdate().isoformat(),
                "expected_state": "reported",
            },
        )
        assert response.status_code == 302, response.status_code
        redirect["to"] = response["Location"]
        return response

    shown = ReissueCase.objects.filter(state="reported").order_by("pk").first().pk
    return [
        ("case list", lambda: client.get(BASE)),
        ("case page", lambda: client.get(f"{BASE}{shown}/change/")),
        ("step page", lambda: client.get(f"{BASE}{shown}/step/issue_temp_card/")),
        (STEP_POST, step_post),
        (REDIRECT, lambda: client.get(redirect["to"])),
        ("search", lambda: client.get(f"{BASE}?q=BN-2026-00001")),
        (FLOOR, lambda: client.get("/admin/offices/office/")),
    ]


def measure(requests, rounds: int) -> dict[str, tuple[float, float, int]]:
    """Return {name: (median ms, median CPU ms of this process, queries)} over `rounds`
    interleaved rounds of every request."""
    times = {name: [] for name, _make in requests}
    cpu = {name: [] for name, _make in requests}
    for _ in range(rounds):
        for name, make in requests:
            began, began_cpu = time.perf_counter(), time.process_time()
            response = make()
            cpu[name].append((time.process_time() - began_cpu) * 1000)
            times[name].append((time.perf_counter() - began) * 1000)
            assert response.status_code in (200, 302), (name, response.status_code)
    queries, calls = {}, {}
    for name, make in requests:
        with CaptureQueriesContext(connection) as captured:
            calls[name] = function_calls(make)
        queries[name] = len(captured)
    return {
        name: (
            statistics.median(times[name]),
            statistics.median(cpu[name]),
            queries[name],
            calls[name],
        )
        for name in times
    }


def function_calls(make) -> int:
    """Return how many functions (Python and built-in) one request calls: a count that,
    unlike the times, does not move with the other work on a shared machine."""
    count = 0

    def counter(_frame, event, _arg):
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(counter)
    try:
        make()
    finally:
        sys.setprofile(None)
    return count


def profile(requests, name: str, runs: int, flat: bool) -> None:
    """Print a pyinstrument profile of `runs` requests `name` (a dev tool: requirements-dev).

    `flat`: the functions by the time spent in them and what they call (where it goes),
    instead of the call tree.
    """
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    make = dict(requests)[name]
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(runs):
        make()
    profiler.stop()
    renderer = ConsoleRenderer(unicode=True, flat=flat, flat_time="total", show_all=flat)
    print(profiler.output(renderer)[:20000])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", help="a request's name, as printed")
    parser.add_argument("--flat", action="store_true", help="the profile as a flat list")
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    office, clerk = seed(args.cases)
    clerk.user_permissions.add(Permission.objects.get(codename="view_office"))  # the floor
    client = logged_in_client(clerk)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"  # as the counter's browsers
    reported = list(
        ReissueCase.objects.filter(office=office, state="reported")
        .exclude(pk=ReissueCase.objects.filter(state="reported").order_by("pk").first().pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    requests = mix(client, reported.pop)
    measure(requests, 2)  # warm caches (templates, translations, connections)
    if args.profile:
        profile(requests, args.profile, args.rounds, args.flat)
        return
    figures = measure(requests, args.rounds)
    floor_ms, floor_cpu, _queries, floor_calls = figures[FLOOR]
    print(f"{connection.vendor}, {ReissueCase.objects.count():,} cases, {args.rounds} rounds")
    print(f"  {'request':<20} {'median ms':>9} {'x floor':>7} {'CPU ms':>7} {'x floor':>7} "
          f"{'queries':>7} {'calls':>7} {'x floor':>7}")  # fmt: skip
    for name, (median, median_cpu, queries, calls) in figures.items():
        print(f"  {name:<20} {median:9.1f} {median / floor_ms:7.1f} {median_cpu:7.1f} "
              f"{median_cpu / floor_cpu:7.1f} {queries:7} {calls:7} "
              f"{calls / floor_calls:7.1f}")  # fmt: skip
    ours = [figures[name] for name, _make in requests if name != FLOOR]
    mean, mean_cpu, mean_calls = (statistics.fmean(f[i] for f in ours) for i in (0, 1, 3))
    print(f"  {'mix, per request':<20} {mean:9.1f} {mean / floor_ms:7.1f} {mean_cpu:7.1f} "
          f"{mean_cpu / floor_cpu:7.1f} {'':7} {mean_calls:7.0f} "
          f"{mean_calls / floor_calls:7.1f}")  # fmt: skip
    # As the earlier rounds counted: the step's POST and its redirect as one request.
    items = len(ours) - 1
    whole, whole_cpu, whole_calls = (sum(f[i] for f in ours) / items for i in (0, 1, 3))
    print(f"  {'(POST+redirect as 1)':<20} {whole:9.1f} {whole / floor_ms:7.1f} "
          f"{whole_cpu:7.1f} {whole_cpu / floor_cpu:7.1f} {'':7} {whole_calls:7.0f} "
          f"{whole_calls / floor_calls:7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
