"""A background export built by a real worker process, one killed mid-build, on PostgreSQL."""

import signal

import pytest
from django.urls import reverse

from audit.models import PersonalDataAccess
from exports.models import BackgroundExport, ExportStatus
from reissue.resources import CaseResource
from tests.exports.conftest import read_rows
from tests.factories import register_case
from tests.jobs.test_worker_process import start_worker, stop, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def status_of(export_id: int) -> str:
    return BackgroundExport.objects.get(pk=export_id).status


def test_a_worker_killed_mid_build_leaves_the_export_to_the_next_which_builds_it_once(
    client, clerk, office, supervisor, tmp_path
):
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(
        reverse("admin:reissue_reissuecase_export"),
        {"format": "1", "resource": "0", "in_background": "on", **fields},
    )
    export = BackgroundExport.objects.get()
    real_source = export.source
    BackgroundExport.objects.filter(pk=export.pk).update(
        source="tests.exports.sources.never_finishes"
    )
    log = tmp_path / "workers.log"

    first = start_worker("first", log)
    try:
        wait_for(lambda: status_of(export.pk) == ExportStatus.RUNNING, "the build to start", log)
    finally:
        stop(first, signal.SIGKILL)  # mid-build: no chance to clean up
    assert not PersonalDataAccess.objects.exists()

    BackgroundExport.objects.filter(pk=export.pk).update(source=real_source)
    second = start_worker("second", log)
    try:
        wait_for(lambda: status_of(export.pk) == ExportStatus.DONE, "the retried build", log)
    finally:
        stop(second)
    built = BackgroundExport.objects.get()
    assert built.attempts == 2 and built.rows == 3
    assert PersonalDataAccess.objects.count() == 1  # the full numbers, logged once
    download = client.get(reverse("admin:exports_backgroundexport_download", args=[built.pk]))
    assert {row["reference"] for row in read_rows(download)} == {c.reference for c in cases}
