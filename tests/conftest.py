import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.append_only import flush_sql
from tests.factories import OfficeFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    if connection.vendor != "postgresql":
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def default_language():
    """Start each test in the default language: a request in Chinese leaves it active."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def flush_past_the_append_only_triggers():
    """Let the test runner empty the database between transactional tests.

    The audit tables refuse TRUNCATE (PostgreSQL) and DELETE (SQLite), which is what Django's
    flush runs; only the tests ever flush, so only they step around the triggers.
    """
    ops = type(connection.ops)
    original = ops.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        before, after = flush_sql(self.connection.vendor)
        return [*before, *statements, *after]

    ops.sql_flush = sql_flush
    yield
    ops.sql_flush = original


@pytest.fixture(autouse=True)
def _test_client_logins_give_the_second_factor(request, monkeypatch):
    """Let `client.login()`/`force_login()` users count as having given their one-time code.

    Only the test client's shortcut: a user who must use two-factor log-in gets a confirmed
    authenticator and its id in the session, as django_otp.login() puts it, so django-otp's
    middleware checks the device as for any log-in. Tests marked `real_second_factor` (and
    the browser tests) go through the real code page instead.
    """
    if request.node.get_closest_marker("real_second_factor"):
        return
    log_in = Client._login

    def _login(self, user, backend=None):
        log_in(self, user, backend)
        from twofactor.policy import otp_required

        required = otp_required(user)
        user.__dict__.pop("_otp_required", None)  # the test may change the user's groups next
        if required:
            device, _created = TOTPDevice.objects.get_or_create(
                user=user, name="test client", defaults={"confirmed": True}
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture
def office(db):
    return OfficeFactory(code="DC", name="Dongcheng")


@pytest.fixture
def other_office(db):
    return OfficeFactory(code="PD", name="Pudong")


@pytest.fixture
def clerk(office):
    return UserFactory(username="clerk", role="Clerk", offices=[office])


@pytest.fixture
def reviewer(office):
    return UserFactory(username="reviewer", role="Reviewer", offices=[office])


@pytest.fixture
def supervisor(office):
    return UserFactory(username="supervisor", role="Supervisor", offices=[office])


@pytest.fixture
def auditor(office):
    return UserFactory(username="auditor", role="Auditor", offices=[office])


@pytest.fixture
def other_clerk(other_office):
    return UserFactory(username="other_clerk", role="Clerk", offices=[other_office])


@pytest.fixture
def other_supervisor(other_office):
    return UserFactory(username="other_supervisor", role="Supervisor", offices=[other_office])
