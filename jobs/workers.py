"""Workers that die are noticed: heartbeats, and the sweep that takes their tasks back.

django-tasks-db claims a task with `SELECT ... FOR UPDATE SKIP LOCKED` and marks it RUNNING
under the worker's id before running it, so two workers never run one task at once. But a
worker killed mid-task (power cut, OOM, SIGKILL) leaves its task RUNNING for ever: the library
has no heartbeat and no retry. So each worker (our `db_worker`) writes a heartbeat every few
seconds, and every worker sweeps: a task RUNNING under a worker silent for
JOBS_STALE_AFTER_SECONDS goes back to READY, to be claimed again (at most JOBS_MAX_ATTEMPTS
claims in all, then FAILED). The tasks are idempotent, so a second run finishes the work once.
"""

import datetime
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# A heartbeat this old belongs to a worker long gone: forgotten, so the list stays short.
FORGET_AFTER = datetime.timedelta(days=1)


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)


def new_worker_id() -> str:
    """Return a worker id that says where it runs: host, process, a random part (<= 64)."""
    from django.utils.crypto import get_random_string

    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def beat(worker_id: str, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=now,
            last_seen_at=now,
        )


def requeue_abandoned_tasks(now: datetime.datetime | None = None) -> int:
    """Put back into the queue each task whose worker stopped beating; return how many."""
    now = now or timezone.now()
    silent_since = now - stale_after()
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen_at__gte=silent_since).values_list(
            "worker_id", flat=True
        )
    )
    candidates = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=silent_since)
        .values_list("pk", "worker_ids")
    )
    taken_back = 0
    for pk, worker_ids in list(candidates):
        if worker_ids and worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            task = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=TaskResultStatus.RUNNING)
                .first()
            )
            if task is None or (task.worker_ids and task.worker_ids[-1] in alive):
                continue  # another worker's sweep took it, or it finished meanwhile
            if len(task.worker_ids) >= settings.JOBS_MAX_ATTEMPTS:
                task.status = TaskResultStatus.FAILED
                task.finished_at = now
                task.exception_class_path = "jobs.workers.WorkerDied"
                task.traceback = (
                    f"Its worker stopped {len(task.worker_ids)} times: {task.worker_ids}"
                )
                task.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                logger.error("Task %s failed: its worker died %s times", pk, len(worker_ids))
            else:
                task.status = TaskResultStatus.READY
                task.save(update_fields=["status"])
                logger.warning("Task %s taken back: worker %s stopped", pk, worker_ids[-1:])
            taken_back += 1
    WorkerHeartbeat.objects.filter(last_seen_at__lt=now - FORGET_AFTER).delete()
    return taken_back


class Heartbeat:
    """A thread beating for `worker_id` (and sweeping) while the worker runs its tasks."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        beat(self.worker_id)  # before the first claim: a live worker is never swept
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=settings.JOBS_HEARTBEAT_SECONDS + 5)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()

    def _run(self) -> None:
        try:
            while not self._stopped.wait(settings.JOBS_HEARTBEAT_SECONDS):
                try:
                    beat(self.worker_id)
                    requeue_abandoned_tasks()
                except Exception:
                    # The database away for a moment: beat again at the next interval.
                    logger.exception("Heartbeat of %s failed", self.worker_id)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection
