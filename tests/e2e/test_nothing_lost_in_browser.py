"""Nothing typed is lost by taking a step, and a step taken twice says who took it, in a browser.

The texts looked for are the server's own translations, as in test_counter_in_browser.py.
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from claims.models import ExpenseClaim
from reissue.models import ReissueCase
from tests.e2e.test_counter_in_browser import TEMP_CARD_NUMBER, expect_state
from tests.factories import PolicyFactory, claim_with_items, register_case, reissued_case

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_receipt_typed_but_not_saved_goes_with_the_submitted_claim(
    open_counter, office, clerk, language
):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk)
    desk = open_counter(language, "clerk")
    desk.log_in("clerk")
    page = desk.page
    page.goto(reverse("admin:claims_expenseclaim_change", args=[claim.pk]))
    # The second row of the receipts inline, typed and not saved.
    page.locator("[name='items-1-provider']").fill("北京友谊医院")
    page.locator("[name='items-1-visit_date']").fill(case.loss_date.isoformat())
    page.locator("[name='items-1-receipt_number']").fill("R-TYPED-2")
    page.locator("[name='items-1-category']").select_option(label=desk.text("outpatient"))
    page.locator("[name='items-1-amount']").fill("88.00")
    step = desk.text("Submit for examination")
    page.get_by_role("button", name=step, exact=True).click()
    page.wait_for_url("**/step/submit/")
    expect(page.get_by_text(desk.text("Your changes were saved."))).to_be_visible()
    page.get_by_role("button", name=step, exact=True).click()
    expect(page.get_by_text(desk.text("Done: %(step)s.") % {"step": step})).to_be_visible()
    expect_state(desk, "submitted")
    desk.screenshot("nothing-lost-claim-submitted")
    claim = ExpenseClaim.objects.get(pk=claim.pk)
    assert claim.state == "submitted"
    assert "R-TYPED-2" in set(claim.items.values_list("receipt_number", flat=True))


def test_enter_in_a_field_of_the_case_page_saves_and_takes_no_step(open_counter, office, clerk):
    case = register_case(clerk=clerk, office=office)
    desk = open_counter("en", "clerk")
    desk.log_in("clerk")
    page = desk.page
    page.goto(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    desk.field("one-inch colour photo presented").check()
    desk.field("date of loss").press("Enter")
    page.wait_for_url(lambda url: "/change/" not in url)
    assert "/step/" not in page.url
    case.refresh_from_db()
    assert (case.presented_photo, case.state) == (True, "reported")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_step_taken_in_one_tab_is_explained_in_the_other(open_counter, office, clerk, language):
    clerk.first_name, clerk.last_name = "三", "张"
    clerk.save()
    case = register_case(clerk=clerk, office=office)
    desk = open_counter(language, "clerk")
    desk.log_in("clerk")
    url = reverse("admin:reissue_reissuecase_step", args=[case.pk, "issue_temp_card"])
    first, second = desk.page, desk.context.new_page()
    step = desk.text("Issue temporary card")
    for tab, number in ((first, "TC-0001"), (second, "TC-0002")):
        tab.goto(url)
        tab.get_by_label(desk.label(TEMP_CARD_NUMBER)).fill(number)
    first.get_by_role("button", name=step, exact=True).click()
    expect(first.get_by_text(desk.text("Done: %(step)s.") % {"step": step})).to_be_visible()

    second.get_by_role("button", name=step, exact=True).click()
    second.wait_for_url(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    taken = timezone.localtime(case.audit_entries.get(action="issue_temp_card").at)
    message = desk.text(
        "This step was already taken by %(who)s at %(time)s; the %(what)s is now “%(state)s”."
    ) % {
        "who": "三 张",
        "time": f"{taken:%H:%M}",
        "what": desk.text("reissue case"),
        "state": desk.text("temporary card issued"),
    }
    expect(second.get_by_text(message)).to_be_visible()
    desk.page = second
    expect_state(desk, "temporary card issued")  # the case page, in the admin's frame
    expect(second.get_by_role("link", name=desk.text("Reissue Desk")).first).to_be_visible()
    desk.screenshot("stale-second-tab")
    case = ReissueCase.objects.get(pk=case.pk)
    assert case.temp_card_number == "TC-0001"
    assert case.audit_entries.filter(action="issue_temp_card").count() == 1
