"""A long file checked and imported by a real worker process (`manage.py db_worker`), on
PostgreSQL, with its progress seen from another connection while the import's transaction
is open (the worker writes it through a second connection of its own)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.chain import verify_chain
from audit.models import AuditEntry
from reissue.models import ImportState, ImportUpload, ReissueCase
from tests.jobs.test_worker_process import start_worker, stop, wait_for

from .test_background_import import IMPORT, csv_of, row

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROWS = 3000  # three batches: the progress is seen between them


def state() -> tuple[str, int, int]:
    return ImportUpload.objects.values_list("state", "rows_checked", "rows_written").get()


def test_a_worker_checks_and_imports_a_long_file_its_progress_seen_as_it_goes(
    client, supervisor, settings, tmp_path
):
    settings.IMPORT_IN_REQUEST_MAX_ROWS = 100
    client.force_login(supervisor)
    log = tmp_path / "worker.log"
    worker = start_worker("importer", log)
    try:
        data = csv_of([row(n) for n in range(ROWS)])
        response = client.post(
            IMPORT,
            {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("big.csv", data)},
        )
        progress = response.url
        wait_for(lambda: state()[0] == ImportState.CHECKED, "the check", log)
        page = client.get(progress).content.decode()
        assert f"All {ROWS} rows can be imported" in page
        assert not ReissueCase.objects.exists()

        client.post(progress + "confirm/")
        seen = set()

        def imported() -> bool:
            seen.add(state())
            return state()[0] in (ImportState.IMPORTED, ImportState.FAILED)

        wait_for(imported, "the import", log)
    finally:
        stop(worker)
    assert state() == (ImportState.IMPORTED, ROWS, ROWS)
    # Seen from here while the worker's transaction was still open: part of the file written.
    assert any(s == ImportState.IMPORTING and 0 < written < ROWS for s, _c, written in seen)
    assert ReissueCase.objects.count() == ROWS
    assert verify_chain(AuditEntry) is None
    assert f"Imported {ROWS} cases" in client.get(progress).content.decode()
