"""Log-in: lock-out after repeated failures (django-axes) and the password rules."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from tests.factories import UserFactory

LOGIN = reverse("admin:login")
PASSWORD = "Lantern-Orbit-1987"


@pytest.fixture
def clerk(office):
    return UserFactory(username="clerk", role="Clerk", offices=[office], password=PASSWORD)


def log_in(client, password, ip="10.1.1.1", username="clerk"):
    data = {"username": username, "password": password, "next": reverse("admin:index")}
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


def fail(client, times) -> list[int]:
    """Log in with a wrong password `times` times; return the status codes."""
    return [log_in(client, "wrong").status_code for _ in range(times)]


def test_five_failures_lock_the_user_name_on_that_computer(client, clerk):
    assert fail(client, 4) == [200] * 4  # the form again, with its error
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed log-in attempts" in page and "30 minutes" in page
    assert log_in(client, PASSWORD).status_code == 429  # the right password does not help now


def test_a_lock_out_holds_only_for_that_computer(client, clerk):
    fail(client, 5)
    assert log_in(Client(), PASSWORD, ip="10.1.1.2").status_code == 302


def test_a_lock_out_ends_after_30_minutes(client, clerk):
    fail(client, 5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=31))
    assert log_in(client, PASSWORD).status_code == 302


def test_a_successful_log_in_resets_the_count(client, clerk):
    fail(client, 4)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, 4) == [200] * 4
    assert log_in(client, PASSWORD).status_code == 302


def test_the_test_client_login_still_works(client, clerk):
    assert client.login(username="clerk", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "10.9.9.9"),
        (0, "203.0.113.7", "10.9.9.9"),  # no proxy trusted: the header is ignored
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a forged entry on the left is skipped
        (1, "", "10.9.9.9"),  # came round the proxy
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(proxies, forwarded_for, expected):
    from config.security import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


@pytest.mark.parametrize(
    "password",
    ["Sh0rt!", "12345678901", "password123", "qwertyuiop", "clerk.dc.2026"],
    ids=["too-short", "numeric", "common", "common-keyboard", "like-the-user-name"],
)
def test_a_weak_password_is_refused(password, db):
    user = UserFactory.build(username="clerk.dc.2026")
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


def test_a_strong_password_is_accepted(db):
    validate_password(PASSWORD, user=UserFactory.build(username="clerk.dc"))
