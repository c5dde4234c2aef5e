"""A case from the counter to the payment, in a real browser, in English and in Chinese.

Every text the tests look for is the server's own translation (gettext in the user's
language), so a screen that shows English to a Chinese browser fails here; a few literal
Chinese texts make sure the catalogue really was used.
"""

import base64
import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from audit.models import PersonalDataAccess
from common.id_numbers import mask_id_number
from reissue.models import ReissueCase
from tests.factories import PolicyFactory, valid_id_number

pytestmark = [
    pytest.mark.e2e,
    # live_server needs real commits; the role groups made by migrations are put back after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LANGUAGES = ["en", "zh-hans"]
TEMP_CARD_NUMBER = "Temporary card or collection certificate number"  # the step's input label
# What the Chinese screens must literally show (from locale/zh_Hans), whatever gettext says.
CHINESE_STATES = {"reported": "已挂失", "ss_card_reissued": "社保卡已补办", "reimbursed": "已报销"}


def expect_state(counter, state_label: str) -> None:
    """Check the workflow panel's heading names the case's (or claim's) state."""
    workflow, state = counter.text("Workflow"), counter.text(state_label)
    heading = re.compile(rf"^\s*{re.escape(workflow)}\s*[:：]\s*{re.escape(state)}\s*$")
    expect(counter.page.get_by_role("heading", name=heading)).to_be_visible()


def take_step(counter, step: str, **inputs: str | bool) -> None:
    """Click the step's button on the case page, fill in its inputs (True: tick the box) and
    confirm it."""
    page = counter.page
    # A button of the change form where the user may change the page (its edits are saved
    # first), a link where they may only read it.
    name = counter.text(step)
    start = page.get_by_role("button", name=name, exact=True)
    start.or_(page.get_by_role("link", name=name, exact=True)).click()
    page.wait_for_url("**/step/**")
    for label, value in inputs.items():
        if value is True:
            counter.field(label).check()
        else:
            counter.field(label).fill(value)
    page.get_by_role("button", name=counter.text(step), exact=True).click()
    done = counter.text("Done: %(step)s.") % {"step": counter.text(step)}
    expect(page.get_by_text(done)).to_be_visible()


def register_case(clerk, *, id_number: str, loss_date: datetime.date) -> ReissueCase:
    """Fill in the case admin's add form as a clerk at the counter does."""
    page = clerk.page
    page.goto(reverse("admin:reissue_reissuecase_add"))
    clerk.field("name").fill("王秀英")
    clerk.field("resident ID number").fill(id_number)
    clerk.field("phone").fill("13912345678")
    clerk.field("household registration address").fill("北京市东城区和平里街道1号")
    clerk.field("police station of household registration").fill("和平里派出所")
    clerk.field("what was lost").select_option(label=clerk.text("ID card and SS card"))
    clerk.field("how").select_option(label=clerk.text("lost"))
    clerk.field("date of loss").fill(loss_date.isoformat())
    clerk.field("hukou book presented").check()
    clerk.screenshot("01-registration-form")
    page.get_by_role("button", name=clerk.text("Save and continue editing")).click()
    expect_state(clerk, "reported")
    return ReissueCase.objects.get(applicant__name="王秀英")


def enter_claim(clerk, *, visit_date: datetime.date) -> None:
    """From the case page, open the expense claim, add one receipt and submit it."""
    page = clerk.page
    enter = clerk.text("Enter an expense claim")
    page.get_by_role("button", name=enter).or_(page.get_by_role("link", name=enter)).click()
    # A tabular inline's inputs have no labels (the column headers name them): use their names.
    receipt = page.locator("[name='items-0-provider']").locator("xpath=ancestor::tr[1]")
    receipt.locator("[name='items-0-provider']").fill("北京协和医院")
    receipt.locator("[name='items-0-visit_date']").fill(visit_date.isoformat())
    receipt.locator("[name='items-0-receipt_number']").fill("R-2026-0815")
    receipt.locator("[name='items-0-category']").select_option(label=clerk.text("outpatient"))
    receipt.locator("[name='items-0-amount']").fill("300.00")
    clerk.screenshot("04-claim-form")
    page.get_by_role("button", name=clerk.text("Save and continue editing")).click()
    # The examination table lists the receipt as eligible: its visit lies in the case's window.
    examined = page.get_by_role("row").filter(has=page.get_by_text("R-2026-0815", exact=True))
    expect(examined).to_contain_text(clerk.text("yes"))
    take_step(clerk, "Submit for examination")
    expect_state(clerk, "submitted")


def open_claim_from_list(counter, reference: str, *, queue: str = "") -> None:
    page = counter.page
    page.goto(reverse("admin:claims_expenseclaim_changelist"))
    if queue:
        page.get_by_role("link", name=counter.text(queue)).click()
    page.get_by_role("link", name=reference, exact=True).click()


def authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_case_goes_from_the_counter_to_payment_and_export(
    open_counter, office, clerk, reviewer, supervisor, language, settings
):
    # This bureau asks a one-time code of every staff user, not only of supervisors.
    settings.OTP_REQUIRED_FOR_ALL_STAFF = True
    PolicyFactory(office=office)
    today = timezone.localdate()
    id_number = valid_id_number(4242)

    desk = open_counter(language, "clerk")
    desk.log_in("clerk", authenticator=authenticator(clerk))
    case = register_case(desk, id_number=id_number, loss_date=today - datetime.timedelta(days=10))
    if language == "zh-hans":
        expect(desk.page.get_by_role("heading", name=CHINESE_STATES["reported"])).to_be_visible()
    desk.screenshot("02-registered")
    take_step(desk, "Issue temporary card", **{TEMP_CARD_NUMBER: "TC-0001"})
    expect_state(desk, "temporary card issued")
    take_step(desk, "Record new ID card")
    expect_state(desk, "ID card reissued")
    # Made at the counter (即时制卡), the temporary card taken back.
    take_step(
        desk,
        "Make the new SS card at the counter",
        **{"New SS card number": "SS-0001", "The temporary card was handed back": True},
    )
    expect_state(desk, "SS card reissued")
    if language == "zh-hans":
        expect(
            desk.page.get_by_role("heading", name=CHINESE_STATES["ss_card_reissued"])
        ).to_be_visible()
    desk.screenshot("03-ss-card-reissued")
    enter_claim(desk, visit_date=today - datetime.timedelta(days=5))
    desk.screenshot("05-claim-submitted")

    examiner = open_counter(language, "reviewer")
    examiner.log_in("reviewer", authenticator=authenticator(reviewer))
    open_claim_from_list(examiner, case.reference, queue="Waiting for my examination")
    take_step(examiner, "Approve")
    expect_state(examiner, "approved")
    examiner.screenshot("06-claim-approved")

    boss = open_counter(language, "supervisor")
    boss.log_in("supervisor", authenticator=authenticator(supervisor))
    open_claim_from_list(boss, case.reference)
    take_step(boss, "Pay", **{"Payment reference": "PAY-2026-0001"})
    expect_state(boss, "paid")
    boss.screenshot("07-claim-paid")

    boss.page.goto(reverse("admin:reissue_reissuecase_changelist"))
    row = boss.page.get_by_role("row").filter(has_text=case.reference)
    expect(row).to_contain_text(boss.text("reimbursed"))
    expect(row).to_contain_text(mask_id_number(id_number))  # the list shows it masked to all
    expect(row).not_to_contain_text(id_number)
    if language == "zh-hans":
        expect(row).to_contain_text(CHINESE_STATES["reimbursed"])
    boss.screenshot("08-case-list")

    rows = export_case_list_as_csv(boss)
    line = next(r for r in rows if case.reference in r)
    assert boss.text("reimbursed") in line
    if language == "zh-hans":
        assert CHINESE_STATES["reimbursed"] in line
    # Supervisors may see full ID numbers, so their export holds them, and is access-logged.
    assert id_number in line
    assert PersonalDataAccess.objects.filter(actor=supervisor, field="export").exists()
    case.refresh_from_db()
    assert case.state == "reimbursed"


def export_case_list_as_csv(counter) -> list[list[str]]:
    """Click Export on the case list, choose CSV and return the downloaded rows."""
    page = counter.page
    page.get_by_role("link", name=counter.text("Export"), exact=True).click()
    counter.field("Format").select_option(label="csv")
    counter.screenshot("09-export-form")
    with page.expect_download() as download:
        page.get_by_role("button", name=counter.text("Submit")).click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_a_clerk_sees_no_export_button_and_switches_language(open_counter, office, clerk):
    desk = open_counter("en", "clerk")
    desk.log_in("clerk")
    page = desk.page
    page.goto(reverse("admin:reissue_reissuecase_changelist"))
    expect(page.get_by_role("link", name="Add reissue case")).to_be_visible()
    expect(page.get_by_role("link", name="Export", exact=True)).to_have_count(0)

    page.get_by_label("Language").select_option(value="zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    desk.language = "zh-hans"  # read the expected texts in the language chosen on the page
    expect(page.get_by_role("link", name=desk.text("Reissue Desk")).first).to_be_visible()
    expect(page.get_by_text("证卡补办系统").first).to_be_visible()
    desk.screenshot("10-switched-to-chinese")

    page.reload()  # the choice is kept for the session, whatever the browser asks for
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_label("语言").select_option(value="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Add reissue case")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_supervisor_sets_up_two_factor_log_in_at_the_first_log_in(
    open_counter, office, supervisor, language
):
    boss = open_counter(language, "supervisor")
    boss.log_in("supervisor")
    page = boss.page
    page.wait_for_url(lambda url: "/two-factor/enrol/" in url)
    qr = page.get_by_role("img", name=boss.text("QR code of the secret"))
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.naturalWidth") > 100  # the data: image passed the CSP
    secret = page.locator(".two-factor-secret").inner_text()
    boss.screenshot("11-two-factor-enrolment")
    boss.give_code(base64.b32decode(secret.replace(" ", "")), button="Confirm")
    expect(page.get_by_role("heading", name=boss.text("Recovery codes"))).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert {code.replace("-", "") for code in codes} == set(
        StaticToken.objects.filter(device__user=supervisor).values_list("token", flat=True)
    )
    page.get_by_role("link", name=boss.text("Continue")).click()
    expect(page.get_by_role("link", name=boss.text("Two-factor log-in"))).to_be_visible()
