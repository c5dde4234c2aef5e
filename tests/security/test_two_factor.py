"""Two-factor log-in: a one-time code after the password for those who can see everything."""

import datetime
import re
import time
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from tests.factories import UserFactory
from twofactor import services
from twofactor.demo import demo_device_give

pytestmark = pytest.mark.real_second_factor  # no test-client shortcut here (tests/conftest.py)

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
CASES = reverse("admin:reissue_reissuecase_changelist")
VERIFY = reverse("two_factor:verify")
ENROL = reverse("two_factor:enrol")
PASSWORD = "Lantern-Orbit-1987"


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """Return the code the user's app shows now (or `steps_ahead` 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def staff(username, role=None, **fields):
    return UserFactory(username=username, role=role, password=PASSWORD, **fields)


def with_app(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def log_in(client, username, next_url=INDEX):
    data = {"username": username, "password": PASSWORD, "next": next_url}
    return client.post(LOGIN, data, REMOTE_ADDR="10.1.1.1")


def give_code(client, token, next_url=INDEX):
    return client.post(VERIFY, {"code": token, "next": next_url})


@pytest.fixture
def supervisor(office):
    return staff("supervisor", "Supervisor", offices=[office])


@pytest.fixture
def app(supervisor):
    return with_app(supervisor)


def test_a_supervisor_with_the_right_password_but_no_code_cannot_reach_the_admin(
    client, supervisor, app
):
    assert log_in(client, "supervisor").url == INDEX
    for page in (INDEX, CASES, reverse("two_factor:home")):
        response = client.get(page)
        assert response.status_code == 302
        assert response.url.startswith(VERIFY + "?next=")
    assert client.post(CASES, {}).url == VERIFY  # a POST is sent away too, without its data


def test_the_right_code_opens_the_admin_where_the_user_was_going(client, supervisor, app):
    log_in(client, "supervisor", next_url=CASES)
    page = client.get(f"{VERIFY}?next={CASES}")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()
    assert give_code(client, code(app), next_url=CASES).url == CASES
    assert client.get(CASES).status_code == 200
    assert client.get(INDEX).status_code == 200


@pytest.mark.parametrize("role", ["Auditor", None])
def test_auditors_and_superusers_are_asked_too(client, office, role):
    user = staff("boss", role, is_superuser=role is None)
    with_app(user)
    log_in(client, "boss")
    assert client.get(INDEX).url.startswith(VERIFY)


def test_a_code_leads_nowhere_outside_the_site(client, supervisor, app):
    log_in(client, "supervisor")
    assert give_code(client, code(app), next_url="https://evil.example/").url == INDEX


def test_a_wrong_code_is_refused_and_the_next_try_must_wait(client, supervisor, app):
    log_in(client, "supervisor")
    wrong = give_code(client, "000000" if code(app) != "000000" else "111111")
    assert wrong.status_code == 200
    assert "This code is not right" in wrong.content.decode()
    app.refresh_from_db()
    app.throttling_failure_timestamp = timezone.now()  # however slow this machine is
    app.save()
    throttled = give_code(client, code(app))  # right, but too soon after a wrong one
    assert "Too many wrong codes. Wait 1 second" in throttled.content.decode()
    assert client.get(INDEX).status_code == 302
    app.refresh_from_db()
    assert app.throttling_failure_count == 1
    assert not AccessAttempt.objects.exists()  # the password lock-out counts nothing of this

    app.throttling_failure_timestamp -= datetime.timedelta(seconds=2)
    app.save()
    assert give_code(client, code(app)).url == INDEX


def test_the_wait_doubles_with_each_wrong_code(client, supervisor, app):
    app.throttling_failure_count = 4
    log_in(client, "supervisor")
    app.throttling_failure_timestamp = timezone.now()
    app.save()
    response = give_code(client, code(app))
    assert re.search(r"Wait [678] seconds", response.content.decode())  # 2**3, less the time taken


def test_a_code_is_taken_only_once(client, supervisor, app):
    token = code(app)
    log_in(client, "supervisor")
    assert give_code(client, token).url == INDEX
    client.post(reverse("admin:logout"))
    log_in(client, "supervisor")
    assert give_code(client, token).status_code == 200  # seen before: refused
    assert client.get(INDEX).status_code == 302


def test_a_recovery_code_works_once(client, supervisor, app):
    first, *_rest = services.otp_recovery_codes_generate(user=supervisor)
    log_in(client, "supervisor")
    response = client.post(VERIFY, {"code": f"{first[:4]}-{first[4:].upper()}"}, follow=True)
    assert response.redirect_chain[-1][0] == INDEX
    assert "You logged in with a recovery code; 9 are left." in response.content.decode()
    client.post(reverse("admin:logout"))
    log_in(client, "supervisor")
    assert give_code(client, first).status_code == 200  # used: refused
    assert StaticDevice.objects.get(user=supervisor).throttling_failure_count == 1
    app.refresh_from_db()
    assert app.throttling_failure_count == 0  # a recovery code never counts against the app
    assert give_code(client, code(app)).url == INDEX


def test_new_recovery_codes_replace_the_old_ones(client, supervisor, app):
    old = services.otp_recovery_codes_generate(user=supervisor)
    log_in(client, "supervisor")
    give_code(client, code(app))
    page = client.post(reverse("two_factor:recovery_codes")).content.decode()
    new = list(StaticToken.objects.filter(device__user=supervisor).values_list("token", flat=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert all(f"{token[:4]}-{token[4:]}" in page for token in new)
    assert AuditEntry.objects.filter(action="recovery_codes_generated").count() == 2


def test_a_clerk_is_not_asked_unless_the_setting_says_so(client, office, settings):
    staff("clerk", "Clerk", offices=[office])
    log_in(client, "clerk")
    page = client.get(INDEX)
    assert page.status_code == 200 and reverse("two_factor:home") not in page.content.decode()

    settings.OTP_REQUIRED_FOR_ALL_STAFF = True
    assert client.get(INDEX).url.startswith(ENROL)


def test_nobody_is_asked_with_the_second_factor_off(client, supervisor, app, settings):
    settings.OTP_REQUIRED = False  # development settings only: production refuses it
    log_in(client, "supervisor")
    assert client.get(INDEX).status_code == 200


def test_a_supervisor_without_an_app_sets_it_up_confirming_with_a_code(client, supervisor):
    log_in(client, "supervisor")
    assert client.get(INDEX).url == f"{ENROL}?next=%2Fadmin%2F"
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=supervisor)
    assert not device.confirmed
    assert 'src="data:image/svg+xml' in page
    assert services.secret_for_typing(device) in page  # groups of four, to type
    reloaded = client.get(ENROL).content.decode()
    assert services.secret_for_typing(device) in reloaded  # a reload keeps the same secret
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1

    assert "This code is not right" in client.post(ENROL, {"code": "12345"}).content.decode()
    device.throttling_failure_timestamp = None
    device.save()
    codes_page = client.post(ENROL, {"code": code(device), "next": INDEX})
    assert StaticToken.objects.filter(device__user=supervisor).count() == 10
    assert "Recovery codes" in codes_page.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(INDEX).status_code == 200
    actions = list(AuditEntry.objects.filter(actor=supervisor).values_list("action", flat=True))
    assert actions == ["two_factor_enrolled", "recovery_codes_generated"]


def test_a_new_phone_needs_the_old_ones_code_first(client, supervisor, app):
    services.otp_recovery_codes_generate(user=supervisor)
    log_in(client, "supervisor")
    assert client.get(ENROL).url.startswith(VERIFY)
    give_code(client, code(app))
    client.get(ENROL)
    new = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert client.post(ENROL, {"code": code(new)}).url == INDEX
    assert list(TOTPDevice.objects.filter(user=supervisor)) == [new]  # the old one is gone
    assert client.get(INDEX).status_code == 200  # the session moved to the new device
    assert StaticToken.objects.filter(device__user=supervisor).count() == 10  # codes kept


def test_the_header_links_to_the_users_two_factor_page(client, supervisor, app):
    log_in(client, "supervisor")
    give_code(client, code(app))
    home = reverse("two_factor:home")
    assert f'href="{home}"' in client.get(INDEX).content.decode()
    assert "1 unused recovery code" not in client.get(home).content.decode()


@pytest.fixture
def administrator(client, db):
    administrator = staff("admin", is_superuser=True)
    app = with_app(administrator)
    log_in(client, "admin")
    give_code(client, code(app))
    return client


def test_an_administrator_reset_removes_the_devices_and_is_audited(
    administrator, client, supervisor, app
):
    services.otp_recovery_codes_generate(user=supervisor)
    reset = reverse("two_factor:reset", args=[supervisor.pk])
    change = reverse("admin:auth_user_change", args=[supervisor.pk])
    assert f'href="{reset}"' in administrator.get(change).content.decode()
    assert administrator.get(reset).status_code == 200
    assert administrator.post(reset, {"reason": ""}).status_code == 200  # a reason is required

    assert administrator.post(reset, {"reason": "phone lost"}).url == change
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    entry = AuditEntry.objects.get(action="two_factor_reset")
    assert entry.actor.username == "admin"
    assert (entry.content_type.model, entry.object_id) == ("user", supervisor.pk)
    assert entry.comment == "supervisor: phone lost"
    assert entry.action_display() == "two-factor log-in reset"
    call_command("verify_audit", stdout=StringIO())  # the chain holds (exit status 1 if not)


def test_no_admin_page_shows_the_secrets_of_the_devices(administrator):
    for model in ("otp_totp/totpdevice", "otp_static/staticdevice"):
        assert administrator.get(f"/admin/{model}/").status_code == 404


def test_a_reset_sends_a_logged_in_user_to_set_up_again(client, supervisor, app):
    log_in(client, "supervisor")
    give_code(client, code(app))
    services.otp_devices_reset(user=supervisor, acting_user=supervisor, reason="new phone")
    assert client.get(INDEX).url.startswith(ENROL)


def test_only_a_superuser_resets(client, supervisor, app, office):
    other = staff("other", "Supervisor", offices=[office])
    log_in(client, "supervisor")
    give_code(client, code(app))
    reset = reverse("two_factor:reset", args=[other.pk])
    assert client.get(reset).status_code == 403
    assert client.post(reset, {"reason": "x"}).status_code == 403


def test_the_demo_code_command_prints_the_demo_users_current_code(supervisor, settings):
    device = demo_device_give(user=supervisor)
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_otp_code", "supervisor")
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_otp_code", "supervisor", stdout=out)
    assert out.getvalue().strip() in {code(device), code(device, -1)}


def test_the_demo_code_command_refuses_a_real_authenticator(supervisor, app, settings):
    settings.DEBUG = True
    assert demo_device_give(user=supervisor) is None  # their own app stays
    with pytest.raises(CommandError, match="no demo authenticator"):
        call_command("demo_otp_code", "supervisor")
