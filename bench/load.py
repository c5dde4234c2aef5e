"""A full office under load: N logged-in clerks at once against gunicorn on 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/load.py --cases 100000 --sessions 1,4,16,32 --seconds 15

Seeds the cases as bench/changelist.py does, starts gunicorn (sync workers, DEBUG off) on a
free loopback port, and logs in one session per clerk. Each clerk loops with no think time
through the counter's mix: the case list, a case page, the temporary-card step page, the
step's POST (CSRF token from the page) and its redirect, a search by reference; each HTTP
request is timed on its own (the POST and its redirect apart, then also together). After an
untimed warm-up (`--warmup` seconds, one clerk per worker), slices of `--seconds` alternate
with the same sessions on the stock admin list of offices, the anchor, and both are printed
side by side: requests/s, p50/p95/p99 and errors. Afterwards it checks
that the audit trail gained exactly one entry per step the clients saw succeed and that
`verify_audit` passes. Bounded: a fixed time per slice, loopback only. Prints figures; not a
test.
"""

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changelist import seed  # noqa: E402  (sets up Django)
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.models import AuditEntry
from bench.sessions import logged_in_client  # noqa: E402
from reissue.models import ReissueCase

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect as it comes (an HTTPError of 302), for the clerk to follow as a
    request of its own."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Clerk:
    """One logged-in browser: a cookie jar with the session a test client made."""

    def __init__(self, base: str, session_key: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        jar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", session_key, None, False, "127.0.0.1", False, False, "/", True,
            False, None, False, None, None, {},
        ))  # fmt: skip
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), KeepRedirects()
        )
        self.times: list[float] = []
        self.step_pairs: list[float] = []  # a step's POST and its redirect, together
        self.errors = 0
        self.steps = 0
        self.last_error: Exception | None = None

    def fetch(self, path: str, data: dict | None = None) -> str:
        """Return the page's text, or a redirect's target ("redirect:<path>")."""
        began = time.perf_counter()
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            if error.code != 302:
                self.errors += 1
                self.last_error = error
                return ""
            text = f"redirect:{error.headers['Location']}"
        except (urllib.error.URLError, TimeoutError) as error:
            self.errors += 1
            self.last_error = error
            return ""
        finally:
            self.times.append((time.perf_counter() - began) * 1000)
        return text

    def counter_round(self, case_id: int | None) -> None:
        base = "/admin/reissue/reissuecase/"
        self.fetch(base)
        if case_id is not None:
            self.fetch(f"{base}{case_id}/change/")
            step = f"{base}{case_id}/step/issue_temp_card/"
            found = TOKEN.search(self.fetch(step))
            if found:
                answer = self.fetch(step, {
                    "csrfmiddlewaretoken": found.group(1), "card_number": f"TMP{case_id}",
                    "issued_on": timezone.localdate().isoformat(), "expected_state": "reported",
                })  # fmt: skip
                # The redirect the browser follows: a request of its own, timed as one.
                page = self.fetch(answer.removeprefix("redirect:")) if answer else ""
                if answer.startswith("redirect:"):
                    self.step_pairs.append(self.times[-2] + self.times[-1])
                self.steps += "temp_card_issued" in page or "临时卡已发放" in page
        self.fetch(f"{base}?q=BN-2026-00001")

    def anchor_round(self) -> None:
        self.fetch("/admin/offices/office/")


def run_slice(clerks: list[Clerk], seconds: float, work) -> tuple[float, list[float], int]:
    """Run `work(clerk)` in a thread per clerk for `seconds`; return req/s, times, errors."""
    for clerk in clerks:
        clerk.times, clerk.errors, clerk.step_pairs = [], 0, []
    stop = time.monotonic() + seconds

    def loop(clerk: Clerk) -> None:
        while time.monotonic() < stop:
            work(clerk)

    threads = [threading.Thread(target=loop, args=(clerk,)) for clerk in clerks]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    times = [t for clerk in clerks for t in clerk.times]
    return len(times) / elapsed, times, sum(clerk.errors for clerk in clerks)


def percentiles(times: list[float]) -> str:
    if len(times) < 2:
        return "-"
    cuts = statistics.quantiles(times, n=100)
    return f"{statistics.median(times):5.0f} / {cuts[94]:5.0f} / {cuts[98]:5.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--sessions", default="1,4,16,32")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds first")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    office, clerk = seed(args.cases)
    clerk.user_permissions.add(Permission.objects.get(codename="view_office"))  # the anchor
    reported = list(
        ReissueCase.objects.filter(office=office, state="reported").values_list("pk", flat=True)
    )
    lock = threading.Lock()

    def next_case() -> int | None:
        with lock:
            return reported.pop() if reported else None

    port = free_port()
    server = start_gunicorn(port, args.workers)
    entries_before = AuditEntry.objects.count()
    steps = 0
    pairs = []  # (sessions, a step's POST and redirect together, ms)
    try:
        levels = [int(n) for n in args.sessions.split(",")]
        print(f"{ReissueCase.objects.count():,} cases, gunicorn {args.workers} sync workers, "
              f"{args.seconds:.0f} s slices")  # fmt: skip
        print(f"{'sessions':>8} | {'ours req/s':>10} {'p50 / p95 / p99 ms':>20} {'err':>4} | "
              f"{'anchor req/s':>12} {'p50 / p95 / p99 ms':>20} {'err':>4}")  # fmt: skip
        # Untimed, one clerk per worker: each worker loads its templates, translations and
        # connection before the first slice (cold, the first second of 1 session's slice
        # took seconds on a loaded machine and made its p95).
        warm = [
            Clerk(f"http://127.0.0.1:{port}", logged_in_client(clerk).session.session_key)
            for _ in range(args.workers)
        ]
        run_slice(warm, args.warmup, lambda c: c.counter_round(next_case()))
        run_slice(warm, args.warmup, Clerk.anchor_round)
        steps += sum(c.steps for c in warm)
        for level in levels:
            clerks = [
                Clerk(f"http://127.0.0.1:{port}", logged_in_client(clerk).session.session_key)
                for _ in range(level)
            ]
            ours = run_slice(clerks, args.seconds, lambda c: c.counter_round(next_case()))
            pairs.append((level, [t for c in clerks for t in c.step_pairs]))
            anchor = run_slice(clerks, args.seconds, Clerk.anchor_round)
            steps += sum(c.steps for c in clerks)
            failed = next((c.last_error for c in clerks if c.last_error), None)
            print(f"{level:>8} | {ours[0]:10.1f} {percentiles(ours[1]):>20} {ours[2]:>4} | "
                  f"{anchor[0]:12.1f} {percentiles(anchor[1]):>20} {anchor[2]:>4}")  # fmt: skip
            if failed is not None:
                print(f"         (an error: {failed})")
        print("a step's POST and its redirect together (the two requests above):")
        for level, times in pairs:
            print(f"{level:>8} | {len(times):>6} steps {percentiles(times):>20}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    added = AuditEntry.objects.count() - entries_before
    print(f"steps the clients saw succeed: {steps}; audit entries added: {added}")
    call_command("verify_audit")


if __name__ == "__main__":
    main()
