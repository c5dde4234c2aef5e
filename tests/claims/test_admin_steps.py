"""A step taken from the claim page never leaves typed receipts behind."""

import pytest
from django.urls import reverse

from tests.claims.test_admin import change_url, item_rows, receipt, step_url
from tests.factories import PolicyFactory, claim_with_items, reissued_case


@pytest.fixture
def claim(clerk, office):
    PolicyFactory(office=office)
    return claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)


def saved_and_typed(claim, typed: dict) -> dict:
    """Return the claim page's POST: its saved receipt unchanged, one more row typed."""
    item = claim.items.get()
    saved = {
        "id": item.pk,
        "claim": claim.pk,
        **receipt(item.receipt_number, str(item.amount), item.visit_date.isoformat()),
        "provider": item.provider,
    }
    return {**item_rows(saved, typed, initial=1), "_take_step": "submit"}


def test_a_step_button_saves_the_typed_receipt_first_then_opens_the_step(client, clerk, claim):
    client.force_login(clerk)
    typed = receipt("R-SECOND", "80.00", claim.case.loss_date.isoformat())
    response = client.post(change_url(claim), saved_and_typed(claim, typed))
    assert response.status_code == 302
    assert response["Location"] == step_url(claim, "submit")
    numbers = list(claim.items.values_list("receipt_number", flat=True))
    assert len(numbers) == 2 and "R-SECOND" in numbers
    claim.refresh_from_db()
    assert claim.state == "draft"  # the step's own page confirms it
    page = client.get(response["Location"]).content.decode()
    assert "Your changes were saved." in page


def test_a_bad_typed_receipt_keeps_the_page_and_takes_no_step(client, clerk, claim):
    client.force_login(clerk)
    typed = receipt("R-SECOND", "abc", claim.case.loss_date.isoformat())
    response = client.post(change_url(claim), saved_and_typed(claim, typed))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    claim.refresh_from_db()
    assert (claim.state, claim.items.count()) == ("draft", 1)


def test_the_claim_page_offers_its_steps_as_buttons_of_the_form(client, clerk, claim):
    client.force_login(clerk)
    page = client.get(change_url(claim)).content.decode()
    assert 'name="_take_step" value="submit" form="expenseclaim_form"' in page
    assert 'href="{}"'.format(step_url(claim, "submit")) not in page


def test_an_unknown_step_button_is_an_ordinary_save(client, clerk, claim):
    client.force_login(clerk)
    data = {**saved_and_typed(claim, receipt("R-3", "5.00", claim.case.loss_date.isoformat()))}
    data["_take_step"] = "https://example.com/"
    response = client.post(change_url(claim), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:claims_expenseclaim_changelist")
