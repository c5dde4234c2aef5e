"""How many tasks a second one worker, then two workers, drain from the queue.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reissue_bench \
        .venv/bin/python bench/tasks.py --tasks 2000

Enqueues N trivial tasks (`jobs.tasks.ping`), starts real `manage.py db_worker --batch`
processes on the database named in DATABASE_URL, and counts from the first task's start to
the last one's end as the queue recorded them (the workers' start-up is not counted). Prints,
beside them, the same function called N times in this process (the anchor: what the queue
adds is the claim, the two writes and the round trips of each task) and the enqueue rate.
Prints figures only; nothing here is a test.
"""

import argparse
import os
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
from django.db import transaction
from django.db.models import Max, Min
from django_tasks_db.models import DBTaskResult

from jobs.tasks import ping


def enqueue(count: int) -> float:
    DBTaskResult.objects.all().delete()
    began = time.perf_counter()
    with transaction.atomic():
        for number in range(count):
            ping.enqueue(number)
    return count / (time.perf_counter() - began)


def drain(count: int, workers: int) -> float:
    """Return tasks per second that `workers` processes drained."""
    enqueue(count)
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "-v0"],
            cwd=ROOT,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    done = DBTaskResult.objects.successful()
    if done.count() != count:
        raise SystemExit(f"{done.count()} of {count} tasks done")
    span = done.aggregate(first=Min("started_at"), last=Max("finished_at"))
    return count / (span["last"] - span["first"]).total_seconds()


def in_process(count: int) -> float:
    began = time.perf_counter()
    for number in range(count):
        ping.call(number)
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    count = parser.parse_args().tasks
    call_command("migrate", verbosity=0)
    print(f"{count} trivial tasks, database {django.db.connection.vendor}")
    print(f"  enqueued (one transaction): {enqueue(count):10.0f} tasks/s")
    print(f"  one worker drains:          {drain(count, 1):10.0f} tasks/s")
    print(f"  two workers drain:          {drain(count, 2):10.0f} tasks/s")
    print(f"  anchor, called in process:  {in_process(count):10.0f} calls/s")
    DBTaskResult.objects.all().delete()


if __name__ == "__main__":
    main()
