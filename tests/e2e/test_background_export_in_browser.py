"""An export asked for in the background, in a real browser, in Chinese: ticked on the export
page, built by the worker, announced on the next page, downloaded from My exports."""

import io

import openpyxl
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from exports.models import BackgroundExport
from exports.tasks import build_background_export
from tests.e2e.axe import describe, require_axe, serious_violations
from tests.e2e.test_counter_in_browser import authenticator
from tests.factories import register_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_export_built_in_the_background_is_announced_and_downloaded(
    open_counter, office, clerk, supervisor
):
    require_axe()
    cases = [register_case(clerk=clerk, office=office) for _ in range(2)]
    boss = open_counter("zh-hans", "supervisor")
    boss.log_in("supervisor", authenticator=authenticator(supervisor))
    page = boss.page
    page.goto(reverse("admin:reissue_reissuecase_export"))
    page.locator("#id_format").select_option(value="1")  # XLSX
    page.get_by_label(boss.label("Build it in the background")).check()
    page.get_by_role("button", name=boss.text("Submit")).click()
    page.wait_for_url(f"**{reverse('admin:exports_backgroundexport_changelist')}")
    expect(page.locator(".messagelist")).to_contain_text("正在生成")
    boss.screenshot("background-export-queued")

    (export,) = BackgroundExport.objects.all()
    build_background_export.call(export.pk)  # the worker, here in the test's process

    page.goto(reverse("admin:index"))
    notice = page.locator(".export-notices")
    expect(notice).to_contain_text("XLSX，2 行")
    with page.expect_download() as download:
        notice.get_by_role("link", name=boss.text("Download")).click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    references = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert references == {case.reference for case in cases}
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name=boss.text("My exports")).first.click()
    row = page.get_by_role("row").filter(has_text="XLSX")
    expect(row).to_contain_text("已就绪")
    boss.screenshot("background-export-ready")
    violations = serious_violations(page)
    assert not violations, describe(violations)
