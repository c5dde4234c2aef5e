"""How long the background machinery keeps what it has done: BACKGROUND_WORK_KEPT_DAYS."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import JobRun, ScheduledJob


def purge_finished_work(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete the job runs and the queue's task results finished before the days kept;
    return how many of each. A job's latest run stays (its list shows it). Idempotent."""
    before = (now or timezone.now()) - datetime.timedelta(days=settings.BACKGROUND_WORK_KEPT_DAYS)
    with transaction.atomic():
        last_runs = ScheduledJob.objects.exclude(last_run=None).values("last_run")
        runs, _by_model = (
            JobRun.objects.filter(succeeded__isnull=False, finished_at__lt=before)
            .exclude(pk__in=last_runs)
            .delete()
        )
        tasks, _by_model = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    return runs, tasks
