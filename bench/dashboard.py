"""Time the supervisor dashboard at a given number of cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench_dash \
        .venv/bin/python bench/dashboard.py --cases 1000000

Creates (or reuses and tops up) the database named in DATABASE_URL and fills it with N cases
over four offices by bulk insert: reports spread over two years, states mixed as they age,
new SS cards issued 2-40 days after the report, claims with receipts on about a third of the
served cases. Then runs VACUUM ANALYZE and prints the median of --runs requests of the
dashboard page, its downloads, and their query counts, as a supervisor of one office and as an
auditor who sees all four. Prints figures only; nothing here is a test.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.sessions import logged_in_client  # noqa: E402
from claims.models import ClaimItem, ClaimState, ExpenseClaim  # noqa: E402
from common.id_numbers import compose_id_number, id_number_digest  # noqa: E402
from offices.models import Office
from reissue.models import Applicant, CaseState, ReissueCase

BATCH = 5000
SPAN_DAYS = 730
OFFICE_CODES = ["B1", "B2", "B3", "B4"]


def create_database_if_missing() -> None:
    """Create the database named in DATABASE_URL on PostgreSQL (connecting to `postgres`)."""
    if connection.vendor != "postgresql":
        return
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def users_and_offices():
    offices = [
        Office.objects.get_or_create(code=code, defaults={"name": f"Bench office {code}"})[0]
        for code in OFFICE_CODES
    ]
    User = get_user_model()
    people = {}
    for username, role, their_offices in [
        ("bench.clerk", "Clerk", offices),
        ("bench.supervisor", "Supervisor", offices[:1]),
        ("bench.auditor", "Auditor", offices[:1]),
    ]:
        user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        user.groups.add(Group.objects.get(name=role))
        for office in their_offices:
            office.staff.add(user)
        people[role] = user
    return offices, people


def case_state(rng: random.Random, age_days: int) -> str:
    """Young cases are mostly under way; old ones mostly served, a few left overdue."""
    roll = rng.random()
    if age_days > 45:
        ladder = [(0.45, "closed"), (0.80, "reimbursed"), (0.90, "ss_card_reissued")]
        ladder += [(0.99, "cancelled"), (0.994, "reported"), (0.997, "temp_card_issued")]
        ladder += [(1.0, "id_reissued")]
    else:
        ladder = [(0.30, "reported"), (0.45, "temp_card_issued"), (0.55, "id_reissued")]
        ladder += [(0.80, "ss_card_reissued"), (0.90, "closed"), (0.95, "reimbursed")]
        ladder += [(1.0, "cancelled")]
    return next(state for limit, state in ladder if roll < limit)


def claim_state_for(rng: random.Random, case_state_value: str) -> str | None:
    if case_state_value == CaseState.REIMBURSED:
        return ClaimState.PAID
    if case_state_value == CaseState.SS_CARD_REISSUED and rng.random() < 0.5:
        return rng.choice([ClaimState.DRAFT, ClaimState.SUBMITTED, ClaimState.APPROVED])
    if case_state_value == CaseState.CLOSED and rng.random() < 0.2:
        return ClaimState.REJECTED
    return None


def build_case(n: int, total: int, applicant, offices, people, now) -> tuple:
    rng = random.Random(n)
    reported_at = now - datetime.timedelta(
        days=SPAN_DAYS * (total - n) / total, hours=rng.randint(0, 8)
    )
    today = timezone.localdate(now)
    reported_on = timezone.localdate(reported_at)
    state = case_state(rng, (today - reported_on).days)
    served = state in (CaseState.SS_CARD_REISSUED, CaseState.REIMBURSED, CaseState.CLOSED)
    card_on = min(reported_on + datetime.timedelta(days=rng.randint(2, 40)), today)
    finished = state in (CaseState.REIMBURSED, CaseState.CLOSED, CaseState.CANCELLED)
    case = ReissueCase(
        reference=f"{OFFICE_CODES[n % 4]}-{reported_on.year}-{n:07d}",
        applicant=applicant,
        office=offices[n % 4],
        lost_items="both",
        loss_kind="lost",
        loss_date=reported_on - datetime.timedelta(days=1),
        reported_at=reported_at,
        handled_by=people["Clerk"],
        state=state,
        cancel_reason="bench" if state == CaseState.CANCELLED else "",
        ss_card_number=f"SSB{n:09d}" if served else "",
        ss_card_issued_on=card_on if served else None,
        finished_at=now if finished else None,
    )
    return case, claim_state_for(rng, state), rng


def build_claim(case, claim_state, rng, people, now):
    card_day = datetime.datetime.combine(case.ss_card_issued_on, datetime.time(10))
    card_at = timezone.make_aware(card_day)
    amounts = [Decimal(rng.randint(5000, 300000)) / 100 for _ in range(rng.randint(1, 3))]
    decided = claim_state in (ClaimState.APPROVED, ClaimState.PAID, ClaimState.REJECTED)
    approved = claim_state in (ClaimState.APPROVED, ClaimState.PAID)
    total = sum(amounts) * Decimal("0.6") if approved else None
    claim = ExpenseClaim(
        case=case,
        state=claim_state,
        entered_by=people["Clerk"],
        submitted_by=people["Clerk"] if claim_state != ClaimState.DRAFT else None,
        submitted_at=min(card_at + datetime.timedelta(days=1), now)
        if claim_state != ClaimState.DRAFT
        else None,
        examined_by=people["Supervisor"] if decided else None,
        examined_at=min(card_at + datetime.timedelta(days=4), now) if decided else None,
        decision_reason="bench" if claim_state == ClaimState.REJECTED else "",
        eligible_total=sum(amounts) if approved else None,
        reimbursable_total=total.quantize(Decimal("0.01")) if total is not None else None,
        payment_reference=f"PAY{case.reference}" if claim_state == ClaimState.PAID else "",
        paid_by=people["Supervisor"] if claim_state == ClaimState.PAID else None,
        paid_at=min(card_at + datetime.timedelta(days=8), now)
        if claim_state == ClaimState.PAID
        else None,
    )
    return claim, amounts


def seed_batch(start: int, count: int, total: int, offices, people, now) -> None:
    numbers = [
        compose_id_number(
            "120101", datetime.date(1940, 1, 1) + datetime.timedelta(n // 1000), n % 1000
        )
        for n in range(start, start + count)
    ]
    applicants = Applicant.objects.bulk_create(
        Applicant(
            name=f"申请人{n}",
            id_number=number,
            id_number_hash=id_number_digest(number),
            birth_date=datetime.date(1950, 1, 1),
            sex="M",
            phone="13800138000",
            hukou_address="天津市和平区",
            hukou_police_station="和平派出所",
        )
        for n, number in zip(range(start, start + count), numbers, strict=True)
    )
    built = [
        build_case(n, total, applicant, offices, people, now)
        for n, applicant in zip(range(start, start + count), applicants, strict=True)
    ]
    ReissueCase.objects.bulk_create([case for case, _state, _rng in built])
    claims, item_amounts = [], []
    for case, claim_state, rng in built:
        if claim_state:
            claim, amounts = build_claim(case, claim_state, rng, people, now)
            claims.append(claim)
            item_amounts.append(amounts)
    ExpenseClaim.objects.bulk_create(claims)
    ClaimItem.objects.bulk_create(
        ClaimItem(
            claim=claim,
            provider="天津医院",
            visit_date=claim.case.loss_date,
            receipt_number=f"{claim.case.reference}-{index}",
            category="outpatient",
            amount=amount,
        )
        for claim, amounts in zip(claims, item_amounts, strict=True)
        for index, amount in enumerate(amounts)
    )


def seed(total: int):
    offices, people = users_and_offices()
    have = ReissueCase.objects.filter(office__in=offices).count()
    now = timezone.now()
    began = time.perf_counter()
    for start in range(have, total, BATCH):
        count = min(BATCH, total - start)
        with transaction.atomic():
            seed_batch(start, count, total, offices, people, now)
        rate = (start + count - have) / (time.perf_counter() - began)
        print(f"  seeded {start + count:,} cases ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Planner statistics and the visibility map, as autovacuum gives a table of this
            # age: the office joins then read the case index alone (index-only scans).
            cursor.execute("VACUUM ANALYZE")
    return people


def timed(client: Client, url: str, runs: int) -> tuple[float, int]:
    client.get(url)  # warm caches
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    setup_test_environment()
    create_database_if_missing()
    call_command("migrate", verbosity=0)
    people = seed(args.cases)
    if args.seed_only:
        return
    page = reverse("admin:reports_supervisordashboard_changelist")
    year_ago = (timezone.localdate() - datetime.timedelta(days=365)).isoformat()
    pages = {
        "dashboard, last 12 weeks": page,
        "dashboard, last year": f"{page}?date_from={year_ago}",
        "CSV download, 12 weeks": reverse("admin:reports_supervisordashboard_csv"),
        "XLSX download, 12 weeks": reverse("admin:reports_supervisordashboard_xlsx"),
    }
    print(f"{connection.vendor}, {ReissueCase.objects.count():,} cases in 4 offices")
    for role, who in [("Supervisor", "supervisor of 1 office"), ("Auditor", "auditor, all")]:
        client = logged_in_client(people[role])
        for name, url in pages.items():
            median, queries = timed(client, url, args.runs)
            print(f"  {who:<22} {name:<26} median {median:7.1f} ms   {queries} queries")


if __name__ == "__main__":
    main()
