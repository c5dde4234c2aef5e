"""Time the case clocks and the case policy's dry run at a given number of open cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/clocks.py --cases 10000

Fills the database named in DATABASE_URL with N open cases of one office by bulk insert (none
due), then prints, each beside its anchor:
- a run of the clocks with nothing due (what cron starts every five minutes), beside one
  indexed count of the office's cases;
- the dry run of a new policy on the office's open cases, beside reading the same rows;
- the work queue's clock counts of a clerk, beside the same number of plain capped counts.
Prints figures only; nothing here is a test.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from common.id_numbers import compose_id_number, id_number_digest  # noqa: E402
from offices.models import Office  # noqa: E402
from reissue import policy_services, work_queue  # noqa: E402
from reissue.case_policy import CasePolicy, default_rules  # noqa: E402
from reissue.clock_queue import clock_queue  # noqa: E402
from reissue.clocks import run_clocks  # noqa: E402
from reissue.models import Applicant, CaseState, ReissueCase  # noqa: E402

BATCH = 5000
# What the dry run reads of each open case.
DRY_RUN_COLUMNS = [
    "state",
    "reported_at",
    "formal_reported_at",
    "service_due_on",
    "lapses_at",
    "temp_card_number",
    "temp_card_returned",
    "temp_card_issued_on",
    "temp_card_valid_until",
]
OPEN = [
    CaseState.REPORTED_TEMPORARILY,
    CaseState.REPORTED,
    CaseState.TEMP_CARD_ISSUED,
    CaseState.ID_REISSUED,
    CaseState.CARD_ORDERED,
]


def seed(total: int):
    office, _ = Office.objects.get_or_create(code="BC", defaults={"name": "Bench clocks"})
    clerk, _ = get_user_model().objects.get_or_create(username="bench.clocks", is_staff=True)
    clerk.groups.add(Group.objects.get(name="Supervisor"))
    office.staff.add(clerk)
    have = ReissueCase.objects.filter(office=office).count()
    now = timezone.now()
    today = timezone.localdate()
    values = default_rules().snapshot()
    for start in range(have, total, BATCH):
        count = min(BATCH, total - start)
        numbers = [
            compose_id_number(
                "110101", datetime.date(1950, 1, 1) + datetime.timedelta(n // 1000), n % 1000
            )
            for n in range(start, start + count)
        ]
        applicants = Applicant.objects.bulk_create(
            Applicant(
                name=f"钟{n}",
                id_number=number,
                id_number_hash=id_number_digest(number),
                birth_date=datetime.date(1950, 1, 1),
                sex="M",
                phone="13800138000",
                hukou_address="北京市东城区",
                hukou_police_station="东城派出所",
            )
            for n, number in zip(range(start, start + count), numbers, strict=True)
        )
        cases = []
        for n, applicant in zip(range(start, start + count), applicants, strict=True):
            state = OPEN[n % len(OPEN)]
            age = n % 12  # days since the report: nothing is due yet under the defaults
            temporary = state == CaseState.REPORTED_TEMPORARILY
            holds = state not in (CaseState.REPORTED_TEMPORARILY, CaseState.REPORTED)
            cases.append(
                ReissueCase(
                    reference=f"BC-2026-{n:07d}",
                    applicant=applicant,
                    applicant_name=applicant.name,  # bulk inserts skip ReissueCase.save()
                    office=office,
                    lost_items="ss_card",
                    loss_kind="lost",
                    loss_date=today - datetime.timedelta(days=age + 1),
                    reported_at=now - datetime.timedelta(days=age),
                    handled_by=clerk,
                    state=state,
                    policy_values=values,
                    loss_report_kind="temporary" if temporary else "formal",
                    lapses_at=now + datetime.timedelta(days=15 - age) if temporary else None,
                    formal_reported_at=None if temporary else now - datetime.timedelta(days=age),
                    old_card_cancel_on=None if temporary else today + datetime.timedelta(15 - age),
                    service_due_on=None if temporary else today + datetime.timedelta(20 - age),
                    temp_card_number=f"T{n}" if holds else "",
                    temp_card_issued_on=today - datetime.timedelta(days=age) if holds else None,
                    temp_card_valid_until=today + datetime.timedelta(60 - age) if holds else None,
                    card_ordered_on=today if state == CaseState.CARD_ORDERED else None,
                )
            )
        ReissueCase.objects.bulk_create(cases)
        print(f"  seeded {start + count:,} cases", file=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return office, clerk


def median_ms(action, runs: int = 5) -> float:
    action()  # warm
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    office, clerk = seed(args.cases)
    clerk = get_user_model().objects.get(pk=clerk.pk)
    open_cases = ReissueCase.objects.filter(office=office, state__in=OPEN)
    policy = CasePolicy(office=office, effective_from=timezone.localdate(), temp_card_valid_days=7)

    rows = [
        (
            "run_clocks, nothing due",
            median_ms(run_clocks),
            "count of the office's cases",
            median_ms(lambda: ReissueCase.objects.filter(office=office).count()),
        ),
        (
            f"policy dry run on {open_cases.count():,} open cases",
            median_ms(lambda: policy_services.policy_dry_run(policy=policy, acting_user=clerk)),
            "reading the same columns",
            median_ms(lambda: list(open_cases.values(*DRY_RUN_COLUMNS))),
        ),
        (
            "the work queue's 5 clock counts",
            median_ms(lambda: clock_queue(clerk)),
            "5 capped counts of the office",
            median_ms(
                lambda: [
                    work_queue.capped_count(ReissueCase.objects.filter(office=office))
                    for _ in range(5)
                ]
            ),
        ),
    ]
    print(f"{connection.vendor}, {args.cases:,} cases (median of 5, ms)")
    for ours, our_ms, anchor, anchor_ms in rows:
        print(f"  {ours:<40} {our_ms:8.1f}   anchor: {anchor:<32} {anchor_ms:8.1f}")
    assert run_clocks().lapsed == 0  # nothing was due: the figures are of the quiet case


if __name__ == "__main__":
    main()
