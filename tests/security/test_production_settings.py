"""Production settings: `check --deploy` is clean, and a missing or weak secret stops start-up."""

import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

GOOD = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/reissue_h1",
    "ALLOWED_HOSTS": "reissue.example.gov.cn",
    "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
    "ID_NUMBER_HASH_KEY": secrets.token_urlsafe(32),
    "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
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
    ],
    ids=["short-key", "django-sample-key", "repetitive-key", "dev-hash-key", "bad-fernet-key"],
)
def test_start_up_fails_on_a_weak_secret(name, value):
    result = check_deploy(**{**GOOD, name: value})
    assert error(result).startswith(
        f"django.core.exceptions.ImproperlyConfigured: The environment variable {name} "
    )
    assert value not in result.stderr  # a secret never reaches the log


def test_start_up_refuses_debug_in_production():
    assert "DEBUG must not be on in production" in error(check_deploy(**GOOD, DEBUG="on"))


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_start_up_fails_with_the_second_factor_off(value):
    assert error(check_deploy(**GOOD, OTP_REQUIRED=value)) == (
        "django.core.exceptions.ImproperlyConfigured: The environment variable OTP_REQUIRED "
        "must not be off in production: supervisors, auditors and administrators log in with "
        "a second factor."
    )
