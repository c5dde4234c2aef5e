"""The Content-Security-Policy: only the app's own files, no inline code, no framing."""

import pytest
from django.urls import reverse

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {name: values for name, *values in directives}


@pytest.mark.parametrize(
    "url", ["admin:index", "admin:reissue_reissuecase_changelist", "admin:reissue_reissuecase_add"]
)
def test_admin_pages_carry_the_policy(client, clerk, url):
    client.force_login(clerk)
    response = client.get(reverse(url))
    assert response.status_code == 200
    assert policy(response) == EXPECTED


def test_the_log_in_page_carries_the_policy(client, db):
    assert policy(client.get(reverse("admin:login"))) == EXPECTED
