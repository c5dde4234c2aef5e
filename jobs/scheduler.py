"""Enqueue each scheduled job once per slot, however many schedulers run.

django-tasks has no periodic scheduler. Ours inserts a `JobRun` row per (job, slot): the
unique constraint lets one insert win, and the task is enqueued in the same transaction (the
queue is in this database), so a slot gets its task exactly once, or not at all.
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import JobRun, ScheduledJob
from .schedule import configured_jobs

logger = logging.getLogger(__name__)


def sync_scheduled_jobs() -> None:
    """Give each configured job its row for the admin's list (once; later runs change none)."""
    ScheduledJob.objects.bulk_create(
        [ScheduledJob(name=name) for name in configured_jobs()], ignore_conflicts=True
    )


def enqueue_due_jobs(now: datetime.datetime | None = None) -> list[JobRun]:
    """Enqueue the current slot of each job not enqueued yet; return the runs enqueued."""
    from .tasks import run_scheduled_job

    now = now or timezone.now()
    enqueued = []
    for job in configured_jobs().values():
        slot = job.slot_at(now)
        queue_name = import_string(job.task_path).queue_name
        try:
            with transaction.atomic():
                run = JobRun.objects.create(job=job.name, slot=slot)
                result = run_scheduled_job.using(queue_name=queue_name).enqueue(run.pk)
                JobRun.objects.filter(pk=run.pk).update(task_id=result.id)
        except IntegrityError:
            continue  # this slot is already enqueued (by us earlier, or another scheduler)
        logger.info("Enqueued %s for %s", job.name, slot)
        enqueued.append(run)
    return enqueued
