"""The counter path with the keyboard alone: Tab, Shift+Tab, typing, Enter and Space.

The test never clicks and never focuses an element itself: it presses Tab until the control
it wants has the focus (reading which one has it, as a sighted user reads the ring), so a
control the keyboard cannot reach fails here.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reissue.models import ReissueCase
from tests.factories import valid_id_number

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MAX_TABS = 250  # a page's controls, a few times over

# What has the focus: its id, and the text or accessible name a user reads on it.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
  return {id: el.id, tag: el.tagName, text: text, type: el.type || ''};
}"""

# The focused control's ring: a keyboard user must see where they are.
RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          visible: document.activeElement.matches(':focus-visible')};
}"""


class Keyboard:
    def __init__(self, page) -> None:
        self.page = page
        self.keys = page.keyboard

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def tab_to(self, *, id: str = "", text: str = "", backwards: bool = False) -> None:
        """Press Tab (or Shift+Tab) until the control with this id or text has the focus."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(MAX_TABS):
            self.keys.press(key)
            now = self.focused()
            if now and ((id and now["id"] == id) or (text and now["text"] == text)):
                return
        raise AssertionError(f"the keyboard never reaches {id or text!r} on {self.page.url}")

    def type_into(self, id: str, value: str) -> None:
        self.tab_to(id=id)
        self.keys.type(value)

    def choose(self, id: str, label: str) -> None:
        """Move a focused <select> with the arrow keys until it shows the option `label`."""
        self.tab_to(id=id)
        shown = "() => document.activeElement.selectedOptions[0].text.trim()"
        for key in ["Home"] + ["ArrowDown"] * 30:
            self.keys.press(key)
            if self.page.evaluate(shown) == label:
                return
        raise AssertionError(f"{id}: no option {label!r}")

    def assert_ring(self) -> None:
        ring = self.page.evaluate(RING)
        assert ring["visible"], f"{self.focused()} is not :focus-visible"
        assert ring["style"] != "none" and ring["width"] >= 2, f"{self.focused()}: ring {ring}"


def take_step(counter, keyboard: Keyboard, step: str, **inputs: str | bool) -> None:
    """From the case page: Tab to the step's button, Enter, type its inputs, Enter to confirm."""
    name = counter.text(step)
    keyboard.tab_to(text=name)
    keyboard.assert_ring()
    keyboard.keys.press("Enter")
    counter.page.wait_for_url(re.compile(r"/step/"))
    for field_id, value in inputs.items():
        if value is True:  # a check box: Space ticks it
            keyboard.tab_to(id=field_id)
            keyboard.keys.press("Space")
        else:
            keyboard.type_into(field_id, value)
    keyboard.tab_to(text=name)  # the step form's submit button
    keyboard.assert_ring()
    keyboard.keys.press("Enter")
    done = counter.text("Done: %(step)s.") % {"step": name}
    expect(counter.page.get_by_text(done)).to_be_visible()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_clerk_takes_a_case_from_log_in_to_the_slip_with_the_keyboard_alone(
    open_counter, office, clerk, language
):
    desk = open_counter(language, "clerk-keyboard")
    page = desk.page
    keyboard = Keyboard(page)
    loss_date = timezone.localdate() - datetime.timedelta(days=10)

    page.goto("/admin/login/?next=/admin/")
    page.focus("body")  # the only focus the test gives; from here on it is keys only
    keyboard.type_into("id_username", "clerk")
    keyboard.type_into("id_password", "pw")
    keyboard.keys.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)

    keyboard.tab_to(id="register-case")
    keyboard.assert_ring()
    keyboard.keys.press("Enter")
    page.wait_for_url(re.compile(r"/reissuecase/add/"))
    keyboard.type_into("id_name", "王秀英")
    keyboard.type_into("id_id_number", valid_id_number(4343))
    keyboard.type_into("id_phone", "13912345678")
    keyboard.type_into("id_hukou_address", "北京市东城区和平里街道1号")
    keyboard.type_into("id_hukou_police_station", "和平里派出所")
    keyboard.choose("id_lost_items", desk.text("ID card and SS card"))
    keyboard.choose("id_loss_kind", desk.text("lost"))
    keyboard.type_into("id_loss_date", loss_date.isoformat())
    keyboard.tab_to(id="id_presented_hukou_book")
    keyboard.keys.press("Space")
    assert page.is_checked("#id_presented_hukou_book")
    keyboard.tab_to(text=desk.text("Save"))
    keyboard.assert_ring()
    keyboard.keys.press("Enter")
    page.wait_for_url(re.compile(r"/reissuecase/\d+/change/"))  # the new case's own page

    take_step(desk, keyboard, "Issue temporary card", id_card_number="TC-0001")
    take_step(desk, keyboard, "Record new ID card")
    take_step(
        desk,
        keyboard,
        "Make the new SS card at the counter",
        id_card_number="SS-0001",
        id_temp_card_returned=True,
    )
    case = ReissueCase.objects.get(applicant__name="王秀英")
    assert case.state == "ss_card_reissued"

    keyboard.tab_to(text=desk.text("Print slip"))
    keyboard.assert_ring()
    with desk.context.expect_page() as opened:
        keyboard.keys.press("Enter")
    slip = opened.value
    slip.wait_for_load_state()
    expect(slip.get_by_text(case.reference).first).to_be_visible()
