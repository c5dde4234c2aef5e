"""What the background machinery keeps: the workers' heartbeats and the scheduled jobs' runs.

The tasks themselves are django-tasks-db's rows (`django_tasks_database.DBTaskResult`).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult


class WorkerHeartbeat(models.Model):
    """A running `db_worker`: it writes `last_seen_at` every few seconds while it lives."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process"))
    started_at = models.DateTimeField(_("started at"))
    last_seen_at = models.DateTimeField(_("last seen at"), db_index=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.worker_id


class JobRun(models.Model):
    """One slot of one scheduled job: inserted once, by whichever scheduler comes first."""

    job = models.CharField(_("job"), max_length=64)
    slot = models.DateTimeField(_("slot"))
    task_id = models.UUIDField(_("task"), null=True, editable=False)
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True)
    finished_at = models.DateTimeField(_("done at"), null=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # None while queued or running.
    succeeded = models.BooleanField(_("succeeded"), null=True)
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("scheduled job run")
        verbose_name_plural = _("scheduled job runs")
        default_permissions = ("view",)
        constraints = [
            # The exactly-once guard: a second scheduler's insert for the same slot fails.
            models.UniqueConstraint(fields=["job", "slot"], name="jobs_one_run_per_slot"),
        ]
        ordering = ["-slot", "job"]

    def __str__(self) -> str:
        return f"{self.job} {self.slot:%Y-%m-%d %H:%M}"


class ScheduledJob(models.Model):
    """A job of SCHEDULED_JOBS as the administrator sees it: its latest finished run."""

    name = models.CharField(_("job"), max_length=64, unique=True)
    last_run = models.ForeignKey(
        JobRun, verbose_name=_("last run"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        default_permissions = ("view",)
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QueuedTask(DBTaskResult):
    """The queue's tasks (django-tasks-db's rows), listed among the background work."""

    class Meta:
        proxy = True
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        default_permissions = ("view",)
