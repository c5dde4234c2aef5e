"""The public pages on a phone (390x844): a citizen looks up their case, a hospital opens the
temporary card's code. Nothing runs off the screen, axe finds no serious problem, the CSP
blocks nothing, and the pages are in Chinese though the phone asks for nothing in particular.
"""

import pytest
from django.utils import timezone

from offices.models import Office
from reissue import services
from reissue.slip import temp_card_check_path
from tests.e2e.axe import describe, require_axe, serious_violations
from tests.factories import register_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="en-US",  # the pages are Chinese first all the same
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.refused_by_csp = refused
    yield page
    context.close()


def assert_fits_and_accessible(page, name: str) -> None:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"phone-{name}.png", full_page=True)
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, f"{name}: the page runs {overflow}px past the phone's screen"
    violations = serious_violations(page)
    assert not violations, describe(violations)
    assert page.refused_by_csp == []


@pytest.fixture
def case(office, clerk):
    Office.objects.filter(pk=office.pk).update(
        phone="010-12345678", opening_hours="周一至周五 上午9:00至下午5:00（法定节假日除外）"
    )
    return register_case(clerk=clerk, office=office)


def test_a_citizen_looks_up_their_case_on_a_phone(phone, case):
    require_axe()
    phone.goto("/public/card-progress/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert_fits_and_accessible(phone, "progress-form")

    phone.get_by_label("案件编号").fill(case.reference)
    phone.get_by_label("身份证号码后六位").fill("000000")
    phone.get_by_role("button", name="查询").click()
    assert phone.locator("#progress-not-found").is_visible()
    assert_fits_and_accessible(phone, "progress-not-found")

    phone.get_by_label("案件编号").fill(case.reference)
    phone.get_by_label("身份证号码后六位").fill(case.applicant.id_number[-6:])
    phone.get_by_role("button", name="查询").click()
    assert phone.locator("#progress-state").inner_text() == "已挂失"
    assert "010-12345678" in phone.locator("#progress-phone").inner_text()
    assert case.applicant.name not in phone.content()
    assert_fits_and_accessible(phone, "progress-shown")


def test_the_language_switch_turns_the_page_english(phone, case):
    phone.goto("/public/card-progress/")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_url("**/public/card-progress/")
    assert phone.locator("h1").inner_text() == "Where is my card?"


def test_a_hospital_opens_the_temporary_cards_code_on_a_phone(phone, case, clerk):
    require_axe()
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=timezone.localdate()
    )
    phone.goto(temp_card_check_path(case))
    assert phone.locator("#temp-card-verdict").inner_text() == "有效"
    assert phone.locator("#temp-card-holder").inner_text() == case.applicant.name[0] + "*" * (
        len(case.applicant.name) - 1
    )
    assert_fits_and_accessible(phone, "temp-card-valid")

    phone.goto("/public/temp-card/not-a-code/")
    assert "无效" in phone.locator("#temp-card-verdict").inner_text()
    assert_fits_and_accessible(phone, "temp-card-not-valid")
