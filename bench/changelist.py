"""Time the case changelist and change page at a given number of cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/changelist.py --cases 10000

Creates (or reuses) the database named in DATABASE_URL, fills it with N cases by bulk insert,
then prints the median of 20 requests, the query count of each page and the time its queries
took (of one request; what grows with the table). Prints figures only; nothing here is a test.

Its seed puts every case on one day in one office: filters then select everything. The lists'
figures come from bench/lists.py (realistic data, 10k beside 1M in one run); this seed stays
for bench/load.py and bench/counter.py.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from common.id_numbers import compose_id_number, id_number_digest  # noqa: E402
from offices.models import Office
from reissue.case_workflow import CASE_WORKFLOW  # noqa: E402
from reissue.models import Applicant, CaseFlag, CaseState, ReissueCase  # noqa: E402

STATES = list(CaseState.values)
# The states whose cases have their new card's number (case_ss_card_number_once_reissued).
CARD_NUMBER_KNOWN = set(CASE_WORKFLOW.flagged(CaseFlag.CARD_NUMBER_KNOWN))
BATCH = 5000


def seed(total: int) -> tuple[Office, object]:
    office, _ = Office.objects.get_or_create(code="BN", defaults={"name": "Bench office"})
    clerk, _ = get_user_model().objects.get_or_create(username="bench.clerk", is_staff=True)
    clerk.groups.add(Group.objects.get(name="Supervisor"))
    office.staff.add(clerk)
    have = ReissueCase.objects.filter(office=office).count()
    today = timezone.localdate()
    lapses_at = timezone.now() + datetime.timedelta(days=7)
    for start in range(have, total, BATCH):
        count = min(BATCH, total - start)
        numbers = [
            compose_id_number(
                "110101", datetime.date(1950, 1, 1) + datetime.timedelta(n // 1000), n % 1000
            )
            for n in range(start, start + count)
        ]
        applicants = [
            Applicant(
                name=f"申请人{n}",
                id_number=number,
                id_number_hash=id_number_digest(number),
                birth_date=datetime.date(1950, 1, 1),
                sex="M",
                phone="13800138000",
                hukou_address="北京市东城区",
                hukou_police_station="东城派出所",
            )
            for n, number in zip(range(start, start + count), numbers, strict=True)
        ]
        Applicant.objects.bulk_create(applicants)
        ReissueCase.objects.bulk_create(
            _bench_case(n, applicant, office, clerk, today, lapses_at)
            for n, applicant in zip(range(start, start + count), applicants, strict=True)
        )
        print(f"  seeded {start + count:,} cases", file=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would, before timing reads
    return office, clerk


def _bench_case(n, applicant, office, clerk, today, lapses_at) -> ReissueCase:
    state = STATES[n % len(STATES)]
    return ReissueCase(
        reference=f"BN-2026-{n:07d}",
        applicant=applicant,
        applicant_name=applicant.name,  # bulk inserts skip ReissueCase.save()
        office=office,
        lost_items="both",
        loss_kind="lost",
        loss_date=today,
        handled_by=clerk,
        state=state,
        cancel_reason="bench" if state == "cancelled" else "",
        ss_card_number=f"SSBN{n:08d}" if state in CARD_NUMBER_KNOWN else "",
        # A temporary report lapses (case_temporary_report_lapses); a week on is plenty.
        lapses_at=lapses_at if state == "reported_temporarily" else None,
    )


def timed(client: Client, url: str, runs: int = 20) -> tuple[float, int, float]:
    """Return the median time of `runs` requests, and the queries and their time in one."""
    client.get(url)  # warm caches
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    in_database = sum(float(query["time"]) for query in queries.captured_queries) * 1000
    return statistics.median(times), len(queries), in_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    office, clerk = seed(args.cases)
    client = logged_in_client(clerk)
    case = ReissueCase.objects.filter(office=office).order_by("-id").first()
    changelist, reported = "/admin/reissue/reissuecase/", "state__exact=reported"
    today = timezone.localdate()
    past_week = urlencode(
        {
            "reported_at__gte": f"{today - datetime.timedelta(days=7)} 00:00:00+08:00",
            "reported_at__lt": f"{today + datetime.timedelta(days=1)} 00:00:00+08:00",
        }
    )
    pages = {
        "changelist": changelist,
        "changelist, page 5": f"{changelist}?p=5",
        "changelist, filter state": f"{changelist}?state__exact=reported",
        "changelist, filter office+state": (
            f"{changelist}?office__id__exact={office.pk}&state__exact=temp_card_issued"
        ),
        "changelist, filter past 7 days": f"{changelist}?{past_week}",
        # Searches matching 100 or more cases at 1,000 cases too, so both sizes show a full page.
        "changelist, search name": f"{changelist}?q={quote('申请人')}",
        "changelist, search reference": f"{changelist}?q=BN-2026-00001",
        # The search box POSTs the number once; the list then opens by its token.
        "changelist, search ID number": client.post(
            f"{changelist}search/", {"q": case.applicant.id_number}
        )["Location"],
        "changelist, state + search": f"{changelist}?{reported}&q={quote('申请人')}",
        # Matches reported long ago, deep in the newest-first index (the seed numbers names and
        # references in report order). Not the same page at 1,000 cases: the worst cases.
        "changelist, search a name": f"{changelist}?q={quote('申请人12345')}",
        "changelist, state + old names": f"{changelist}?{reported}&q={quote('申请人12')}",
        "changelist, state + old refs": f"{changelist}?{reported}&q=BN-2026-012",
        "changelist, 111,111 old names": f"{changelist}?q={quote('申请人1')}",
        "change page": f"/admin/reissue/reissuecase/{case.pk}/change/",
    }
    print(f"{connection.vendor}, {ReissueCase.objects.count():,} cases")
    for name, url in pages.items():
        median, queries, in_database = timed(client, url)
        print(
            f"  {name:<32} median {median:7.1f} ms   {queries} queries "
            f"({in_database:5.1f} ms in the database)"
        )


if __name__ == "__main__":
    main()
