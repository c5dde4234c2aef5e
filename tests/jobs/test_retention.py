"""Retention: the rate-limit rows, the job runs and tasks, old SMS phones do not pile up."""

import datetime

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.models import JobRun, ScheduledJob
from jobs.retention import purge_finished_work
from jobs.schedule import configured_jobs
from jobs.scheduler import enqueue_due_jobs, sync_scheduled_jobs
from jobs.tasks import ping, run_scheduled_job
from notifications.models import MessageState, OutboxMessage
from public.models import PublicLook, PublicLookKind
from public.services import purge_public_looks
from reissue import services
from tests.factories import register_case

NOW = timezone.now


def ago(**delta) -> datetime.datetime:
    return NOW() - datetime.timedelta(**delta)


def test_the_retention_jobs_are_scheduled():
    jobs = configured_jobs()
    assert jobs["purge_public_looks"].every == datetime.timedelta(hours=1)
    assert jobs["purge_finished_work"].daily_at == datetime.time(3, 0)
    assert jobs["wipe_old_sms_phones"].daily_at == datetime.time(3, 30)


def look(at) -> PublicLook:
    return PublicLook.objects.create(
        kind=PublicLookKind.CASE_PROGRESS, client_address="192.0.2.1", reference="DC-1", at=at
    )


@pytest.mark.django_db
def test_public_looks_past_the_window_are_deleted_once(settings):
    settings.PUBLIC_LOOK_WINDOW_SECONDS = 900
    old, recent = look(ago(minutes=16)), look(ago(minutes=14))
    assert purge_public_looks() == 1
    assert purge_public_looks() == 0  # run again: nothing more
    assert list(PublicLook.objects.all()) == [recent]
    assert not PublicLook.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_the_public_looks_job_reports_what_it_deleted(settings):
    settings.SCHEDULED_JOBS = {"purge_public_looks": settings.SCHEDULED_JOBS["purge_public_looks"]}
    look(ago(hours=2))
    sync_scheduled_jobs()
    (run,) = enqueue_due_jobs()
    assert run_scheduled_job.call(run.pk) == "1 old public page looks deleted"


def finished_run(job: str, *, days: int, succeeded=True) -> JobRun:
    run = JobRun.objects.create(job=job, slot=ago(days=days))
    JobRun.objects.filter(pk=run.pk).update(
        succeeded=succeeded, finished_at=ago(days=days) if succeeded is not None else None
    )
    return run


def task_result(*, days: int, status) -> DBTaskResult:
    result = DBTaskResult.objects.get(pk=ping.enqueue().id)
    DBTaskResult.objects.filter(pk=result.pk).update(status=status, finished_at=ago(days=days))
    return result


@pytest.mark.django_db
def test_old_job_runs_and_finished_tasks_are_deleted_a_jobs_last_run_kept(settings):
    settings.BACKGROUND_WORK_KEPT_DAYS = 30
    old, last = finished_run("case_clocks", days=40), finished_run("audit_checkpoint", days=40)
    ScheduledJob.objects.create(name="audit_checkpoint", last_run=last)
    recent = finished_run("case_clocks", days=2)
    stuck = finished_run("case_clocks", days=41, succeeded=None)  # never finished: kept
    old_task = task_result(days=40, status=TaskResultStatus.SUCCESSFUL)
    old_failure = task_result(days=40, status=TaskResultStatus.FAILED)
    recent_task = task_result(days=2, status=TaskResultStatus.SUCCESSFUL)
    waiting = DBTaskResult.objects.get(pk=ping.enqueue().id)

    assert purge_finished_work() == (1, 2)
    assert purge_finished_work() == (0, 0)
    assert set(JobRun.objects.all()) == {last, recent, stuck}
    assert not JobRun.objects.filter(pk=old.pk).exists()
    assert set(DBTaskResult.objects.all()) == {recent_task, waiting}
    assert not DBTaskResult.objects.filter(pk__in=[old_task.pk, old_failure.pk]).exists()


@pytest.mark.django_db
def test_the_phone_of_an_old_finished_sms_is_wiped_the_record_kept(settings, clerk, office):
    settings.SMS_PHONE_KEPT_DAYS = 90
    settings.SCHEDULED_JOBS = {
        "wipe_old_sms_phones": settings.SCHEDULED_JOBS["wipe_old_sms_phones"]
    }
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    for case in cases:
        services.case_issue_temp_card(
            case=case, acting_user=clerk, card_number="TMP-1", issued_on=timezone.localdate()
        )
    old_sent, recent_sent, old_queued = (
        OutboxMessage.objects.get(subject_label=case.reference) for case in cases
    )
    OutboxMessage.objects.filter(pk=old_sent.pk).update(
        state=MessageState.SENT, sent_at=ago(days=91), created_at=ago(days=91)
    )
    OutboxMessage.objects.filter(pk=recent_sent.pk).update(
        state=MessageState.SENT, sent_at=ago(days=89), created_at=ago(days=89)
    )
    OutboxMessage.objects.filter(pk=old_queued.pk).update(created_at=ago(days=91))

    sync_scheduled_jobs()
    (run,) = enqueue_due_jobs()
    assert run_scheduled_job.call(run.pk) == "1 phone numbers of old SMS notices wiped"
    wiped = OutboxMessage.objects.get(pk=old_sent.pk)
    assert wiped.phone == "" and wiped.text == old_sent.text and wiped.state == MessageState.SENT
    assert OutboxMessage.objects.get(pk=recent_sent.pk).phone == recent_sent.phone != ""
    assert OutboxMessage.objects.get(pk=old_queued.pk).phone == old_queued.phone != ""
