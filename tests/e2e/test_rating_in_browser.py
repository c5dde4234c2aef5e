"""Rating the service (好差评) on a phone (390x844): the link from the SMS, five levels and a
comment, the thank-you page, then the polite refusal. Nothing runs off the screen, axe finds no
serious problem, the CSP blocks nothing, and the page is in Chinese."""

import pytest

from ratings.models import FollowUp, Rating
from reissue.rating_link import rating_path
from tests.e2e.axe import require_axe
from tests.e2e.test_public_pages_in_browser import (  # noqa: F401 (phone: a fixture)
    assert_fits_and_accessible,
    phone,
)
from tests.factories import reissued_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_citizen_rates_their_case_on_a_phone_once(phone, clerk, office):  # noqa: F811
    require_axe()
    case = reissued_case(clerk=clerk, office=office)
    link = rating_path(case)
    phone.goto(link)
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert phone.locator("#rating-office").inner_text() == office.name
    assert case.reference not in phone.content()
    assert_fits_and_accessible(phone, "rating-form")

    phone.get_by_role("button", name="提交评价").click()
    assert phone.locator("#id_level_error").is_visible()
    assert_fits_and_accessible(phone, "rating-no-level")

    phone.get_by_label("不满意", exact=True).check()
    phone.get_by_label("意见和建议（选填）").fill("排队太久，希望增开窗口。")
    phone.get_by_role("button", name="提交评价").click()
    assert phone.locator("#rating-thanks").is_visible()
    assert_fits_and_accessible(phone, "rating-thanks")
    rating = Rating.objects.get(case=case)
    assert rating.level == "dissatisfied" and rating.comment == "排队太久，希望增开窗口。"
    assert FollowUp.objects.filter(rating=rating).exists()

    phone.goto(link)
    assert phone.locator("#rating-already").is_visible()
    assert_fits_and_accessible(phone, "rating-already")

    phone.goto("/public/rate/not-a-link/")
    assert phone.locator("#rating-invalid").is_visible()
    assert_fits_and_accessible(phone, "rating-invalid")
