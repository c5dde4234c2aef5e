"""The access log's export: a reason typed as a formula stays text; only safe formats offered."""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse
from import_export.admin import ExportMixin

from exports.files import escape_formula
from reissue import services
from reissue.admin import PersonalDataAccessResource
from reissue.admin_exports import EXPORT_FORMATS
from tests.exports.conftest import FORMATS, export
from tests.factories import register_case

EXPORT_URL = reverse("admin:audit_personaldataaccess_export")
REASONS = ['=HYPERLINK("http://x","y")', "＝1+1", "＋86 138", "－1", "＠SUM(A1)"]


@pytest.fixture
def logged_reasons(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office)
    for reason in REASONS:
        services.personal_data_reveal(
            case=case,
            number=services.RevealedNumber.APPLICANT_ID_NUMBER,
            acting_user=supervisor,
            reason=reason,
        )
    return case


def exported_reasons(response, fmt) -> list[str]:
    if fmt == "csv":
        content = (
            b"".join(response) if not response.streaming else b"".join(response.streaming_content)
        )
        return [row["reason"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("reason") + 1
    cells = [sheet.cell(row=row, column=column) for row in range(2, sheet.max_row + 1)]
    assert all(cell.data_type == "s" for cell in cells)  # text, not a formula
    return [cell.value for cell in cells]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_reason_typed_as_a_formula_is_exported_as_text(client, auditor, logged_reasons, fmt):
    client.force_login(auditor)
    response = export(client, "audit_personaldataaccess", PersonalDataAccessResource, fmt)
    assert response.status_code == 200
    assert sorted(exported_reasons(response, fmt)) == sorted("'" + r for r in REASONS)


@pytest.mark.parametrize("sign", ["\uff1d", "\uff0b", "\uff0d", "\uff20"])
def test_full_width_formula_signs_are_escaped_like_ascii_ones(sign):
    assert escape_formula(sign + "1+1") == "'" + sign + "1+1"
    assert escape_formula("王" + sign) == "王" + sign


def test_the_access_log_offers_only_csv_xlsx_and_json(client, auditor, logged_reasons):
    client.force_login(auditor)
    page = client.get(EXPORT_URL).content.decode()
    for offered in ("csv", "xlsx", "json"):
        assert f">{offered}<" in page
    for dropped in ("tsv", "html", "ods", "yaml", "xls<"):
        assert f">{dropped}" not in page


@pytest.mark.parametrize("index", ["3", "4", "-1", "x"])
def test_a_forged_format_index_is_refused_on_the_page(client, auditor, logged_reasons, index):
    client.force_login(auditor)
    response = client.post(EXPORT_URL, {"format": index, "resource": "0"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_every_export_in_the_admin_offers_only_the_escaping_formats():
    exporting = [a for a in admin.site._registry.values() if isinstance(a, ExportMixin)]
    assert len(exporting) >= 4
    for model_admin in exporting:
        assert model_admin.get_export_formats() == EXPORT_FORMATS, model_admin
    assert len(FORMATS) == len(EXPORT_FORMATS)
