"""The admin's import refuses files too big for a web request, at once and in little memory.

One test per kind of hostile upload of the security review (issue 9): too many bytes, an XLSX
whose parts unpack far larger than the upload, too many rows, an overlong cell, a forged
confirmation. Each asserts the refusal the user reads, a bounded memory peak (tracemalloc,
which sees every Python allocation, openpyxl's and the csv module's included) and that
nothing was written.
"""

import contextlib
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from reissue import legacy_import
from reissue.models import ImportUpload, ReissueCase

from .conftest import UTF8_HEADER, file_bytes, handmade_xlsx
from .test_admin_import import IMPORT, PROCESS, upload

MB = 1 << 20
PEAK_LIMIT = 50 * MB
GOOD_ROW = (
    "DC,张伟,110101198005171233,13800138000,北京市东城区幸福路1号,东城派出所,both,lost,2024-03-05,1"
)


@contextlib.contextmanager
def memory_peak():
    """Measure the peak of Python's allocations in the block, in bytes: `peak["bytes"]`."""
    peak = {}
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak["bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def csv_of(rows: list[str]) -> bytes:
    return ("\n".join([",".join(UTF8_HEADER), *rows]) + "\n").encode()


def refusal(response) -> str:
    """Return the errors shown on the import form (the page itself, not a 500)."""
    assert response.status_code == 200
    return " ".join(str(error) for error in response.context["form"].errors.get("import_file", []))


def assert_nothing_written() -> None:
    assert not ReissueCase.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not ImportUpload.objects.exists()


def test_upload_over_the_byte_limit_is_refused_before_it_is_read(client, supervisor, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = MB
    big = csv_of([GOOD_ROW] * 15_000)
    assert 1.5 * MB < len(big) < 1.65 * MB
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "big.csv", big)
    message = refusal(response)
    assert "This file is 1.6 MB; the browser imports files of at most 1 MB." in message
    assert "manage.py import_cases" in message
    assert peak["bytes"] < PEAK_LIMIT
    assert not response.context.get("result")  # not even checked
    assert_nothing_written()


def test_upload_form_states_the_limits(client, supervisor):
    client.force_login(supervisor)
    page = client.get(IMPORT).content.decode()
    assert "at most 20 MB and 20,000 rows" in page
    assert "more than 2,000 rows is checked and imported in the background" in page


def test_xlsx_whose_shared_strings_unpack_past_the_limit_is_refused_unopened(client, supervisor):
    # 60 MB of text packed into a few dozen KB: openpyxl would have read it all.
    bomb = handmade_xlsx([[0, 1], [2, 3]], strings=["office", "name", "DC"], huge_string=60 * MB)
    assert len(bomb) < 200_000
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "bomb.xlsx", bomb, fmt="xlsx")
    assert "This workbook unpacks to more than the browser reads at once" in refusal(response)
    assert peak["bytes"] < PEAK_LIMIT
    assert_nothing_written()


def test_xlsx_packed_like_a_zip_bomb_is_refused_even_under_the_size_limits(client, supervisor):
    bomb = handmade_xlsx([[0, 1], [2, 3]], strings=["office", "name", "DC"], huge_string=5 * MB)
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "bomb.xlsx", bomb, fmt="xlsx")
    assert "packed far more tightly than a spreadsheet can be" in refusal(response)
    assert peak["bytes"] < PEAK_LIMIT
    assert_nothing_written()


def test_xlsx_with_more_rows_than_the_browser_takes_points_to_the_command(
    client, supervisor, settings
):
    settings.IMPORT_MAX_BROWSER_ROWS = 1000
    sheet = handmade_xlsx(([1] for _ in range(20_000)), strings=["name", "x"])
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "many.xlsx", sheet, fmt="xlsx")
    message = refusal(response)
    assert "more than 1,000 rows" in message and "manage.py import_cases" in message
    assert peak["bytes"] < PEAK_LIMIT
    assert_nothing_written()


def test_csv_with_more_rows_than_the_browser_takes_points_to_the_command(
    client, supervisor, settings
):
    settings.IMPORT_MAX_BROWSER_ROWS = 1000
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "many.csv", csv_of([GOOD_ROW] * 5000))
    message = refusal(response)
    assert "more than 1,000 rows" in message and "manage.py import_cases" in message
    assert peak["bytes"] < PEAK_LIMIT
    assert_nothing_written()


def test_blank_rows_do_not_count_but_cannot_run_on_without_end(client, supervisor, settings):
    settings.IMPORT_MAX_BROWSER_ROWS = 10
    client.force_login(supervisor)
    assert upload(client, "ok.csv", csv_of([GOOD_ROW, *[",,"] * 50])).context["confirm_form"]
    ImportUpload.objects.all().delete()
    response = upload(client, "blank.csv", csv_of([GOOD_ROW, *[",,"] * 200]))
    assert "more than 10 rows" in refusal(response)


