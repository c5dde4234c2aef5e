"""The task that runs one slot of a scheduled job, and records its result for the admin."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django_tasks import task

from . import retention
from .models import JobRun, ScheduledJob
from .schedule import configured_jobs

RESULT_MAX_CHARS = 2000


def _finish(run: JobRun, *, succeeded: bool, result: str) -> None:
    with transaction.atomic():
        run.finished_at = timezone.now()
        run.succeeded = succeeded
        run.result = result[:RESULT_MAX_CHARS]
        run.save(update_fields=["finished_at", "succeeded", "result"])
        job, _created = ScheduledJob.objects.select_for_update().get_or_create(name=run.job)
        if job.last_run is None or job.last_run.slot <= run.slot:
            job.last_run = run
            job.save(update_fields=["last_run"])


@task()
def run_scheduled_job(run_id: int) -> str:
    """Run the job of `run_id`'s slot, once: a retry after a finished run does nothing."""
    run = JobRun.objects.get(pk=run_id)
    if run.succeeded:
        return run.result  # the worker died after the work, before the queue heard of it
    job = configured_jobs()[run.job]
    run.started_at = timezone.now()
    run.attempts += 1
    run.save(update_fields=["started_at", "attempts"])
    try:
        # The result is read by the administrator: in the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            result = import_string(job.task_path).call()
    except Exception as error:
        _finish(run, succeeded=False, result=f"{type(error).__name__}: {error}")
        raise
    _finish(run, succeeded=True, result=str(result))
    return str(result)


@task()
def ping(number: int = 0) -> int:
    """Do nothing, at once: to see the workers answer, and to measure the queue itself."""
    return number


@task()
def purge_finished_work() -> str:
    """Daily: forget the runs and task results older than BACKGROUND_WORK_KEPT_DAYS."""
    runs, tasks = retention.purge_finished_work()
    return gettext("%(runs)s job runs and %(tasks)s finished tasks deleted") % {
        "runs": runs,
        "tasks": tasks,
    }
