"""A real worker process (`manage.py db_worker`) on the test database, on PostgreSQL.

The worker sees only committed rows: these tests commit (transaction=True) and hand the test
database's name to the worker through DATABASE_URL.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import WorkerHeartbeat
from tests.jobs.tasks import create_effects_table, effects, record_effect, trivial

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# How long a step may take before the test gives up (a stuck worker must not hang CI).
PATIENCE_SECONDS = 60


def worker_environment() -> dict[str, str]:
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Quick to notice a dead worker, so the test does not wait a minute.
        "JOBS_HEARTBEAT_SECONDS": "0.2",
        "JOBS_STALE_AFTER_SECONDS": "1.5",
    }


def start_worker(worker_id: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name=*",
            "--interval=0.1",
            "--no-startup-delay",
            f"--worker-id={worker_id}",
        ],
        cwd=settings.BASE_DIR,
        env=worker_environment(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, what: str, log: Path):
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}; worker log:\n{log.read_text()}")


def stop(worker: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        worker.send_signal(signum)
    worker.wait(timeout=PATIENCE_SECONDS)


def status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


def test_a_worker_process_runs_a_task(tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker("one", log)
    try:
        result = trivial.enqueue(41)
        wait_for(lambda: status(result) == TaskResultStatus.SUCCESSFUL, "the task", log)
        assert DBTaskResult.objects.get(pk=result.id).return_value == 42
        assert WorkerHeartbeat.objects.filter(worker_id="one").exists()  # it beats
    finally:
        stop(worker)
    assert worker.returncode == 0
    assert not WorkerHeartbeat.objects.filter(worker_id="one").exists()  # a clean goodbye


def test_a_task_whose_worker_is_killed_completes_once_on_the_next(tmp_path):
    create_effects_table()
    log = tmp_path / "worker.log"
    release = tmp_path / "release"
    try:
        first = start_worker("first", log)
        try:
            result = record_effect.enqueue(hold_until=str(release))
            # The task did its work and is still running when its worker dies.
            wait_for(effects, "the task's effect", log)
            assert status(result) == TaskResultStatus.RUNNING
        finally:
            stop(first, signal.SIGKILL)
        assert status(result) == TaskResultStatus.RUNNING  # nobody told the queue

        release.touch()
        second = start_worker("second", log)
        try:
            wait_for(lambda: status(result) == TaskResultStatus.SUCCESSFUL, "the retry", log)
        finally:
            stop(second)

        done = DBTaskResult.objects.get(pk=result.id)
        assert done.worker_ids == ["first", "second"]  # taken back from the dead, run again
        assert done.return_value == "second"
        assert effects() == [(str(result.id), "first")]  # the effect, once
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS test_task_effect")


def test_two_workers_never_run_one_task_twice(tmp_path):
    create_effects_table()
    log = tmp_path / "worker.log"
    try:
        results = [record_effect.enqueue() for _ in range(40)]
        workers = [start_worker(name, log) for name in ("left", "right")]
        try:
            wait_for(
                lambda: DBTaskResult.objects.successful().count() == len(results),
                "the tasks",
                log,
            )
        finally:
            for worker in workers:
                stop(worker)
        # Each task claimed by exactly one worker, once.
        claims = DBTaskResult.objects.values_list("worker_ids", flat=True)
        assert all(len(worker_ids) == 1 for worker_ids in claims)
        assert len(effects()) == len(results)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS test_task_effect")
