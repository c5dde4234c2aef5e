"""A file too long for the request: checked, then imported, by a worker, its progress on a page.

The tasks run for real, in django-tasks' immediate mode, when the request's transaction
commits (`django_capture_on_commit_callbacks(execute=True)`).
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEntry
from common.id_numbers import compose_id_number
from reissue.legacy_import import importer as import_run
from reissue.models import Applicant, CaseState, ImportState, ImportUpload, ReissueCase
from reissue.tasks import check_import_upload, import_import_upload
from tests.factories import ApplicantFactory, UserFactory, register_case

from .conftest import UTF8_HEADER
from .test_admin_import import IMPORT, PROCESS

IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "audit"],
    }
}


def id_number(n: int) -> str:
    return compose_id_number(
        "110101", datetime.date(1980, 1, 1) + datetime.timedelta(days=n), n % 1000
    )


def row(n: int, *, loss_date: str = "2024-03-05") -> str:
    return (
        f"DC,张{'伟芳娜敏静丽强磊'[n % 8]},{id_number(n)},1380013{n:04d},北京市东城区幸福路{n}号,"
        f"东城派出所,both,lost,{loss_date},1"
    )


def csv_of(rows: list[str]) -> bytes:
    return ("\n".join([",".join(UTF8_HEADER), *rows]) + "\n").encode()


@pytest.fixture
def worker(settings):
    """Files of more than 2 rows go to the worker; tasks run when the request commits."""
    settings.IMPORT_IN_REQUEST_MAX_ROWS = 2
    settings.TASKS = IMMEDIATE
    return settings


def post_file(client, data: bytes, name: str = "legacy.csv"):
    return client.post(
        IMPORT, {"resource": "0", "format": "0", "import_file": SimpleUploadedFile(name, data)}
    )


def upload_checked(client, data: bytes, capture):
    """Upload a file, let the worker check it; return the progress page's address."""
    with capture(execute=True):
        response = post_file(client, data)
    assert response.status_code == 302
    return response.url


def confirm_url(progress_url: str) -> str:
    return progress_url + "confirm/"


def test_long_file_goes_to_the_worker_and_its_page_shows_the_progress(client, supervisor, worker):
    client.force_login(supervisor)
    response = post_file(client, csv_of([row(n) for n in range(5)]))  # the worker is not run
    upload = ImportUpload.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:reissue_reissuecase_import_progress", args=[upload.name])
    assert upload.state == ImportState.CHECKING and upload.file_format == "csv"
    page = client.get(response.url).content.decode()
    assert '<meta http-equiv="refresh"' in page  # reloads itself while the worker works
    assert '<label for="import-progress-bar">Rows checked: 0 of ?</label>' in page
    assert '<progress id="import-progress-bar">' in page
    upload.total_rows, upload.rows_checked = 5, 3
    upload.save()
    page = client.get(response.url).content.decode()
    assert 'max="5" value="3"' in page and "Rows checked: 3 of 5" in page
    assert not Applicant.objects.exists()


def test_small_file_is_still_previewed_within_the_request(client, supervisor, worker):
    client.force_login(supervisor)
    response = post_file(client, csv_of([row(n) for n in range(2)]))
    assert response.status_code == 200 and "confirm_form" in response.context
    assert ImportUpload.objects.get().state == ImportState.PREVIEW


def test_worker_checks_then_imports_the_confirmed_file(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(5)]), django_capture_on_commit_callbacks
    )
    page = client.get(progress).content.decode()
    assert "All 5 rows can be imported" in page
    assert "110101***********" in page and id_number(0) not in page  # the sample is masked
    assert "张伟" in page
    assert '<meta http-equiv="refresh"' not in page  # done: the page stays put
    assert not ReissueCase.objects.exists()  # the check writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url(progress))
    assert response.status_code == 302 and response.url == progress
    page = client.get(progress).content.decode()
    assert "Imported 5 cases; each starts at “reported”." in page
    assert ReissueCase.objects.filter(state=CaseState.REPORTED).count() == 5
    assert AuditEntry.objects.filter(action="registered").count() == 5
    assert verify_chain(AuditEntry) is None
    upload = ImportUpload.objects.get()
    assert upload.state == ImportState.IMPORTED and upload.rows_written == 5
    assert upload.content == ""  # the personal numbers are not kept once imported


