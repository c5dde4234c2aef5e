"""One batch-produced card in a real browser, in Chinese: registered, ordered, sent to the card
bank in the production file, produced (the bank's return file imported), arrived, handed over,
and its collection receipt printed."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from common.id_numbers import mask_id_number
from reissue.models import CardBatch
from tests.e2e.test_counter_in_browser import (
    authenticator,
    expect_state,
    register_case,
    take_step,
)
from tests.factories import valid_id_number
from tests.reissue.test_card_batches import return_file

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def open_batch(counter, reference: str) -> None:
    page = counter.page
    page.goto(reverse("admin:reissue_cardbatch_changelist"))
    page.get_by_role("link", name=reference, exact=True).click()


def test_a_card_goes_through_the_card_bank_to_the_citizens_hands(
    open_counter, office, clerk, supervisor, tmp_path
):
    today = timezone.localdate()
    id_number = valid_id_number(5151)
    desk = open_counter("zh-hans", "clerk")
    desk.log_in("clerk")
    case = register_case(desk, id_number=id_number, loss_date=today - datetime.timedelta(days=10))
    take_step(desk, "Record new ID card")
    take_step(desk, "Order the new card from the card bank")
    expect_state(desk, "new card ordered")
    batch = CardBatch.objects.get()

    # The supervisor sends the batch: the file downloaded is the one the batch keeps.
    boss = open_counter("zh-hans", "supervisor")
    boss.log_in("supervisor", authenticator=authenticator(supervisor))
    open_batch(boss, batch.reference)
    with boss.page.expect_download() as download:
        boss.page.get_by_role(
            "button", name=boss.text("Send: download the production file")
        ).click()
    production = download.value.path().read_bytes()
    assert id_number.encode() in production  # the bank prints the card from it
    batch.refresh_from_db()
    boss.page.reload()
    expect(boss.page.locator("#batch-checksum")).to_have_text(batch.file_sha256)
    boss.screenshot("card-batch-sent")

    # The bank's answer comes back; the clerk imports it and records the cards' arrival.
    answer = tmp_path / "return.csv"
    answer.write_bytes(return_file(batch, production, numbers={0: "A20261201"}))
    open_batch(desk, batch.reference)
    desk.page.get_by_label(desk.label("Return file of the card bank")).set_input_files(answer)
    desk.page.get_by_role("button", name=desk.text("Import the return file")).click()
    imported = desk.text(
        "Return file imported: %(produced)d cards produced; %(missing)d cases of the "
        "batch still wait for theirs."
    ) % {"produced": 1, "missing": 0}
    expect(desk.page.locator(".messagelist")).to_contain_text(imported)
    desk.page.get_by_role("button", name=desk.text("Record the cards arrived")).click()
    arrived = desk.text("%(count)d cards recorded as arrived: their holders can collect them.")
    expect(desk.page.locator(".messagelist")).to_contain_text(arrived % {"count": 1})
    row = desk.page.get_by_role("row").filter(has_text=case.reference)
    expect(row).to_contain_text("A20261201")
    expect(row).to_contain_text(desk.text("new card at the office"))
    expect(row).not_to_contain_text(id_number)
    desk.screenshot("card-batch-arrived")

    # The citizen collects it: ID checked, and the receipt printed for their signature.
    desk.page.get_by_role("link", name=case.reference, exact=True).click()
    page = desk.page
    step = desk.text("Hand over the new card")
    page.get_by_role("button", name=step, exact=True).or_(
        page.get_by_role("link", name=step, exact=True)
    ).click()
    page.wait_for_url("**/step/**")
    desk.field("The collector's ID card was checked").check()
    page.get_by_role("button", name=step, exact=True).click()
    expect_state(desk, "SS card reissued")
    receipt = page.locator("#print-receipt")
    expect(receipt).to_be_visible()
    page.goto(receipt.get_attribute("href"))
    expect(page.locator("#receipt-card")).to_have_text("A20261201")
    expect(page.locator("#receipt-id-number")).to_have_text(mask_id_number(id_number))
    expect(page.locator("#receipt-holder")).to_have_text("王秀英")
    expect(page.locator("#receipt-activation")).to_contain_text("金融功能")
    expect(page.locator("#receipt")).not_to_contain_text(id_number)
    desk.screenshot("collection-receipt")
