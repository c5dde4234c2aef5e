"""The scheduler: each job's slot enqueued once, the run's result kept for the administrator."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from jobs.models import JobRun, ScheduledJob
from jobs.schedule import configured_jobs
from jobs.scheduler import enqueue_due_jobs, sync_scheduled_jobs
from jobs.tasks import ping, run_scheduled_job
from reissue.models import ImportUpload
from tests.reissue.test_concurrency import run_together

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def three_jobs(settings):
    """The scheduler's tests count slots of these three (the SMS sweep runs every minute)."""
    names = ["case_clocks", "purge_import_uploads", "audit_checkpoint"]
    settings.SCHEDULED_JOBS = {name: settings.SCHEDULED_JOBS[name] for name in names}


def at(hour: int, minute: int, second: int = 0, day: int = 2) -> datetime.datetime:
    return datetime.datetime(2031, 1, day, hour, minute, second, tzinfo=SHANGHAI)


def test_the_due_slot_is_the_latest_begun():
    jobs = configured_jobs()
    clocks, purge, checkpoint = (
        jobs["case_clocks"],
        jobs["purge_import_uploads"],
        jobs["audit_checkpoint"],
    )
    assert clocks.slot_at(at(10, 7, 30)) == at(10, 5)
    assert clocks.slot_at(at(10, 5)) == at(10, 5)
    assert clocks.next_slot(at(10, 7, 30)) == at(10, 10)
    assert purge.slot_at(at(10, 59, 59)) == at(10, 0)
    # Daily at 01:00 in Shanghai: before it, yesterday's run is the one due.
    assert checkpoint.slot_at(at(0, 30)) == at(1, 0, day=1)
    assert checkpoint.slot_at(at(1, 0)) == at(1, 0)
    assert checkpoint.next_slot(at(0, 30)) == at(1, 0)
    # A server's clock in UTC changes nothing: slots are counted in TIME_ZONE.
    assert checkpoint.slot_at(at(1, 0).astimezone(datetime.UTC)) == at(1, 0)


@override_settings(
    SCHEDULED_JOBS={"odd": {"task": "reissue.tasks.run_clocks", "label": "x", "every_minutes": 7}}
)
def test_a_period_that_does_not_divide_a_day_is_refused():
    with pytest.raises(ImproperlyConfigured, match="divide a day"):
        configured_jobs()


@pytest.mark.django_db
def test_each_slot_is_enqueued_once():
    first = enqueue_due_jobs(at(10, 6))
    assert sorted(run.job for run in first) == [
        "audit_checkpoint",
        "case_clocks",
        "purge_import_uploads",
    ]
    # Later within the same slots: nothing more; the next clock slot: the clocks alone.
    assert enqueue_due_jobs(at(10, 9, 59)) == []
    assert [run.job for run in enqueue_due_jobs(at(10, 10))] == ["case_clocks"]
    assert JobRun.objects.count() == 4
    # Each run has its task in the queue, the checkpoint on the audit host's queue.
    queued = dict(DBTaskResult.objects.values_list("id", "queue_name"))
    assert {str(run.task_id) for run in JobRun.objects.all()} == {str(pk) for pk in queued}
    checkpoint_run = JobRun.objects.get(job="audit_checkpoint")
    assert checkpoint_run.slot == at(1, 0)
    assert queued[checkpoint_run.task_id] == "audit"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_schedulers_at_once_enqueue_each_slot_once():
    outcomes = run_together(*[lambda: enqueue_due_jobs(at(10, 6))] * 4)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    # Each job's slot won by one of them (not always the same one).
    won = sorted(run.job for outcome in outcomes for run in outcome)
    assert won == ["audit_checkpoint", "case_clocks", "purge_import_uploads"]
    assert JobRun.objects.count() == 3
    assert DBTaskResult.objects.count() == 3


@pytest.mark.django_db
def test_a_run_records_its_result_for_the_administrator(admin_client, supervisor):
    old = ImportUpload.objects.create(owner=supervisor, content="aWQK")
    two_days_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    ImportUpload.objects.filter(pk=old.pk).update(created_at=two_days_ago, updated_at=two_days_ago)
    ImportUpload.objects.create(owner=supervisor, content="aWQK")  # today's: kept
    sync_scheduled_jobs()
    (purge,) = [run for run in enqueue_due_jobs() if run.job == "purge_import_uploads"]

    assert (
        run_scheduled_job.call(purge.pk)
        == "1 import uploads deleted, 0 whose worker stopped marked failed"
    )
    assert ImportUpload.objects.count() == 1
    purge.refresh_from_db()
    assert purge.succeeded is True and purge.attempts == 1
    assert ScheduledJob.objects.get(name="purge_import_uploads").last_run == purge
    # Run again (its worker died before the queue heard): the work is not done twice.
    assert (
        run_scheduled_job.call(purge.pk)
        == "1 import uploads deleted, 0 whose worker stopped marked failed"
    )
    purge.refresh_from_db()
    assert purge.attempts == 1

    page = admin_client.get("/admin/jobs/scheduledjob/").content.decode()
    assert "Purge unconfirmed import uploads" in page
    assert "1 import uploads deleted, 0 whose worker stopped marked failed" in page
    assert "Succeeded" in page and "Not run yet" in page  # the clocks have not run


@pytest.mark.django_db
def test_a_failed_run_records_the_error(settings, admin_client):
    settings.AUDIT_CHECKPOINT_FILE = ""  # checkpoints off: the job refuses
    (checkpoint,) = [run for run in enqueue_due_jobs() if run.job == "audit_checkpoint"]
    with pytest.raises(Exception, match="nowhere to write"):
        run_scheduled_job.call(checkpoint.pk)
    checkpoint.refresh_from_db()
    assert checkpoint.succeeded is False
    assert "AUDIT_CHECKPOINT_FILE is empty" in checkpoint.result
    page = admin_client.get("/admin/jobs/scheduledjob/").content.decode()
    assert "Failed" in page and "AUDIT_CHECKPOINT_FILE is empty" in page


@pytest.mark.django_db
def test_the_lists_are_read_only(admin_client):
    sync_scheduled_jobs()
    job = ScheduledJob.objects.first()
    assert admin_client.get("/admin/jobs/scheduledjob/add/").status_code == 403
    assert admin_client.post(f"/admin/jobs/scheduledjob/{job.pk}/delete/").status_code == 403
    assert admin_client.get(f"/admin/jobs/scheduledjob/{job.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_the_queue_is_listed_among_the_background_work(admin_client):
    ping.enqueue(1)
    page = admin_client.get("/admin/jobs/queuedtask/").content.decode()
    assert "ping" in page
    assert admin_client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 404