def test_page_lists_every_bad_row_and_why_and_offers_no_confirmation(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    client.force_login(supervisor)
    rows = [row(n) for n in range(5)]
    rows[1] = rows[1].replace("2024-03-05", "2999-01-01")
    rows[4] = rows[4].replace("DC,", "ZZ,")  # in the last batch
    progress = upload_checked(client, csv_of(rows), django_capture_on_commit_callbacks)
    response = client.get(progress)
    page = response.content.decode()
    assert "Some rows cannot be imported" in page
    assert '<tr data-row="3">' in page and "The date of loss cannot be in the future." in page
    assert '<tr data-row="6">' in page and "No office has the code “ZZ”." in page
    assert "Confirm import" not in page
    upload = ImportUpload.objects.get()
    assert upload.problem_count == 2 and upload.content == ""  # never to be imported
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    assert not Applicant.objects.exists() and not ReissueCase.objects.exists()


def test_row_failing_late_in_the_import_leaves_nothing_of_the_batches_written_before(
    client, supervisor, clerk, office, worker, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    written = []
    write = import_run.BulkWriter.write
    monkeypatch.setattr(
        import_run.BulkWriter,
        "write",
        lambda self, rows: written.append(len(rows)) or write(self, rows),
    )
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(5)]), django_capture_on_commit_callbacks
    )
    # Between the worker's check and the confirmation a clerk registers the last row's
    # person: the import's own check (of what the database may have changed) refuses it.
    person = ApplicantFactory.build(id_number=id_number(4), name="张静")
    register_case(clerk=clerk, office=office, applicant=person)
    cases_before = 1  # the clerk's
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    assert written == [2, 2]  # two batches were inserted before the last row failed ...
    assert ReissueCase.objects.count() == cases_before  # ... and rolled back with the file
    assert Applicant.objects.count() == 1
    upload = ImportUpload.objects.get(state=ImportState.FAILED)
    page = client.get(progress).content.decode()
    assert "Nothing was imported: 1 rows no longer pass the checks." in page
    assert '<tr data-row="6">' in page
    assert upload.content == ""
    assert verify_chain(AuditEntry) is None


