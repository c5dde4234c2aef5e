"""Production settings: `check --deploy` is clean, and a missing or weak secret stops start-up."""

import base64
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.key_checks import DEVELOPMENT_FERNET_KEYS, DEVELOPMENT_SECRET_KEY, is_repetitive

GOOD = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/reissue_h1",
    "ALLOWED_HOSTS": "reissue.example.gov.cn",
    "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
    "ID_NUMBER_HASH_KEY": secrets.token_urlsafe(32),
    "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
    "AUDIT_CHECKPOINT_FILE": "/var/lib/reissue-checkpoints/audit.log",
    "PUBLIC_SITE_URL": "https://sbk.example.gov.cn",
}


def check_deploy(**environment) -> subprocess.CompletedProcess:
    """Run `manage.py check --deploy` with production settings and only `environment`."""
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    env.update({name: value for name, value in environment.items() if value is not None})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def error(result: subprocess.CompletedProcess) -> str:
    """Return the exception line that ended start-up."""
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


def test_check_deploy_finds_no_issue():
    result = check_deploy(**GOOD)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "DATABASE_URL",
        "FIELD_ENCRYPTION_KEYS",
        "ID_NUMBER_HASH_KEY",
        "AUDIT_CHAIN_KEY",
        "AUDIT_CHECKPOINT_FILE",
    ],
)
def test_start_up_fails_naming_a_missing_variable(name):
    assert error(check_deploy(**{**GOOD, name: None})) == (
        f"django.core.exceptions.ImproperlyConfigured: The environment variable {name} must be set."
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", secrets.token_urlsafe(30)),  # 40 characters
        ("SECRET_KEY", "django-insecure-" + secrets.token_urlsafe(50)),
        ("SECRET_KEY", "a" * 60),
        ("ID_NUMBER_HASH_KEY", "dev-only-id-number-hash-key-never-use-in-production"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key"),
        # The reviewer's example: 36 characters, 7 distinct ones.
        ("ID_NUMBER_HASH_KEY", "aaaaabbbbbcccccdddddeeeeefffffgggggg"),
        ("AUDIT_CHAIN_KEY", "Xk3_q9Lm2Z" * 4),  # a repeated block of 10 distinct characters
        ("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        ("FIELD_ENCRYPTION_KEYS", DEVELOPMENT_FERNET_KEYS[0]),
        ("FIELD_ENCRYPTION_KEYS", ",".join(DEVELOPMENT_FERNET_KEYS)),
        ("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(b"\x00" * 32).decode()),
    ],
    ids=[
        "short-key",
        "django-sample-key",
        "repetitive-key",
        "dev-hash-key",
        "bad-fernet-key",
        "few-distinct-characters",
        "repeated-block",
        "dev-secret-key",
        "dev-fernet-key",
        "dev-fernet-keys",
        "zero-fernet-key",
    ],
)
def test_start_up_fails_on_a_weak_secret(name, value):
    result = check_deploy(**{**GOOD, name: value})
    assert error(result).startswith(
        f"django.core.exceptions.ImproperlyConfigured: The environment variable {name} "
    )
    assert value not in result.stderr  # a secret never reaches the log


def test_start_up_refuses_debug_in_production():
    assert "DEBUG must not be on in production" in error(check_deploy(**GOOD, DEBUG="on"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("SECRET_KEY", "AUDIT_CHAIN_KEY"),
        ("SECRET_KEY", "ID_NUMBER_HASH_KEY"),
        ("ID_NUMBER_HASH_KEY", "AUDIT_CHAIN_KEY"),
    ],
)
def test_start_up_refuses_one_key_for_two_purposes(first, second):
    result = check_deploy(**{**GOOD, second: GOOD[first]})
    assert error(result) == (
        "django.core.exceptions.ImproperlyConfigured: The environment variables "
        f"{first} and {second} hold the same key; give each its own random value."
    )
    assert GOOD[first] not in result.stderr


@pytest.mark.parametrize(
    "value", [None, "http://sbk.example.gov.cn", "https://localhost:8000", "sbk.example.gov.cn"]
)
def test_check_deploy_refuses_a_public_site_url_not_set_or_not_https(value):
    # The rating links of the SMS and of the receipts' QR codes start with it.
    result = check_deploy(**{**GOOD, "PUBLIC_SITE_URL": value})
    assert result.returncode != 0
    assert "(reissue.E105) PUBLIC_SITE_URL must be the https address" in result.stderr


def test_random_keys_are_not_called_repetitive():
    assert not [key for _ in range(200) if is_repetitive(key := secrets.token_urlsafe(32))]


def test_check_deploy_reports_the_development_keys_in_any_settings(settings):
    settings.AUDIT_CHAIN_KEY = settings.SECRET_KEY
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--deploy", "--tag", "security")
    report = str(raised.value)
    for expected in [
        "(reissue.E102) SECRET_KEY is a public development or sample value.",
        "(reissue.E102) ID_NUMBER_HASH_KEY is a public development or sample value.",
        "(reissue.E103) FIELD_ENCRYPTION_KEYS (key 1) holds a public development key.",
        "(reissue.E104) SECRET_KEY and AUDIT_CHAIN_KEY hold the same key",
    ]:
        assert expected in report


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_start_up_fails_with_the_second_factor_off(value):
    assert error(check_deploy(**GOOD, OTP_REQUIRED=value)) == (
        "django.core.exceptions.ImproperlyConfigured: The environment variable OTP_REQUIRED "
        "must not be off in production: supervisors, auditors and administrators log in with "
        "a second factor."
    )
