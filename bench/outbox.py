"""How long from a step to its SMS in the outbox, and to "sent" through a real worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/outbox.py --cases 200

Prepares N cases with their new card produced, then records each card arrived through the
service (`case_record_card_arrived`): a third with the notices unhooked (the anchor, the bare
step), a third with them, a third with them while a worker sends. The notice is written in
the step's transaction, so "in the outbox" is the step's commit: what the outbox adds is the
step's extra time. A real
`manage.py db_worker` process (SMS_BACKEND locmem: no traffic) sends them as the steps are
taken, one every 20 ms; "sent" is the row's sent_at less its written-at. Prints figures only.
"""

import argparse
import datetime
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.utils import setup_test_environment
from django.utils import timezone

from notifications.models import MessageState, OutboxMessage
from reissue import services
from reissue.models import LostItems, ReissueCase
from tests.factories import OfficeFactory, UserFactory, valid_id_number
from workflow import registry

TODAY = timezone.localdate


def prepare(count: int, office, clerk) -> list[ReissueCase]:
    start = random.randrange(10**6)
    cases = []
    for n in range(count):
        person = {
            "name": f"王{n}",
            "id_number": valid_id_number(start + n, region="110102"),
            "phone": "13800138000",
            "hukou_address": "北京市西城区",
            "hukou_police_station": "西城派出所",
        }
        case = services.case_register(
            case=ReissueCase(
                office=office,
                lost_items=LostItems.SS_CARD,
                loss_kind="lost",
                loss_date=TODAY() - datetime.timedelta(days=3),
                presented_id_card=True,
            ),
            applicant_fields=person,
            acting_user=clerk,
        )
        case = services.case_order_card(case=case, acting_user=clerk, ordered_on=TODAY())
        cases.append(
            services.case_record_card_produced(
                case=case, acting_user=clerk, card_number=f"B{start + n:09d}", produced_on=TODAY()
            )
        )
    return cases


def step(case, clerk) -> float:
    began = time.perf_counter()
    services.case_record_card_arrived(case=case, acting_user=clerk, arrived_on=TODAY())
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    code = f"B{random.randrange(10**5):05d}"
    office = OfficeFactory(code=code, name="西城社保所", phone="010-66001234")
    clerk = UserFactory(username=f"bench-{code}", role="Clerk", offices=[office])
    third = args.cases // 3
    bare_cases, quiet_cases, notified_cases = (prepare(third, office, clerk) for _ in range(3))

    hooks = dict(registry._step_hooks)
    registry._step_hooks.clear()  # the anchor: the same step with no notice hooked
    bare = [step(case, clerk) for case in bare_cases]
    registry._step_hooks.update(hooks)
    quiet = [step(case, clerk) for case in quiet_cases]  # with its SMS, no worker running

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.05", "--no-startup-delay"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "SMS_BACKEND": "notifications.backends.development.LocmemBackend"},
    )
    try:
        time.sleep(3)  # the worker's start-up is not counted
        notified = []
        for case in notified_cases:
            notified.append(step(case, clerk))
            time.sleep(0.02)
        messages = OutboxMessage.objects.filter(
            subject_label__in=[c.reference for c in notified_cases]
        )
        deadline = time.monotonic() + 120
        while messages.filter(state=MessageState.QUEUED).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait()
    sent = [
        (m.sent_at - m.created_at).total_seconds() * 1000
        for m in messages.filter(state=MessageState.SENT)
    ]
    p95 = statistics.quantiles(sent, n=20)[-1] if len(sent) >= 20 else max(sent)
    print(f"{third} steps each way, database {connection.vendor}, {len(sent)} SMS sent")
    print(f"  the bare step (anchor), median:        {statistics.median(bare):7.1f} ms")
    print(f"  the step writing its SMS, median:      {statistics.median(quiet):7.1f} ms")
    print(f"  ... with a worker sending, median:     {statistics.median(notified):7.1f} ms")
    print("  step to SMS in the outbox:                  0 ms (the step's own transaction)")
    print(f"  step to sent by a worker, median:      {statistics.median(sent):7.1f} ms")
    print(f"  step to sent by a worker, 95th pct:    {p95:7.1f} ms")


if __name__ == "__main__":
    main()