def test_retried_import_imports_once(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    upload = ImportUpload.objects.get()
    # The worker died after its transaction committed, before the queue heard: run again.
    assert import_import_upload.call(upload.pk, "en") == "not waiting to be imported"
    assert check_import_upload.call(upload.pk, "en") == "not waiting to be checked"
    assert ReissueCase.objects.count() == 3
    assert AuditEntry.objects.filter(action="registered").count() == 3


def test_import_retried_after_its_worker_died_mid_import_imports_the_file_once(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    client.post(confirm_url(progress))  # queued; the task is not run
    upload = ImportUpload.objects.get()
    # The first worker marked it importing and died: its transaction wrote nothing.
    ImportUpload.objects.filter(pk=upload.pk).update(state=ImportState.IMPORTING, rows_written=2)
    assert import_import_upload.call(upload.pk, "en") == "3 cases imported"
    assert import_import_upload.call(upload.pk, "en") == "not waiting to be imported"
    assert ReissueCase.objects.count() == 3


def test_only_the_uploader_sees_the_page_or_confirms(
    client, supervisor, clerk, office, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    other = UserFactory(username="other.supervisor", role="Supervisor", offices=[office])
    client.force_login(other)
    assert client.get(progress).status_code == 404
    assert client.post(confirm_url(progress)).status_code == 404
    client.force_login(clerk)
    assert client.get(progress).status_code == 403
    assert client.post(confirm_url(progress)).status_code == 403
    client.force_login(supervisor)
    made_up = reverse(
        "admin:reissue_reissuecase_import_progress", args=["00000000-0000-0000-0000-000000000000"]
    )
    assert client.get(made_up).status_code == 404
    assert ImportUpload.objects.get().state == ImportState.CHECKED
    assert not ReissueCase.objects.exists()


def test_worker_upload_is_not_confirmed_through_the_request_preview(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    upload_checked(client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks)
    name = ImportUpload.objects.get().name.hex
    response = client.post(PROCESS, {"import_file_name": name, "format": "0"}, follow=True)
    assert "This file is no longer waiting to be imported." in response.content.decode()
    assert not ReissueCase.objects.exists()


def test_request_preview_upload_has_no_progress_page(client, supervisor, worker):
    client.force_login(supervisor)
    post_file(client, csv_of([row(0)]))
    upload = ImportUpload.objects.get()
    page = reverse("admin:reissue_reissuecase_import_progress", args=[upload.name])
    assert client.get(page).status_code == 404


def test_file_the_worker_refuses_says_why_and_keeps_nothing(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    worker.IMPORT_MAX_BROWSER_ROWS = 4
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(6)]), django_capture_on_commit_callbacks
    )
    page = client.get(progress).content.decode()
    assert "This file has more than 4 rows" in page
    assert "Import another file" in page
    assert ImportUpload.objects.get().content == ""
    assert not Applicant.objects.exists()


def test_confirming_twice_queues_one_import(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(confirm_url(progress), follow=True)
    assert not callbacks
    assert "This file is no longer waiting to be imported." in response.content.decode()
    assert ReissueCase.objects.count() == 3


def test_purge_never_deletes_a_file_a_worker_is_working_on(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    from reissue.tasks import purge_import_uploads

    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    client.post(confirm_url(progress))  # queued; the task is not run yet
    upload = ImportUpload.objects.get()
    # Uploaded two days ago, confirmed a minute ago: the next upload or the job purges.
    ImportUpload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    post_file(client, csv_of([row(9)]))  # another upload, previewed in the request
    purge_import_uploads.call()
    assert ImportUpload.objects.get(pk=upload.pk).state == ImportState.QUEUED
    assert import_import_upload.call(upload.pk, "en") == "3 cases imported"
    assert ReissueCase.objects.count() == 3


def test_upload_whose_worker_stopped_a_day_ago_is_marked_failed_then_dropped(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    from reissue.tasks import purge_import_uploads

    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    client.post(confirm_url(progress))
    upload = ImportUpload.objects.get()
    long_ago = timezone.now() - datetime.timedelta(days=1, hours=1)
    ImportUpload.objects.filter(pk=upload.pk).update(
        state=ImportState.IMPORTING, created_at=long_ago, updated_at=long_ago
    )
    assert "1 whose worker stopped marked failed" in purge_import_uploads.call()
    upload.refresh_from_db()
    assert upload.state == ImportState.FAILED and upload.content == ""
    assert "The worker stopped; upload the file again." in client.get(progress).content.decode()
    ImportUpload.objects.filter(pk=upload.pk).update(updated_at=long_ago)
    purge_import_uploads.call()
    assert not ImportUpload.objects.exists()


def test_progress_page_does_not_read_the_file(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch
):
    from common import fields

    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    decrypted = []
    decrypt = fields.decrypt
    monkeypatch.setattr(fields, "decrypt", lambda *a, **k: decrypted.append(1) or decrypt(*a, **k))
    page = client.get(progress).content.decode()
    assert "Confirm import" in page  # the file is there, known without reading it
    assert decrypted == []
    ImportUpload.objects.update(content="")
    assert "Confirm import" not in client.get(progress).content.decode()


def test_second_run_failing_leaves_the_first_runs_import_as_it_is(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch
):
    from reissue.legacy_import import background

    client.force_login(supervisor)
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    client.post(confirm_url(progress))
    upload = ImportUpload.objects.get()
    ImportUpload.objects.filter(pk=upload.pk).update(state=ImportState.IMPORTING)
    # A second run (requeued by the sweep) stops on an error; as its transaction rolls back,
    # the first run commits "imported".
    monkeypatch.setattr(background, "_read", lambda upload_: 1 / 0)
    unexpected = background._failed_unexpectedly

    def first_run_commits():
        ImportUpload.objects.filter(pk=upload.pk).update(state=ImportState.IMPORTED)
        return unexpected()

    monkeypatch.setattr(background, "_failed_unexpectedly", first_run_commits)
    with pytest.raises(ZeroDivisionError):
        import_import_upload.call(upload.pk, "en")
    assert ImportUpload.objects.get(pk=upload.pk).state == ImportState.IMPORTED


def test_no_personal_data_of_rows_is_kept_beside_the_file(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    rows = [row(n) for n in range(3)]
    rows[1] = rows[1].replace("2024-03-05", "2999-01-01")
    upload_checked(client, csv_of(rows), django_capture_on_commit_callbacks)
    bad = ImportUpload.objects.get()
    assert bad.problems == [{"number": 3, "errors": bad.problems[0]["errors"]}]
    assert "张" not in str(bad.problems) and "1380013" not in str(bad.problems)
    bad.delete()
    progress = upload_checked(
        client, csv_of([row(n) for n in range(3)]), django_capture_on_commit_callbacks
    )
    assert ImportUpload.objects.get().sample  # shown until the import ...
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    upload = ImportUpload.objects.get()
    assert upload.state == ImportState.IMPORTED and upload.sample == []  # ... then dropped


def test_task_results_are_in_the_uploaders_language(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    post_file(client, csv_of([row(n) for n in range(3)]))
    upload = ImportUpload.objects.get()
    assert check_import_upload.call(upload.pk, "zh-hans") == "检查了 3 行，0 行有错误"
    assert check_import_upload.call(upload.pk, "zh-hans") == "不在等待检查"


def test_workbook_damaged_past_its_first_rows_is_refused_as_unreadable(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    from .conftest import xlsx_bytes

    whole = xlsx_bytes([UTF8_HEADER, *(row(n).split(",") for n in range(60))])
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(damaged, "w") as target:
        for part in source.infolist():
            data = source.read(part)
            if part.filename.startswith("xl/worksheets/"):
                data = data[: len(data) * 4 // 5]  # the sheet's XML cut short, after row 40
            target.writestr(part, data)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            IMPORT,
            {
                "resource": "0",
                "format": "1",
                "import_file": SimpleUploadedFile("legacy.xlsx", damaged.getvalue()),
            },
        )
    assert response.status_code == 302  # its first rows read well: sent to the worker
    page = client.get(response.url).content.decode()
    assert "This file is not an Excel .xlsx workbook that can be read." in page
    assert "unexpected error" not in page
    upload = ImportUpload.objects.get()
    assert upload.state == ImportState.FAILED and upload.content == ""


def five_rows_checked(client, user, capture) -> str:
    """Log `user` in, upload five good rows and let the worker check them; return the page."""
    client.force_login(user)
    return upload_checked(client, csv_of([row(n) for n in range(5)]), capture)


def _batches_checked(monkeypatch) -> list[tuple[bool, bool]]:
    """Record each batch's check: (writing, only what the database may have changed)."""
    seen = []
    check_batch = import_run.RowChecker.check_batch

    def recorded(checker, batch, **kwargs):
        seen.append((checker.for_writing, kwargs["cells_checked"]))
        return check_batch(checker, batch, **kwargs)

    monkeypatch.setattr(import_run.RowChecker, "check_batch", recorded)
    return seen


def test_confirmed_import_starts_writing_without_checking_the_rows_again(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    progress = five_rows_checked(client, supervisor, django_capture_on_commit_callbacks)
    assert len(ImportUpload.objects.get().passed_check["digests"]) == 3
    seen = _batches_checked(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    # Each batch once, as it is written, for what the database may have changed only.
    assert seen == [(True, True)] * 3
    assert ReissueCase.objects.count() == 5
    assert ImportUpload.objects.get().passed_check == {}  # gone with the file


@pytest.mark.parametrize(
    "kept_as",
    [
        lambda check: {},  # checked before the check was kept (the upgrade)
        # Checked by the release before: a release between the check and the confirmation
        # may check a row by stricter rules (import_run.check_rules_fingerprint).
        lambda check: {**check, "rules": "0" * 32},
    ],
    ids=["before the upgrade", "by an earlier release"],
)
def test_upload_whose_kept_check_is_no_check_is_checked_again_in_full(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch, kept_as
):
    progress = five_rows_checked(client, supervisor, django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    assert upload.passed_check["rules"] == import_run.check_rules_fingerprint()
    ImportUpload.objects.update(passed_check=kept_as(upload.passed_check))
    seen = _batches_checked(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    assert seen == [(False, False), (True, True)]  # the check, then the write's
    assert ReissueCase.objects.count() == 5


def test_batch_that_does_not_read_as_checked_is_checked_again_in_full(
    client, supervisor, worker, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    progress = five_rows_checked(client, supervisor, django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    upload.passed_check["digests"][1] = "00" * 32
    upload.save()
    seen = _batches_checked(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    assert seen == [(True, True), (True, False), (True, True)]
    assert ReissueCase.objects.count() == 5


def test_rows_of_an_office_the_check_did_not_name_refuse_the_file(
    client, supervisor, worker, django_capture_on_commit_callbacks
):
    progress = five_rows_checked(client, supervisor, django_capture_on_commit_callbacks)
    # The write locks the sequences of the offices the check found; a row of another office
    # would take a reference from a sequence not locked.
    upload = ImportUpload.objects.get()
    upload.passed_check["offices"] = []
    upload.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_url(progress))
    upload.refresh_from_db()
    assert upload.state == ImportState.FAILED
    assert upload.failure.startswith("The file no longer reads as it did when it was checked")
    assert upload.passed_check == {}  # gone with the file
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()
    assert "The file no longer reads as it did" in client.get(progress).content.decode()
