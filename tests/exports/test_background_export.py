"""Exports built in the background: what goes there, what the file holds, who gets it, the
access log, the notice, the purge, and a worker that stops or runs twice."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.models import AccessKind, PersonalDataAccess
from claims.resources import ExpenseClaimResource
from exports import services
from exports.models import BackgroundExport, ExportStatus
from exports.tasks import build_background_export, purge_expired_exports
from jobs.workers import requeue_abandoned_tasks
from reissue import services as case_services
from reissue.models import ReissueCase
from reissue.resources import AuditEntryResource, CaseResource
from tests.exports.conftest import FORMATS, export, read_rows
from tests.factories import (
    ApplicantFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
)

ADMIN = "reissue_reissuecase"
EXPORT = reverse("admin:reissue_reissuecase_export")
MY_EXPORTS = reverse("admin:exports_backgroundexport_changelist")
TASK_PATH = "exports.tasks.build_background_export"


def download_url(export_or_id) -> str:
    pk = getattr(export_or_id, "pk", export_or_id)
    return reverse("admin:exports_backgroundexport_download", args=[pk])


def run_worker() -> int:
    """Run every queued build task, as `db_worker` would; return how many ran."""
    queued = list(DBTaskResult.objects.filter(task_path=TASK_PATH, status=TaskResultStatus.READY))
    for task in queued:
        build_background_export.call(*task.args_kwargs["args"])
        DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.SUCCESSFUL)
    return len(queued)


def in_background(client, resource_class=CaseResource, fmt="xlsx", query="", admin_name=ADMIN):
    """Ask for the export in the background (ticked), run the worker, return the export."""
    fields = {
        f"{resource_class.__name__.lower()}_{name}": "on"
        for name in resource_class().get_export_order()
    }
    url = reverse(f"admin:{admin_name}_export") + query
    data = {"format": FORMATS[fmt], "resource": "0", "in_background": "on", **fields}
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == MY_EXPORTS
    run_worker()
    return BackgroundExport.objects.latest("pk")


def background_rows(client, export_):
    response = client.get(download_url(export_))
    assert response.status_code == 200, response.content[:300]
    return read_rows(response)


@pytest.fixture
def masked_exporter(office):
    user = UserFactory(username="exporter", offices=[office])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_reissuecase", "export_cases"])
    )
    return user


@pytest.fixture
def cases(clerk, office, other_clerk, other_office, supervisor):
    """Three cases of DC (one cancelled, one of 王小明) and one of PD."""
    wang = register_case(
        clerk=clerk, office=office, applicant=ApplicantFactory.build(name="王小明")
    )
    li = register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name="李四"))
    cancelled = register_case(clerk=clerk, office=office)
    case_services.case_cancel(case=cancelled, acting_user=supervisor, reason="=1+2 已找回")
    foreign = register_case(clerk=other_clerk, office=other_office)
    return {"wang": wang, "li": li, "cancelled": cancelled, "foreign": foreign}


# What goes to the background -------------------------------------------------------------------


@override_settings(EXPORT_IN_MEMORY_MAX_ROWS=1)
@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_an_in_memory_export_above_the_limit_is_built_in_the_background_with_a_message(
    client, supervisor, cases, fmt
):
    client.force_login(supervisor)
    response = export(client, ADMIN, CaseResource, fmt)
    assert response.status_code == 302 and response["Location"] == MY_EXPORTS
    queued = BackgroundExport.objects.get()
    assert queued.status == ExportStatus.QUEUED and queued.file_format == fmt
    (task,) = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert task.args_kwargs["args"] == [queued.pk] and str(task.id) == str(queued.task_id)
    page = client.get(MY_EXPORTS).content.decode()
    assert "more than 1 rows, too many for" in page and "is being built" in page
    assert "queued" in page


@override_settings(EXPORT_IN_MEMORY_MAX_ROWS=1)
def test_a_csv_is_streamed_at_once_unless_asked_for_in_the_background(client, supervisor, cases):
    client.force_login(supervisor)
    assert export(client, ADMIN, CaseResource, "csv").status_code == 200
    assert not BackgroundExport.objects.exists()
    built = in_background(client, fmt="csv")
    assert built.status == ExportStatus.DONE and built.rows == 3


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_the_file_holds_exactly_what_the_page_would_have_given(client, masked_exporter, cases, fmt):
    client.force_login(masked_exporter)
    query = "?o=1"  # the list's ordering is kept too
    at_once = read_rows(export(client, ADMIN, CaseResource, fmt, query))
    built = in_background(client, fmt=fmt, query=query)
    assert background_rows(client, built) == at_once
    assert built.rows == 3 and built.size > 0 and len(built.sha256) == 64
    wang = next(r for r in at_once if r["reference"] == cases["wang"].reference)
    number = cases["wang"].applicant.id_number
    assert wang["ID number"] == number[:6] + "*" * 11 + number[-1]  # masked, as on the page
    if fmt != "json":
        cancelled = next(r for r in at_once if r["reference"] == cases["cancelled"].reference)
        assert cancelled["reason for cancelling"] == "'=1+2 已找回"  # escaped, as on the page


def test_a_supervisor_never_gets_another_offices_rows_and_the_filters_and_search_hold(
    client, supervisor, cases
):
    client.force_login(supervisor)
    built = in_background(client, fmt="xlsx")
    references = {row["reference"] for row in background_rows(client, built)}
    assert cases["foreign"].reference not in references and len(references) == 3

    query = "?state__exact=reported&q=王小明"
    built = in_background(client, fmt="xlsx", query=query)
    rows = background_rows(client, built)
    assert [row["reference"] for row in rows] == [cases["wang"].reference]
    # An office the supervisor does not work in, forged into the filter, shows nothing.
    foreign = cases["foreign"]
    built = in_background(client, fmt="csv", query=f"?office__id__exact={foreign.office_id}")
    assert foreign.reference not in {row["reference"] for row in background_rows(client, built)}


def test_a_search_by_whole_id_number_is_rebuilt_without_the_number_kept(client, supervisor, cases):
    client.force_login(supervisor)
    number = cases["li"].applicant.id_number
    redirect = client.post(reverse("admin:reissue_reissuecase_search"), {"q": number})
    query = "?" + redirect["Location"].split("?", 1)[1]
    built = in_background(client, fmt="json", query=query)
    assert [row["reference"] for row in background_rows(client, built)] == [cases["li"].reference]
    kept = BackgroundExport.objects.filter(pk=built.pk).values("params", "search_state").get()
    assert number not in str(kept)


def test_the_offices_are_the_requesters_when_the_worker_runs(client, supervisor, cases, office):
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields})
    office.staff.remove(supervisor)  # moved away before the worker ran
    run_worker()
    built = BackgroundExport.objects.get()
    assert built.status == ExportStatus.DONE and built.rows == 0


def test_claims_export_in_the_background_too(client, supervisor, clerk, office):
    claim = claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)
    client.force_login(supervisor)
    built = in_background(client, ExpenseClaimResource, "xlsx", admin_name="claims_expenseclaim")
    rows = background_rows(client, built)
    assert {row["reference"] for row in rows} == {claim.case.reference}
    assert built.rows == len(rows) >= 1


def test_the_audit_trail_exports_in_the_background_too(client, auditor, cases):
    client.force_login(auditor)
    at_once = read_rows(export(client, "audit_auditentry", AuditEntryResource, "json"))
    built = in_background(client, AuditEntryResource, "json", admin_name="audit_auditentry")
    assert background_rows(client, built) == at_once and len(at_once) >= 4


# Who gets the file ------------------------------------------------------------------------------


def test_the_download_is_named_for_people_and_not_cached(client, supervisor, cases):
    client.force_login(supervisor)
    built = in_background(client, fmt="xlsx")
    response = client.get(download_url(built))
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"DC-reissuecase-{day}.xlsx\"; filename*=UTF-8''"
        f"DC-reissue%20cases-{day}.xlsx"
    )
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_only_the_requester_may_download_not_a_colleague_nor_a_superuser(
    client, supervisor, cases, office, admin_user
):
    client.force_login(supervisor)
    built = in_background(client, fmt="csv")
    colleague = UserFactory(username="colleague", role="Supervisor", offices=[office])
    for user in (colleague, admin_user):
        client.force_login(user)
        assert client.get(download_url(built)).status_code == 404
        assert download_url(built) not in client.get(MY_EXPORTS).content.decode()
    with pytest.raises(services.ObjectNotFound):
        services.background_export_file(export_id=built.pk, acting_user=colleague)
    client.force_login(supervisor)
    assert download_url(built) in client.get(MY_EXPORTS).content.decode()


@pytest.mark.parametrize("object_id", ["999999", "abc", "1%20OR%201=1", "0", "9" * 30, "-1"])
def test_a_forged_download_url_is_not_found(client, supervisor, cases, object_id):
    client.force_login(supervisor)
    in_background(client, fmt="csv")
    url = reverse("admin:exports_backgroundexport_changelist") + f"{object_id}/download/"
    assert client.get(url).status_code == 404


def test_a_file_of_a_user_who_lost_the_right_is_not_given(client, supervisor, cases):
    client.force_login(supervisor)
    built = in_background(client, fmt="csv")
    supervisor.groups.clear()
    supervisor.user_permissions.add(Permission.objects.get(codename="view_reissuecase"))
    response = client.get(download_url(built), follow=True)
    assert "You may no longer export this list." in response.content.decode()
    assert response.redirect_chain[-1][0] == MY_EXPORTS


def test_a_file_with_full_numbers_is_not_given_once_the_user_may_no_longer_see_them(
    client, supervisor, cases
):
    client.force_login(supervisor)
    built = in_background(client, fmt="csv")
    assert built.full_numbers and built.full_numbers_permission == "reissue.view_full_id_number"
    kept = Permission.objects.filter(group__user=supervisor).exclude(codename="view_full_id_number")
    supervisor.user_permissions.add(*kept)
    supervisor.groups.clear()
    response = client.get(download_url(built), follow=True)
    assert response.redirect_chain[-1][0] == MY_EXPORTS
    assert "You may no longer see the full ID numbers in this file" in response.content.decode()
    assert not PersonalDataAccess.objects.filter(reason__startswith="download of").exists()
    # Asked for again, the file is built masked, and given.
    rebuilt = in_background(client, fmt="csv")
    rows = background_rows(client, rebuilt)
    assert not rebuilt.full_numbers
    assert cases["li"].applicant.id_number not in {row["ID number"] for row in rows}


def test_a_file_is_not_given_once_the_user_no_longer_sees_an_office_it_covered(
    client, supervisor, cases, office, other_office
):
    client.force_login(supervisor)
    built = in_background(client, fmt="xlsx")
    assert built.office_ids == [office.pk]
    office.staff.remove(supervisor)
    other_office.staff.add(supervisor)  # moved to another office
    response = client.get(download_url(built), follow=True)
    assert response.redirect_chain[-1][0] == MY_EXPORTS
    assert "This file covers offices you no longer see" in response.content.decode()
    with pytest.raises(services.PermissionDenied):
        moved = type(supervisor).objects.get(pk=supervisor.pk)  # its offices read afresh
        services.background_export_file(export_id=built.pk, acting_user=moved)
    other_office.staff.remove(supervisor)
    office.staff.add(supervisor)  # back: the file is given again
    assert client.get(download_url(built)).status_code == 200


def test_a_file_of_every_office_is_not_given_once_the_user_sees_only_some(
    client, supervisor, cases
):
    all_offices = Permission.objects.get(codename="view_all_offices")
    supervisor.user_permissions.add(all_offices)
    client.force_login(supervisor)
    built = in_background(client, fmt="json")
    assert built.office_ids is None and len(background_rows(client, built)) == 4
    supervisor.user_permissions.remove(all_offices)
    response = client.get(download_url(built), follow=True)
    assert "This file covers offices you no longer see" in response.content.decode()


# The access log ---------------------------------------------------------------------------------


def test_full_numbers_are_logged_once_when_built_and_at_each_download(client, supervisor, cases):
    client.force_login(supervisor)
    export(client, ADMIN, CaseResource, "xlsx", "?state__exact=reported")  # on the page
    (on_the_page,) = PersonalDataAccess.objects.all()
    built = in_background(client, fmt="xlsx", query="?state__exact=reported")
    (at_build,) = PersonalDataAccess.objects.exclude(pk=on_the_page.pk)
    assert at_build.kind == AccessKind.EXPORT and at_build.actor == supervisor
    assert at_build.reason == on_the_page.reason  # the same words: rows, format, filters
    assert built.full_numbers
    build_background_export.call(built.pk)  # the task again: nothing built, nothing logged
    assert PersonalDataAccess.objects.count() == 2

    rows = background_rows(client, built)
    assert rows[0]["ID number"] == cases["li"].applicant.id_number  # full: the right is held
    background_rows(client, built)
    downloads = PersonalDataAccess.objects.filter(reason__startswith="download of export")
    assert downloads.count() == 2
    assert downloads.first().record_display() == "export of the list of reissue cases"


def test_a_masked_file_is_logged_neither_when_built_nor_downloaded(client, masked_exporter, cases):
    client.force_login(masked_exporter)
    built = in_background(client, fmt="json")
    background_rows(client, built)
    assert not built.full_numbers and not PersonalDataAccess.objects.exists()


# Rights checked again when the worker runs -------------------------------------------------------


@pytest.mark.parametrize("loses", ["the export right", "the account"])
def test_a_requester_who_lost_the_right_before_the_worker_ran_gets_a_failed_export(
    client, masked_exporter, cases, loses
):
    client.force_login(masked_exporter)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "0", "resource": "0", "in_background": "on", **fields})
    if loses == "the account":
        masked_exporter.is_active = False
        masked_exporter.save()
    else:
        masked_exporter.user_permissions.remove(Permission.objects.get(codename="export_cases"))
    run_worker()
    failed = BackgroundExport.objects.get()
    assert failed.status == ExportStatus.FAILED and failed.content == "" and failed.rows is None
    assert failed.failure == "You may no longer export this list."
    assert not PersonalDataAccess.objects.exists()


# The notice -------------------------------------------------------------------------------------


def test_the_requester_is_told_once_on_the_next_page_when_the_file_is_ready(
    client, supervisor, cases
):
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields})
    index = reverse("admin:index")
    assert "rows) is ready" not in client.get(index).content.decode()  # not built yet
    run_worker()
    built = BackgroundExport.objects.get()
    page = client.get(index).content.decode()
    assert "Your export of reissue cases (XLSX, 3 rows) is ready." in page
    assert download_url(built) in page
    assert "rows) is ready" not in client.get(index).content.decode()  # told once


def test_a_page_costs_no_query_for_the_notice_once_nothing_is_pending(client, supervisor, cases):
    client.force_login(supervisor)
    in_background(client, fmt="csv")
    index = reverse("admin:index")
    with CaptureQueriesContext(connection) as pending:
        assert "rows) is ready" in client.get(index).content.decode()
    with CaptureQueriesContext(connection) as after:
        client.get(index)
    table = BackgroundExport._meta.db_table
    assert sum(table in query["sql"] for query in pending.captured_queries) == 1
    assert not any(table in query["sql"] for query in after.captured_queries)


def test_the_requester_is_told_of_a_failed_export_too(client, masked_exporter, cases):
    client.force_login(masked_exporter)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "0", "resource": "0", "in_background": "on", **fields})
    masked_exporter.is_active = False
    masked_exporter.save()
    run_worker()
    masked_exporter.is_active = True
    masked_exporter.save()
    page = client.get(reverse("admin:index")).content.decode()
    assert "failed: You may no longer export this list." in page


def test_my_exports_is_linked_from_every_admin_page(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{MY_EXPORTS}" id="my-exports-link"' in page
    assert client.get(MY_EXPORTS).status_code == 200


# Kept for a day ---------------------------------------------------------------------------------


def test_an_expired_export_is_not_given_and_the_purge_deletes_it(client, supervisor, cases):
    client.force_login(supervisor)
    old = in_background(client, fmt="csv")
    fresh = in_background(client, fmt="csv")
    past = timezone.now() - datetime.timedelta(minutes=1)
    BackgroundExport.objects.filter(pk=old.pk).update(expires_at=past)
    assert client.get(download_url(old)).status_code == 404
    assert purge_expired_exports.call() == "1 expired exports deleted"
    assert list(BackgroundExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert fresh.expires_at - fresh.finished_at == datetime.timedelta(days=1)


def test_the_purge_deletes_an_export_never_built_within_its_day(client, supervisor, cases):
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    for _ in range(2):
        client.post(EXPORT, {"format": "0", "resource": "0", "in_background": "on", **fields})
    stuck, waiting = BackgroundExport.objects.order_by("pk")
    BackgroundExport.objects.filter(pk=stuck.pk).update(
        status=ExportStatus.RUNNING, created_at=timezone.now() - datetime.timedelta(days=2)
    )
    assert services.purge_expired_exports() == 1
    assert list(BackgroundExport.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_the_purge_is_a_scheduled_job(settings):
    assert settings.SCHEDULED_JOBS["purge_expired_exports"]["task"] == (
        "exports.tasks.purge_expired_exports"
    )


# A worker that stops, a task run twice -----------------------------------------------------------


def test_a_task_run_twice_builds_once(client, supervisor, cases):
    client.force_login(supervisor)
    built = in_background(client, fmt="xlsx")
    assert build_background_export.call(built.pk) == "nothing to do"
    again = BackgroundExport.objects.get(pk=built.pk)
    assert (again.sha256, again.attempts, again.finished_at) == (
        built.sha256,
        1,
        built.finished_at,
    )
    assert PersonalDataAccess.objects.count() == 1


@services.export_source
def dies_mid_build(export_):
    raise SystemExit("the worker was killed")


def not_a_source(export_):
    raise AssertionError("a function not declared an export source was run")


def test_only_a_declared_export_source_is_run(client, supervisor, cases):
    client.force_login(supervisor)
    export_ = in_background(client, fmt="xlsx")
    BackgroundExport.objects.filter(pk=export_.pk).update(
        source=f"{__name__}.not_a_source", status=ExportStatus.QUEUED
    )
    with pytest.raises(ImproperlyConfigured):
        services.background_export_build(export_.pk)
    assert BackgroundExport.objects.get().status == ExportStatus.FAILED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_dying_mid_build_is_retried_and_builds_cleanly(client, supervisor, cases):
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields})
    export_ = BackgroundExport.objects.get()
    real_source = export_.source
    BackgroundExport.objects.filter(pk=export_.pk).update(source=f"{__name__}.dies_mid_build")
    with pytest.raises(SystemExit):
        services.background_export_build(export_.pk)
    assert BackgroundExport.objects.get().status == ExportStatus.RUNNING
    assert not PersonalDataAccess.objects.exists()  # nothing half-written
    # The worker machinery takes the task back from the silent worker (jobs.workers).
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    DBTaskResult.objects.filter(task_path=TASK_PATH).update(
        status=TaskResultStatus.RUNNING, worker_ids=["dead-worker"], started_at=long_ago
    )
    assert requeue_abandoned_tasks() == 1
    BackgroundExport.objects.filter(pk=export_.pk).update(source=real_source)
    assert run_worker() == 1
    built = BackgroundExport.objects.get()
    assert built.status == ExportStatus.DONE and built.attempts == 2 and built.rows == 3
    assert PersonalDataAccess.objects.count() == 1


# Bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["3", "-1", "xlsx", ""])
def test_a_forged_format_is_a_message_on_the_page_and_nothing_is_queued(
    client, supervisor, cases, fmt
):
    client.force_login(supervisor)
    response = client.post(
        EXPORT,
        {"format": fmt, "resource": "0", "in_background": "on", "caseresource_reference": "on"},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not BackgroundExport.objects.exists()


@override_settings(BACKGROUND_EXPORT_MAX_ROWS={"xlsx": 2, "json": 2, "csv": 3})
def test_a_background_export_above_its_formats_row_limit_fails_with_a_message(
    client, supervisor, cases
):
    client.force_login(supervisor)  # DC's three cases
    too_many = in_background(client, fmt="xlsx")
    assert too_many.status == ExportStatus.FAILED and too_many.content == ""
    assert too_many.failure == (
        "This export would have more than 2 rows, the limit for XLSX files. "
        "Narrow the list with filters or a search."
    )
    assert not PersonalDataAccess.objects.exists()  # no file, nothing logged
    assert "the limit for XLSX files" in client.get(MY_EXPORTS).content.decode()
    assert in_background(client, fmt="csv").status == ExportStatus.DONE  # 3: within CSV's
    narrowed = in_background(client, fmt="xlsx", query="?state__exact=reported")
    assert narrowed.status == ExportStatus.DONE and narrowed.rows == 2


@override_settings(BACKGROUND_EXPORTS_PER_USER=2)
def test_a_user_may_have_only_so_many_exports_being_built_at_once(
    client, supervisor, cases, office
):
    client.force_login(supervisor)
    data = {"format": FORMATS["csv"], "resource": "0", "in_background": "on"}
    data["caseresource_reference"] = "on"
    for _ in range(2):
        assert client.post(EXPORT, data)["Location"] == MY_EXPORTS
    response = client.post(EXPORT + "?state__exact=reported", data, follow=True)
    assert response.redirect_chain == [(EXPORT + "?state__exact=reported", 302)]
    assert "You already have 2 exports being built" in response.content.decode()
    assert BackgroundExport.objects.count() == 2
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2  # nothing queued
    # A colleague is not held up by them; and once they are built, the user may ask again.
    colleague = UserFactory(username="colleague", role="Supervisor", offices=[office])
    client.force_login(colleague)
    assert client.post(EXPORT, data)["Location"] == MY_EXPORTS
    run_worker()
    client.force_login(supervisor)
    assert client.post(EXPORT, data)["Location"] == MY_EXPORTS
    with pytest.raises(services.ExportRefused):
        for _ in range(2):
            services.background_export_request(
                requester=supervisor,
                model=ReissueCase,
                source="reissue.admin_exports.build_background_export",
                permission="reissue.export_cases",
                file_format="csv",
                params=[],
                columns=[],
            )
    assert BackgroundExport.objects.filter(requester=supervisor).count() == 4


def test_the_service_refuses_a_forged_format_and_a_user_without_the_right(supervisor, clerk):
    asked = {
        "model": ReissueCase,
        "source": "reissue.admin_exports.build_background_export",
        "permission": "reissue.export_cases",
        "params": [],
        "columns": [],
    }
    with pytest.raises(services.ExportRefused):
        services.background_export_request(requester=supervisor, file_format="exe", **asked)
    with pytest.raises(services.PermissionDenied):
        services.background_export_request(requester=clerk, file_format="csv", **asked)
    assert not BackgroundExport.objects.exists()


def test_forged_column_names_are_left_out(client, supervisor, cases):
    client.force_login(supervisor)
    response = client.post(
        EXPORT,
        {
            "format": "2",
            "resource": "0",
            "in_background": "on",
            "caseresource_reference": "on",
            "caseresource_applicant__id_number": "on",
        },
    )
    assert response.status_code == 302
    run_worker()
    rows = background_rows(client, BackgroundExport.objects.get())
    assert {tuple(row) for row in rows} == {("reference",)}


def test_invalid_filters_fail_the_export_with_a_message(client, supervisor, cases):
    client.force_login(supervisor)
    built = in_background(client, fmt="csv", query="?loss_date__gte=not-a-date")
    assert built.status == ExportStatus.FAILED
    assert built.failure == "The list's filters are not valid; export the list again."


def test_a_clerk_may_not_ask_for_a_background_export(client, clerk, cases):
    client.force_login(clerk)
    response = client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on"})
    assert response.status_code == 403 and not BackgroundExport.objects.exists()


def test_an_export_whose_task_failed_for_good_shows_failed_and_frees_its_place(
    client, supervisor, cases, settings
):
    settings.BACKGROUND_EXPORTS_PER_USER = 1
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields})
    stuck = BackgroundExport.objects.get()
    # Its worker died three times (jobs.workers): the task failed for good, the export stayed.
    DBTaskResult.objects.filter(task_path=TASK_PATH).update(status=TaskResultStatus.FAILED)
    BackgroundExport.objects.filter(pk=stuck.pk).update(status=ExportStatus.RUNNING)

    response = client.post(
        EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields}, follow=True
    )
    assert "the most at a time" not in response.content.decode()
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED
    assert stuck.failure == "The export could not be built; ask for it again."
    assert BackgroundExport.objects.filter(status=ExportStatus.QUEUED).count() == 1
    page = client.get(MY_EXPORTS).content.decode()
    assert str(ExportStatus.FAILED.label) in page


def test_the_hourly_purge_marks_failed_an_export_whose_task_failed(client, supervisor, cases):
    client.force_login(supervisor)
    fields = {f"caseresource_{name}": "on" for name in CaseResource().get_export_order()}
    client.post(EXPORT, {"format": "1", "resource": "0", "in_background": "on", **fields})
    DBTaskResult.objects.filter(task_path=TASK_PATH).update(status=TaskResultStatus.FAILED)
    assert services.purge_expired_exports() == 0  # kept for its day, to be seen failed
    assert BackgroundExport.objects.get().status == ExportStatus.FAILED
