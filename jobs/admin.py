"""The administrator's read-only view of the background work: jobs, their runs, the workers."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from .models import JobRun, QueuedTask, ScheduledJob, WorkerHeartbeat
from .schedule import configured_jobs
from .workers import stale_after


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def job_label(name: str) -> str:
    job = configured_jobs().get(name)
    return gettext(job.label) if job else name


def outcome(run: JobRun | None) -> str:
    if run is None:
        return gettext("Not run yet")
    if run.succeeded is None:
        return gettext("Running") if run.started_at else gettext("Queued")
    return gettext("Succeeded") if run.succeeded else gettext("Failed")


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = ["label", "last_run_at", "last_outcome", "last_result", "next_due"]
    list_select_related = ["last_run"]
    fields = list_display
    readonly_fields = list_display

    @admin.display(description=_("job"))
    def label(self, job: ScheduledJob) -> str:
        return job_label(job.name)

    @admin.display(description=_("last run"))
    def last_run_at(self, job: ScheduledJob):
        return job.last_run.finished_at if job.last_run else None

    @admin.display(description=_("outcome"))
    def last_outcome(self, job: ScheduledJob) -> str:
        return outcome(job.last_run)

    @admin.display(description=_("result"))
    def last_result(self, job: ScheduledJob) -> str:
        return job.last_run.result if job.last_run else ""

    @admin.display(description=_("next due"))
    def next_due(self, job: ScheduledJob):
        spec = configured_jobs().get(job.name)
        return spec.next_slot(timezone.now()) if spec else None


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["label", "slot", "run_outcome", "attempts", "finished_at", "result"]
    list_filter = ["job", "succeeded"]
    date_hierarchy = "slot"
    fields = [*list_display, "task_id", "enqueued_at", "started_at"]
    readonly_fields = fields

    @admin.display(description=_("job"), ordering="job")
    def label(self, run: JobRun) -> str:
        return job_label(run.job)

    @admin.display(description=_("outcome"))
    def run_outcome(self, run: JobRun) -> str:
        return outcome(run)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "host", "pid", "started_at", "last_seen_at", "alive"]

    @admin.display(description=_("alive"), boolean=True)
    def alive(self, worker: WorkerHeartbeat) -> bool:
        return worker.last_seen_at >= timezone.now() - stale_after()


# The library's list of tasks, under "Background work" with the other lists (read-only there).
admin.site.unregister(DBTaskResult)
admin.site.register(QueuedTask, DBTaskResultAdmin)
