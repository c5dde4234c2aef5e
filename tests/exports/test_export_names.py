"""Exports named for people: the office, what they hold and the day; yes/no as the CSV says."""

import datetime
import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone

from claims.resources import ExpenseClaimResource
from exports.files import attachment_header, sheet_title
from reissue.admin import PersonalDataAccessResource
from reissue.resources import CaseResource
from tests.exports.conftest import export, read_rows
from tests.factories import PolicyFactory, claim_with_items, register_case, reissued_case

ADMIN = "reissue_reissuecase"


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office, presented_hukou_book=True)


def utf8_name(response) -> str:
    header = response["Content-Disposition"]
    return unquote(header.split("filename*=UTF-8''", 1)[1])


def ascii_name(response) -> str:
    return response["Content-Disposition"].split('filename="', 1)[1].split('"', 1)[0]


def in_chinese(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    return client


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_a_file_is_named_by_office_what_and_day_in_the_users_language(
    client, supervisor, case, fmt
):
    client.force_login(supervisor)
    day = timezone.localdate().isoformat()
    response = export(in_chinese(client), ADMIN, CaseResource, fmt)
    assert utf8_name(response) == f"DC-补办案件-{day}.{fmt}"
    assert ascii_name(response) == f"DC-reissuecase-{day}.{fmt}"


def test_a_user_of_every_office_exports_all_unless_the_list_is_filtered_to_one(
    client, auditor, case, office
):
    client.force_login(in_chinese(client) and auditor)
    day = timezone.localdate().isoformat()
    assert utf8_name(export(client, ADMIN, CaseResource)) == f"全部-补办案件-{day}.csv"
    filtered = export(client, ADMIN, CaseResource, query=f"?office__id__exact={office.pk}")
    assert utf8_name(filtered) == f"DC-补办案件-{day}.csv"


def test_the_sheet_is_named_for_what_it_holds(client, supervisor, case):
    client.force_login(supervisor)
    response = export(in_chinese(client), ADMIN, CaseResource, "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [f"补办案件 DC {timezone.localdate().isoformat()}"]


def test_booleans_read_yes_and_no_in_the_xlsx_as_in_the_csv(client, supervisor, case):
    client.force_login(in_chinese(client) and supervisor)
    csv_row, xlsx_row = (
        read_rows(export(client, ADMIN, CaseResource, f))[0] for f in ("csv", "xlsx")
    )
    for column in ("已出示户口簿", "由代办人代为办理"):
        assert xlsx_row[column] == csv_row[column] and xlsx_row[column] in {"是", "否"}
    assert xlsx_row["已出示户口簿"] == "是"


def test_the_json_keeps_booleans_as_data(client, supervisor, case):
    client.force_login(supervisor)
    [row] = read_rows(export(client, ADMIN, CaseResource, "json"))
    assert row["hukou book presented"] is True


def test_a_claim_exports_receipts_eligibility_as_yes_or_no(
    client, clerk, reviewer, supervisor, office
):
    from claims import services as claim_services

    PolicyFactory(office=office)
    claim = claim_with_items(
        case=reissued_case(clerk=clerk, office=office), clerk=clerk, submit=True
    )
    claim_services.claim_approve(claim=claim, acting_user=reviewer)
    client.force_login(supervisor)
    response = export(client, "claims_expenseclaim", ExpenseClaimResource, "xlsx")
    [row] = read_rows(response)
    assert row["eligible"] in {"yes", "no"}
    assert utf8_name(response).startswith("DC-expense claims-")


def test_the_access_log_export_is_named_too(client, auditor):
    client.force_login(auditor)
    response = export(
        in_chinese(client), "audit_personaldataaccess", PersonalDataAccessResource, "xlsx"
    )
    day = timezone.localdate().isoformat()
    assert utf8_name(response) == f"全部-个人信息查阅记录-{day}.xlsx"
    assert ascii_name(response) == f"all-personaldataaccess-{day}.xlsx"


def test_a_sheet_title_fits_excels_rules():
    day = datetime.date(2026, 12, 1)
    title = sheet_title(
        office="DC", subject="a very long [subject]: with * and ? / \\ in it", day=day
    )
    assert len(title) <= 31 and title.endswith(" DC 2026-12-01")
    assert not set("[]:*?/\\") & set(title)


def test_an_ascii_name_has_no_utf8_form_and_quotes_are_never_passed_through():
    assert (
        attachment_header("DC-cases-2026-12-01.csv")
        == 'attachment; filename="DC-cases-2026-12-01.csv"'
    )
    header = attachment_header('全部"-x.csv', 'all"-x.csv')
    assert header.startswith("attachment; filename=\"all_-x.csv\"; filename*=UTF-8''")
