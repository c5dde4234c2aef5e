"""Searching by a whole ID number: by POST and a token, never in a URL; counted, logged, limited."""

import datetime

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessKind, PersonalDataAccess
from common.id_numbers import compose_id_number
from reissue import services
from tests.factories import UserFactory, register_case
from tests.searching import search, search_url

CASES = "reissue_reissuecase"
APPLICANTS = "reissue_applicant"
CHANGELIST = reverse("admin:reissue_reissuecase_changelist")
AUTOCOMPLETE = reverse("admin:autocomplete")
NEW_NUMBER = compose_id_number("110101", datetime.date(1990, 1, 1), 123)


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def spaced(number: str) -> str:
    return f" {number[:6]} {number[6:14]} {number[14:].lower()} "


def searches() -> list[PersonalDataAccess]:
    return list(PersonalDataAccess.objects.filter(kind=AccessKind.SEARCH).order_by("sequence"))


@pytest.mark.parametrize("admin_name", [CASES, APPLICANTS])
def test_a_number_typed_with_blanks_finds_the_record_and_no_url_holds_it(
    clerk_client, case, admin_name
):
    number = case.applicant.id_number
    redirect, page = search(clerk_client, admin_name, spaced(number))
    assert "qt=" in redirect["Location"] and number[6:14] not in redirect["Location"]
    text = page.content.decode()
    assert case.applicant.name in text and number not in text
    assert f"Found by ID number {number[:6]}***********{number[-1]}" in text


def test_each_search_by_number_is_logged_with_the_user_the_time_and_the_number_masked(
    clerk_client, clerk, case
):
    number = case.applicant.id_number
    search(clerk_client, CASES, number)
    (logged,) = searches()
    assert logged.actor == clerk and logged.field == "id_number"
    assert (logged.content_type, logged.object_id, logged.case) == (None, None, None)
    assert (
        logged.reason == f"search by ID number {number[:6]}***********{number[-1]} (reissue cases)"
    )
    assert timezone.now() - logged.at < datetime.timedelta(minutes=1)
    assert logged.entry_hash == logged.compute_hash()


def test_the_list_keeps_its_filters_and_the_token_through_pages_and_exports(clerk_client, case):
    redirect, page = search(clerk_client, CASES, case.applicant.id_number, state="reported")
    assert "state=reported" in redirect["Location"]
    assert case.reference in page.content.decode()
    again = clerk_client.get(redirect["Location"] + "&o=1")  # sorting: still the one case
    assert case.reference in again.content.decode() and len(searches()) == 1


def test_a_name_or_a_partial_number_is_searched_as_before_and_not_logged(clerk_client, case):
    redirect, page = search(clerk_client, CASES, case.applicant.name)
    assert "q=" in redirect["Location"] and "qt=" not in redirect["Location"]
    assert case.reference in page.content.decode()
    _redirect, partial = search(clerk_client, CASES, case.applicant.id_number[:6])
    assert case.reference not in partial.content.decode()
    assert searches() == []


def test_much_of_a_number_is_neither_searched_nor_put_in_the_url(clerk_client, case):
    number = case.applicant.id_number
    for term in (number[:17], number[:14], number[6:14], number + "0"):
        redirect, page = search(clerk_client, CASES, term)
        assert redirect["Location"] == CHANGELIST
        assert "An ID number is searched whole: type all 18 characters." in page.content.decode()
    response = clerk_client.get(CHANGELIST, {"q": number[:14]})
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert searches() == []


def test_a_number_typed_into_the_url_is_not_searched(clerk_client, clerk, office, case):
    other = register_case(clerk=clerk, office=office)
    number = case.applicant.id_number
    response = clerk_client.get(CHANGELIST, {"q": number, "state": "reported"})
    assert response.status_code == 302 and number not in response["Location"]
    assert "state=reported" in response["Location"] and "q=" not in response["Location"]
    page = clerk_client.get(response["Location"]).content.decode()
    assert "Search by ID number with the search box." in page
    assert other.reference in page and searches() == []  # the whole list, unsearched


def test_an_unknown_or_expired_token_finds_nothing(clerk_client, client, case, other_clerk):
    redirect, _page = search(clerk_client, CASES, case.applicant.id_number)
    stranger = Client()
    stranger.force_login(other_clerk)  # another session: the token means nothing there
    response = stranger.get(redirect["Location"])
    assert response.status_code == 302
    assert "expired" in stranger.get(response["Location"]).content.decode()
    response = clerk_client.get(CHANGELIST, {"qt": "made-up"})
    assert response.status_code == 302


