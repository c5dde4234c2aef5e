"""At the counter's screen width (1,366 px) nothing runs off the page or is cut.

The claim page with its receipts, a case page with a long audit trail and the registration
form with a long address, screenshotted at 1366x768 into artifacts/screenshots/.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from reissue import services
from tests.factories import PolicyFactory, register_case, reissued_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COUNTER_SCREEN = {"width": 1366, "height": 768}
LONG_ADDRESS = (
    "内蒙古自治区呼和浩特市赛罕区大学东街敕勒川路街道办事处金桥开发"
    "区世纪十二路与腾飞南路交叉口东北角鹿港小区3号楼2单元1502室"
)
LONG_PROVIDER = "首都医科大学附属北京同仁医院（东区）眼科门诊部"

# How far the page reaches beyond the window, and the narrowest audit-trail cell, in em.
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
NARROWEST_TRAIL_CELL = """() => {
  const em = parseFloat(getComputedStyle(document.body).fontSize);
  const cells = [...document.querySelectorAll('#audit-trail th')];
  return Math.min(...cells.map(cell => cell.getBoundingClientRect().width)) / em;
}"""
# Inputs whose text is wider (or, in a text box, taller) than the box shows.
CUT_INPUTS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(box => box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1)
  .map(box => box.name)"""


def counter_screen(open_counter, who: str):
    desk = open_counter("zh-hans", who)
    desk.page.set_viewport_size(COUNTER_SCREEN)
    desk.log_in(who)
    return desk


def assert_fits(desk, name: str) -> None:
    desk.screenshot(f"1366-{name}")
    overflow = desk.page.evaluate(OVERFLOW)
    assert overflow <= 0, f"{name}: the page runs {overflow}px past the 1,366px screen"


def test_the_claim_page_with_receipts_fits_the_counter_screen(open_counter, office, clerk):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_services.claim_start(case=case, acting_user=clerk)
    for number in range(4):
        claim_services.claim_add_item(
            claim=claim,
            acting_user=clerk,
            provider=LONG_PROVIDER,
            visit_date=case.loss_date + datetime.timedelta(days=number % 2),
            receipt_number=f"BJTR-2026-0815-{number:06d}",
            category="outpatient",
            amount=Decimal("12345.67"),
        )
    desk = counter_screen(open_counter, "clerk")
    desk.page.goto(reverse("admin:claims_expenseclaim_change", args=[claim.pk]))
    assert_fits(desk, "claim")
    cut = desk.page.evaluate(CUT_INPUTS, "#items-group input[type=text]")
    assert not cut, f"the receipts table cuts {cut}"


def test_a_case_page_with_a_long_audit_trail_fits_the_counter_screen(open_counter, office, clerk):
    case = register_case(clerk=clerk, office=office)
    case = services.case_issue_temp_card(
        case=case,
        acting_user=clerk,
        card_number="TC-2026-000001",
        issued_on=timezone.localdate(),
        comment="申请人持户口簿原件到窗口办理，已核对本人身份并告知后续补办身份证及社保卡流程。"
        * 3,
    )
    for number in range(6):
        case = services.case_update(
            case=case,
            acting_user=clerk,
            data={
                "presented_photo": number % 2 == 0,
                "presented_id_card": number % 2 == 1,
                "converts_ic_card": number % 2 == 0,
            },
        )
    desk = counter_screen(open_counter, "clerk")
    desk.page.goto(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    assert_fits(desk, "case-audit-trail")
    narrowest = desk.page.evaluate(NARROWEST_TRAIL_CELL)
    assert narrowest > 6, f"an audit-trail column is {narrowest:.1f}em wide"


def test_the_registration_form_shows_a_long_address_whole(open_counter, office, clerk):
    desk = counter_screen(open_counter, "clerk")
    desk.page.goto(reverse("admin:reissue_reissuecase_add"))
    desk.field("household registration address").fill(LONG_ADDRESS)
    assert_fits(desk, "registration")
    cut = desk.page.evaluate(CUT_INPUTS, "[name=hukou_address]")
    assert not cut, "the address box cuts the address"
