"""Tasks for the tests of the real worker (imported by the worker process by their path)."""

import time
from pathlib import Path

from django.db import connection
from django_tasks import TaskContext, task

EFFECTS = "test_task_effect"


def create_effects_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {EFFECTS} (task_id uuid PRIMARY KEY, worker text)"
        )


def effects() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT task_id::text, worker FROM {EFFECTS}")
        return cursor.fetchall()


@task(takes_context=True)
def record_effect(context: TaskContext, hold_until: str = "") -> str:
    """Write one row keyed by the task's id (insert-or-skip: idempotent), then, when told,
    wait for the file `hold_until` before returning: the test kills the worker meanwhile."""
    task_id = context.task_result.id
    worker = context.task_result.worker_ids[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECTS} (task_id, worker) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [task_id, worker],
        )
    if hold_until:
        while not Path(hold_until).exists():
            time.sleep(0.05)
    return worker


@task()
def trivial(number: int) -> int:
    return number + 1