@override_settings(ID_NUMBER_SEARCH_LIMIT=3, ID_NUMBER_SEARCH_WINDOW=600)
def test_past_the_limit_a_search_by_number_is_refused_with_a_message(
    clerk_client, case, monkeypatch
):
    number = case.applicant.id_number
    for _ in range(3):
        search(clerk_client, CASES, number)
    redirect, page = search(clerk_client, CASES, number)
    text = page.content.decode()
    assert page.status_code == 200 and "qt=" not in redirect["Location"]
    assert "searched by ID number 3 times in the last 10 minutes" in text
    assert "Found by ID number" not in text and len(searches()) == 3
    # The window moves on: ten minutes later a search is allowed again.
    later = timezone.now() + datetime.timedelta(seconds=601)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    redirect, _page = search(clerk_client, CASES, number)
    assert "qt=" in redirect["Location"]


@override_settings(ID_NUMBER_SEARCH_LIMIT=2)
def test_the_limit_counts_the_lists_and_registration_together(clerk_client, case, office):
    search(clerk_client, APPLICANTS, case.applicant.id_number)
    search(clerk_client, CASES, case.applicant.id_number)
    data = {
        "office": office.pk,
        "name": "新人",
        "id_number": NEW_NUMBER,
        "phone": "13800138000",
        "hukou_address": "北京市",
        "hukou_police_station": "东城派出所",
        "lost_items": "ss_card",
        "loss_kind": "lost",
        "loss_date": timezone.localdate().isoformat(),
    }
    response = clerk_client.post(reverse("admin:reissue_reissuecase_add"), data)
    assert response.status_code == 200
    assert "searched by ID number 2 times" in response.content.decode()
    assert len(searches()) == 2


def test_registration_logs_its_look_up_of_the_number(clerk_client, clerk, office):
    register_case(clerk=clerk, office=office)  # through the service: no form, no look-up
    data = {
        "office": office.pk,
        "name": "新人",
        "id_number": NEW_NUMBER,
        "phone": "13800138000",
        "hukou_address": "北京市",
        "hukou_police_station": "东城派出所",
        "lost_items": "ss_card",
        "loss_kind": "lost",
        "loss_date": timezone.localdate().isoformat(),
    }
    response = clerk_client.post(reverse("admin:reissue_reissuecase_add"), data)
    assert response.status_code == 302
    (logged,) = searches()
    assert logged.reason == f"search by ID number 110101***********{NEW_NUMBER[-1]} (registration)"


def test_the_autocomplete_never_matches_an_id_number(clerk_client, case):
    params = {"app_label": "claims", "model_name": "expenseclaim", "field_name": "case"}
    by_number = clerk_client.get(AUTOCOMPLETE, {**params, "term": case.applicant.id_number})
    assert by_number.status_code == 200 and by_number.json()["results"] == []
    by_name = clerk_client.get(AUTOCOMPLETE, {**params, "term": case.applicant.name})
    assert [r["text"] for r in by_name.json()["results"]] == [case.reference]
    assert searches() == []


def test_the_search_box_posts_with_a_csrf_token_and_refuses_a_get(clerk, case):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)
    page = browser.get(CHANGELIST).content.decode()
    assert f'method="post" action="{search_url(CASES)}"' in page
    assert 'name="csrfmiddlewaretoken"' in page.split('id="changelist-search"')[1][:400]
    forged = browser.post(search_url(CASES), {"q": case.applicant.id_number})
    assert forged.status_code == 403 and searches() == []
    assert browser.get(search_url(CASES)).status_code == 405


def test_a_user_who_may_not_see_the_list_cannot_search_it(client, office, case):
    nobody = UserFactory(username="nobody", offices=[office])
    client.force_login(nobody)
    response = client.post(search_url(CASES), {"q": case.applicant.id_number})
    assert response.status_code == 403 and searches() == []


def test_auditors_read_the_searches_in_the_access_log(clerk_client, auditor, case):
    number = case.applicant.id_number
    search(clerk_client, CASES, number)
    reader = Client()
    reader.force_login(auditor)
    page = reader.get(reverse("admin:audit_personaldataaccess_changelist"), {"kind": "search"})
    text = page.content.decode()
    assert page.status_code == 200 and "search by ID number" in text
    assert f"{number[:6]}***********{number[-1]}" in text and number not in text
