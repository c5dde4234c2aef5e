"""Forged POSTs: every change in the admin needs the CSRF token of the user's own page."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import register_case


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


@pytest.fixture
def browser(clerk):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)
    return browser


def step_url(case):
    return reverse("admin:reissue_reissuecase_step", args=[case.pk, "issue_temp_card"])


STEP = {"card_number": "TMP-1001", "expected_state": "reported"}


@pytest.mark.parametrize(
    "url",
    [step_url, lambda case: reverse("admin:reissue_reissuecase_change", args=[case.pk])],
    ids=["step", "change"],
)
def test_a_post_without_csrf_token_is_refused(browser, case, url):
    response = browser.post(url(case), {**STEP, "issued_on": timezone.localdate().isoformat()})
    assert response.status_code == 403 and "The form has expired" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "reported"


def test_the_same_post_with_the_token_goes_through(browser, case):
    browser.get(step_url(case))  # sets the CSRF cookie, as a browser opening the form would
    token = browser.cookies["csrftoken"].value
    data = {**STEP, "issued_on": timezone.localdate().isoformat(), "csrfmiddlewaretoken": token}
    assert browser.post(step_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.state == "temp_card_issued"
