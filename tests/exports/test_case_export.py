"""The case list's export: who may export, what they get, and how the file is sent."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from audit.models import AccessKind, PersonalDataAccess
from reissue import services
from reissue.models import ReissueCase
from reissue.resources import CaseResource
from tests.exports.conftest import BOM, export, read_rows
from tests.factories import ApplicantFactory, UserFactory, register_case, valid_id_number
from tests.searching import search

CHANGELIST = reverse("admin:reissue_reissuecase_changelist")
EXPORT = reverse("admin:reissue_reissuecase_export")
ADMIN = "reissue_reissuecase"


def masked(number: str) -> str:
    return number[:6] + "*" * (len(number) - 7) + number[-1:]


def export_cases(exporter, user, fmt="csv", query=""):
    return exporter(user, ADMIN, CaseResource, fmt, query)


@pytest.fixture
def masked_exporter(office):
    """A user who may export the cases of DC but not see full ID numbers."""
    user = UserFactory(username="exporter", offices=[office])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_reissuecase", "export_cases"])
    )
    return user


@pytest.fixture
def cases(clerk, office):
    """A reported case with an agent, and a cancelled one."""
    with_agent = register_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="王小明", phone="13912345678"),
        agent_acts=True,
        agent_name="李代办",
        agent_id_number=valid_id_number(901, region="310101"),
    )
    cancelled = register_case(clerk=clerk, office=office)
    supervisor = UserFactory(username="boss", role="Supervisor", offices=[office])
    services.case_cancel(case=cancelled, acting_user=supervisor, reason="卡片已找回")
    return [with_agent, cancelled]


@pytest.fixture
def foreign_case(other_clerk, other_office):
    return register_case(clerk=other_clerk, office=other_office)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_a_user_without_the_full_number_right_gets_every_number_masked(
    exporter, masked_exporter, cases, fmt
):
    rows, _response = export_cases(exporter, masked_exporter, fmt)
    case = cases[0]
    row = next(r for r in rows if r["reference"] == case.reference)
    assert row["ID number"] == masked(case.applicant.id_number)
    assert row["phone"] == "*******5678"
    assert row["agent's ID number"] == masked(case.agent_id_number)
    assert row["applicant"] == "王小明"
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_a_supervisor_gets_full_numbers_and_each_export_is_logged(exporter, supervisor, cases, fmt):
    rows, _response = export_cases(exporter, supervisor, fmt)
    case = cases[0]
    row = next(r for r in rows if r["reference"] == case.reference)
    assert row["ID number"] == case.applicant.id_number
    assert row["phone"] == "13912345678"
    assert row["agent's ID number"] == case.agent_id_number
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.field, access.object_id, access.case) == (
        supervisor,
        "export",
        0,
        None,
    )
    assert access.content_type == ContentType.objects.get_for_model(ReissueCase)
    assert access.reason == f"export of 2 reissue cases ({fmt.upper()}, no filters)"


def test_the_access_log_keeps_the_filters_with_a_searched_id_number_masked(
    client, exporter, auditor, cases
):
    number = cases[0].applicant.id_number
    client.force_login(auditor)
    redirect, _page = search(client, ADMIN, number)
    query = redirect["Location"][redirect["Location"].index("?") :]
    rows, _response = export_cases(exporter, auditor, query=query)
    assert [row["reference"] for row in rows] == [cases[0].reference]
    reason = PersonalDataAccess.objects.get(kind=AccessKind.EXPORT).reason
    assert reason == f"export of 1 reissue cases (CSV, q={masked(number)})"
    assert number not in reason


def test_an_export_holds_only_the_cases_of_the_users_offices(
    exporter, supervisor, other_supervisor, cases, foreign_case
):
    rows, _response = export_cases(exporter, supervisor)
    assert {row["reference"] for row in rows} == {case.reference for case in cases}
    assert {row["office"] for row in rows} == {"DC"}
    rows, _response = export_cases(exporter, other_supervisor)
    assert [row["reference"] for row in rows] == [foreign_case.reference]


def test_an_export_asking_for_another_office_by_filter_gets_none_of_its_cases(
    exporter, supervisor, cases, foreign_case
):
    query = f"?office__id__exact={foreign_case.office_id}"
    rows, _response = export_cases(exporter, supervisor, query=query)
    assert foreign_case.reference not in {row["reference"] for row in rows}
    assert {row["office"] for row in rows} <= {"DC"}


def test_an_auditor_exports_every_office(exporter, auditor, cases, foreign_case):
    rows, _response = export_cases(exporter, auditor)
    assert {row["office"] for row in rows} == {"DC", "PD"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_export_holds_only_the_rows_of_the_lists_filter(exporter, supervisor, cases, fmt):
    rows, _response = export_cases(exporter, supervisor, fmt, query="?state__exact=reported")
    assert [row["reference"] for row in rows] == [cases[0].reference]
    assert [row["state"] for row in rows] == ["reported"]
    reason = PersonalDataAccess.objects.get().reason
    assert reason == f"export of 1 reissue cases ({fmt.upper()}, state__exact=reported)"


def test_an_export_follows_the_lists_search(exporter, supervisor, cases):
    rows, _response = export_cases(exporter, supervisor, query="?q=王小")
    assert [row["applicant"] for row in rows] == ["王小明"]


def test_the_export_button_carries_the_lists_filters(client, supervisor, cases):
    client.force_login(supervisor)
    page = client.get(CHANGELIST, {"state__exact": "reported"}).content.decode()
    assert f'href="{EXPORT}?state__exact=reported"' in page


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_users_without_the_export_permission_are_refused_and_see_no_button(
    client, role, request, cases
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(EXPORT).status_code == 403
    assert export(client, ADMIN, CaseResource).status_code == 403
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and EXPORT not in page.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_a_supervisor_sees_the_export_button_and_page(client, supervisor):
    client.force_login(supervisor)
    assert EXPORT in client.get(CHANGELIST).content.decode()
    page = client.get(EXPORT)
    assert page.status_code == 200
    assert "agent&#x27;s ID number" in page.content.decode()  # columns offered by header


def test_the_csv_is_streamed_in_utf8_with_a_bom_and_not_cached(client, supervisor, cases):
    client.force_login(supervisor)
    response = export(client, ADMIN, CaseResource)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="DC-reissuecase-')
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))
    content = b"".join(response.streaming_content)
    assert content.startswith(BOM + b"reference,office,state,applicant,ID number")
    assert "王小明".encode() in content
    assert content.count(b"\r\n") == 3  # the header and two cases


def test_csv_cells_are_plain_text_in_the_users_language(exporter, supervisor, cases):
    rows, _response = export_cases(exporter, supervisor)
    row = next(r for r in rows if r["reference"] == cases[1].reference)
    assert row["state"] == "cancelled"
    assert row["what was lost"] == "ID card and SS card"
    assert row["an agent acts for the applicant"] == "no"
    assert row["reason for cancelling"] == "卡片已找回"
    assert row["date of loss"] == cases[1].loss_date.isoformat()
    assert datetime.datetime.strptime(row["reported at"], "%Y-%m-%d %H:%M:%S")


def test_a_chinese_user_gets_chinese_headers_and_labels(client, supervisor, cases):
    client.force_login(supervisor)
    response = export(client, ADMIN, CaseResource)
    response = client.post(
        response.request["PATH_INFO"],
        {
            "format": "0",
            "resource": "0",
            "caseresource_reference": "on",
            "caseresource_state": "on",
        },
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    rows = read_rows(response)
    assert list(rows[0]) == ["案件编号", "状态"]
    assert "已撤销" in {row["状态"] for row in rows} or len({row["状态"] for row in rows}) == 2


def test_an_export_holds_only_the_chosen_columns(client, supervisor, cases):
    client.force_login(supervisor)
    response = client.post(EXPORT, {"format": "0", "resource": "0", "caseresource_reference": "on"})
    rows = read_rows(response)
    assert rows == [{"reference": case.reference} for case in reversed(cases)]


def test_the_xlsx_keeps_dates_as_dates(exporter, supervisor, cases):
    rows, response = export_cases(exporter, supervisor, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))
    row = next(r for r in rows if r["reference"] == cases[1].reference)
    assert row["date of loss"].date() == cases[1].loss_date
    assert row["state"] == "cancelled"
    assert row["an agent acts for the applicant"] == "no"  # as in the CSV


def test_the_json_holds_one_object_per_case(exporter, supervisor, cases):
    rows, response = export_cases(exporter, supervisor, "json")
    assert response["Content-Type"] == "application/json"
    assert len(rows) == 2 and rows[0]["reference"] == cases[1].reference
    assert rows[0]["date of loss"] == cases[1].loss_date.isoformat()


@override_settings(EXPORT_IN_MEMORY_MAX_ROWS=1)
@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_an_in_memory_export_above_the_limit_goes_to_the_background(client, supervisor, cases, fmt):
    """Not built while the user waits (tests/exports/test_background_export.py: the file)."""
    client.force_login(supervisor)
    response = export(client, ADMIN, CaseResource, fmt)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:exports_backgroundexport_changelist")
    assert not PersonalDataAccess.objects.exists()  # logged when the worker builds it
    assert export(client, ADMIN, CaseResource, fmt, "?state__exact=reported").status_code == 200


@override_settings(EXPORT_IN_MEMORY_MAX_ROWS=1)
def test_csv_has_no_row_limit(exporter, supervisor, cases):
    rows, _response = export_cases(exporter, supervisor)
    assert len(rows) == 2


def test_the_csv_export_runs_the_same_queries_for_more_cases(client, supervisor, clerk, office):
    client.force_login(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            b"".join(export(client, ADMIN, CaseResource).streaming_content)
        return len(captured)

    register_case(clerk=clerk, office=office)
    queries()  # the process's caches (content types) filled, as after a server's first export
    few = queries()
    for _ in range(4):
        register_case(clerk=clerk, office=office)
    assert queries() == few


def test_a_bad_filter_returns_to_the_list_with_a_message(client, supervisor, cases):
    client.force_login(supervisor)
    response = export(client, ADMIN, CaseResource, "csv", "?loss_date__gte=not-a-date")
    assert response.status_code == 302 and response["Location"] == CHANGELIST