@pytest.mark.parametrize(
    ("length", "where"),
    [
        (1001, "row 2, name"),  # over our limit
        (200_000, "row 2"),  # over the csv module's own limit (128 KB) too
    ],
)
def test_csv_cell_over_the_limit_is_refused_with_its_row_and_column(
    client, supervisor, length, where
):
    row = GOOD_ROW.replace("张伟", "张" * length)
    client.force_login(supervisor)
    with memory_peak() as peak:
        response = upload(client, "long.csv", csv_of([row]))
    message = refusal(response)
    assert where in message and "more than 1,000 characters" in message
    assert "encountered while trying to read file" not in message
    assert "张" * 100 not in response.content.decode()
    assert peak["bytes"] < PEAK_LIMIT
    assert_nothing_written()


def test_xlsx_cell_over_the_limit_is_refused_with_its_row_and_column(client, supervisor):
    sheet = handmade_xlsx([[0, 1], [2, 3]], strings=["office", "name", "DC", "张" * 5000])
    client.force_login(supervisor)
    message = refusal(upload(client, "long.xlsx", sheet, fmt="xlsx"))
    assert "row 2, name: a cell holds more than 1,000 characters" in message
    assert_nothing_written()


def test_preview_shows_long_cells_cut_short(client, supervisor):
    row = GOOD_ROW.replace("北京市东城区幸福路1号", "路" * 900)  # longer than the field allows
    client.force_login(supervisor)
    page = upload(client, "long.csv", csv_of([row])).content.decode()
    assert "Some rows cannot be imported" in page
    # The problem names the column by its label; the cell itself is never echoed in full.
    assert "Household registration address (hukou_address)" in page
    assert "路" * 200 not in page


def test_preview_lists_only_the_first_bad_rows_and_counts_the_rest(client, supervisor, settings):
    settings.IMPORT_MAX_ERRORS_LISTED = 2
    bad = GOOD_ROW.replace("DC,", "ZZ,")
    client.force_login(supervisor)
    response = upload(client, "bad.csv", csv_of([bad] * 5))
    assert len(response.context["result"].invalid_rows) == 2
    assert "… and 3 more rows with errors, not listed here." in response.content.decode()
    assert_nothing_written()


@pytest.mark.parametrize("forged", ["7", "-1", "x", ""])
def test_confirmation_with_a_forged_format_is_refused_not_a_server_error(
    client, supervisor, forged
):
    client.force_login(supervisor)
    initial = upload(client, "utf8.csv").context["confirm_form"].initial
    response = client.post(PROCESS, {**initial, "format": forged}, follow=True)
    assert response.redirect_chain == [(IMPORT, 302)]
    assert "This confirmation is not valid. Upload the file again." in response.content.decode()
    assert not ReissueCase.objects.exists()


def test_confirmation_with_the_other_format_is_refused_not_a_server_error(client, supervisor):
    client.force_login(supervisor)
    initial = upload(client, "utf8.csv").context["confirm_form"].initial
    response = client.post(PROCESS, {**initial, "format": "1"}, follow=True)
    assert response.redirect_chain == [(IMPORT, 302)]
    assert "not an Excel .xlsx workbook" in response.content.decode()
    assert not ReissueCase.objects.exists()


def test_audit_trail_names_the_uploaded_file_not_the_name_the_confirmation_posts(
    client, supervisor
):
    client.force_login(supervisor)
    initial = (
        upload(client, "\u202e旧案件.csv", file_bytes("utf8.csv")).context["confirm_form"].initial
    )
    forged = '\u202e=HYPERLINK("http://x")' + "x" * 5000
    response = client.post(PROCESS, {**initial, "original_file_name": forged})
    assert response.status_code == 302
    comments = set(AuditEntry.objects.values_list("comment", flat=True))
    assert comments == {
        "Imported from the legacy file “旧案件.csv”, row 2.",
        "Imported from the legacy file “旧案件.csv”, row 3.",
    }


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("legacy 2024.xlsx", "legacy 2024.xlsx"),
        ("C:\\Users\\clerk\\cases.csv", "cases.csv"),
        ("../../etc/cases.csv", "cases.csv"),
        ("\u202excod.csv", "xcod.csv"),
        ("=SUM(A1)+cmd.csv", "SUM(A1)+cmd.csv"),
        ("ｃａｓｅｓ\u200b\x00.csv", "cases.csv"),
        ("a" * 300 + ".csv", "a" * 99 + "…"),
    ],
)
def test_clean_file_name(name, cleaned):
    assert legacy_import.clean_file_name(name) == cleaned


def test_limits_and_the_uncounted_rows_read_in_chinese(client, supervisor, settings):
    settings.IMPORT_MAX_ERRORS_LISTED = 1
    client.force_login(supervisor)
    page = client.get(IMPORT, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "请上传不超过 20 MB、不超过 20,000 行的 .csv 或 .xlsx 文件" in page
    bad = GOOD_ROW.replace("DC,", "ZZ,")
    response = upload_in_chinese(client, csv_of([bad] * 3))
    assert "……另有 2 行有误，未在此列出。" in response.content.decode()


def upload_in_chinese(client, data: bytes):
    return client.post(
        IMPORT,
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("bad.csv", data)},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
