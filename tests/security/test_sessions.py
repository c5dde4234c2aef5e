"""Counter computers are shared: a session ends after 30 idle minutes, activity keeps it."""

import datetime
from contextlib import contextmanager
from unittest import mock

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

INDEX = reverse("admin:index")


@contextmanager
def minutes_later(start, minutes):
    later = start + datetime.timedelta(minutes=minutes)
    with mock.patch("django.utils.timezone.now", return_value=later):
        yield


def test_a_session_lasts_30_minutes_from_the_last_request(client, clerk):
    client.force_login(clerk)
    client.get(INDEX)
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 60
    assert client.session.get_expire_at_browser_close()


def test_a_session_ends_after_30_idle_minutes_but_not_while_in_use(client, clerk):
    client.force_login(clerk)
    start = timezone.now()
    with minutes_later(start, 29):
        assert client.get(INDEX).status_code == 200
    with minutes_later(start, 29 + 29):  # the previous request renewed it
        assert client.get(INDEX).status_code == 200
    with minutes_later(start, 29 + 29 + 31):
        response = client.get(INDEX)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def _session_writes(client, moment) -> int:
    """Return how many times one request wrote the session row, at the mocked `moment`."""
    with moment, CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    writes = [q for q in queries.captured_queries if "django_session" in q["sql"]]
    return sum(q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT")) for q in writes)


def test_the_session_is_written_at_most_once_a_minute_not_on_every_request(client, clerk):
    client.force_login(clerk)
    start = timezone.now()
    assert _session_writes(client, minutes_later(start, 0.5)) == 0  # the log-in renewed it
    assert _session_writes(client, minutes_later(start, 2)) == 1  # renewed again


def test_a_session_logged_in_before_the_backends_rename_stays_logged_in(client, clerk):
    # Sessions made by the release before name Django's ModelBackend; the upgrade keeps them.
    client.force_login(clerk)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    assert client.get(INDEX).status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == "common.auth_backends.OneQueryModelBackend"
    assert client.get(INDEX).status_code == 200


def test_a_session_naming_an_unknown_backend_is_logged_out(client, clerk):
    client.force_login(clerk)
    session = client.session
    session[BACKEND_SESSION_KEY] = "somewhere.else.Backend"
    session.save()
    response = client.get(INDEX)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
