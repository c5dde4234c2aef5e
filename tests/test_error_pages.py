"""Refusals and errors answer in the admin's frame, in the user's language, with a way back."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from config import errors
from tests.factories import register_case


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


def in_chinese(client: Client, url: str):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_an_unknown_address_is_a_translated_404_with_a_way_home(client, clerk):
    client.force_login(clerk)
    response = in_chinese(client, "/admin/reissue/no-such-page/x/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'id="error-page"' in page and 'id="error-home"' in page and 'id="user-tools"' in page
    assert "找不到" in page


def test_a_step_the_role_may_not_take_is_a_403_in_the_frame_saying_why(client, clerk, case):
    client.force_login(clerk)  # a clerk may not cancel
    response = in_chinese(
        client, reverse("admin:reissue_reissuecase_step", args=[case.pk, "cancel"])
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-page"' in page and 'id="user-tools"' in page and "不允许" in page


def test_an_expired_form_is_explained_not_a_bare_csrf_page(clerk, case):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)
    url = reverse("admin:reissue_reissuecase_step", args=[case.pk, "issue_temp_card"])
    response = browser.post(url, {"card_number": "TMP1"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-page"' in page and "CSRF" not in page and "过期" in page


@pytest.mark.django_db
def test_a_server_error_page_needs_no_database_and_leads_home(rf, django_assert_num_queries):
    request = rf.get("/admin/")
    with translation.override("zh-hans"), django_assert_num_queries(0):
        response = errors.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500 and 'href="/admin/"' in page and "出错" in page


def test_a_bad_request_is_explained_in_the_frame(rf, clerk):
    request = rf.get("/admin/")
    request.user = clerk
    with translation.override("zh-hans"):
        response = errors.bad_request(request)
    assert response.status_code == 400 and 'id="error-page"' in response.content.decode()


def test_a_request_for_an_unknown_host_is_a_400_page_not_a_500(client, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = client.get("/admin/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and 'id="error-page"' in response.content.decode()
