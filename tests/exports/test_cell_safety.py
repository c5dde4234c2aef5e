"""Cells a spreadsheet would run as a formula stay text; characters XLSX cannot hold don't
break the file."""

import io

import openpyxl
import pytest

from reissue import services
from reissue.resources import AuditEntryResource, CaseResource
from tests.exports.conftest import export
from tests.factories import ApplicantFactory, UserFactory, register_case, valid_id_number

# Names keep these as typed; a tab or control character can only come in a comment (below).
FORMULAE = ['=HYPERLINK("http://example.com/x","点击")', "+1", "-1+2", "@SUM(A1:A9)"]


def case_named(clerk, office, name, **fields):
    return register_case(
        clerk=clerk, office=office, applicant=ApplicantFactory.build(name=name), **fields
    )


@pytest.mark.parametrize("text", FORMULAE)
def test_a_formula_in_the_csv_is_kept_as_text(exporter, supervisor, clerk, office, text):
    case_named(clerk, office, text)
    rows, _response = exporter(supervisor, "reissue_reissuecase", CaseResource)
    assert rows[0]["applicant"] == "'" + text


@pytest.mark.parametrize("text", FORMULAE)
def test_a_formula_in_the_xlsx_is_a_text_cell_not_a_formula(
    client, supervisor, clerk, office, text
):
    agent = {"agent_acts": True, "agent_name": text, "agent_id_number": valid_id_number(902)}
    case_named(clerk, office, text, **agent)
    client.force_login(supervisor)
    response = export(client, "reissue_reissuecase", CaseResource, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    for header in ("applicant", "agent's name"):
        cell = sheet.cell(row=2, column=headers.index(header) + 1)
        assert cell.data_type == "s" and cell.value == "'" + text


@pytest.mark.parametrize("text", FORMULAE)
def test_the_json_keeps_the_text_as_it_was_entered(exporter, supervisor, clerk, office, text):
    case_named(clerk, office, text)
    rows, _response = exporter(supervisor, "reissue_reissuecase", CaseResource, "json")
    assert rows[0]["applicant"] == text


def test_text_that_merely_contains_a_sign_is_left_alone(exporter, supervisor, clerk, office):
    case_named(clerk, office, "王=小明-1")
    for fmt in ("csv", "xlsx"):
        rows, _response = exporter(supervisor, "reissue_reissuecase", CaseResource, fmt)
        assert rows[0]["applicant"] == "王=小明-1"


@pytest.fixture
def comment_on_cancel(office, clerk):
    """Cancel a case with `comment` on the step; return the exporting supervisor."""

    def cancel(comment):
        case = register_case(clerk=clerk, office=office)
        boss = UserFactory(username="boss", role="Supervisor", offices=[office])
        services.case_cancel(case=case, acting_user=boss, reason="找回", comment=comment)
        return boss

    return cancel


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("comment", ["+1 电话确认", "\t=cmd|' /C calc'!A0"])
def test_a_formula_in_the_audit_trail_export_is_kept_as_text(
    exporter, comment_on_cancel, fmt, comment
):
    boss = comment_on_cancel(comment)
    rows, _response = exporter(boss, "audit_auditentry", AuditEntryResource, fmt)
    [cancel] = [row for row in rows if row["to state"] == "cancelled"]
    assert cancel["comment"] == "'" + comment


def test_control_characters_are_replaced_and_the_xlsx_still_opens(client, comment_on_cancel):
    boss = comment_on_cancel("电话\x07确认\x1b")
    client.force_login(boss)
    response = export(client, "audit_auditentry", AuditEntryResource, "xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    comments = [row[headers.index("comment")] for row in sheet.iter_rows(values_only=True)]
    assert "电话\N{REPLACEMENT CHARACTER}确认\N{REPLACEMENT CHARACTER}" in comments
