"""Production: every secret from the environment, HTTPS-only cookies, static files by WhiteNoise."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.key_checks import fernet_key_problem, secret_problem, shared_keys

from .base import *  # noqa: F403
from .base import OTP_REQUIRED, STORAGES, env_bool, env_list, fernet_keys, require_env


def require_secret(name: str, min_length: int) -> str:
    """Return the secret `name` from the environment, refusing a short, public or repetitive one."""
    value = require_env(name)
    problem = secret_problem(value, min_length)
    if problem:
        raise ImproperlyConfigured(
            f"The environment variable {name} {problem}: it must be a random value of at "
            f"least {min_length} characters (e.g. python -c 'import secrets; "
            f"print(secrets.token_urlsafe({min_length}))')."
        )
    return value


def require_fernet_keys(name: str) -> list[str]:
    """Return the Fernet keys `name`, refusing a public or repetitive one."""
    keys = fernet_keys(name, require_env(name))
    for key in keys:
        if problem := fernet_key_problem(key):
            raise ImproperlyConfigured(
                f"The environment variable {name} {problem}: make each with Fernet.generate_key()."
            )
    return keys


def refuse_shared_keys(keys: dict[str, list[str]]) -> None:
    """Fail start-up when two variables hold one same key (each key serves one purpose)."""
    for first, second in shared_keys(keys):
        raise ImproperlyConfigured(
            f"The environment variables {first} and {second} hold the same key; "
            "give each its own random value."
        )


if env_bool("DEBUG", False):
    raise ImproperlyConfigured("The environment variable DEBUG must not be on in production.")
DEBUG = False
if not OTP_REQUIRED:
    raise ImproperlyConfigured(
        "The environment variable OTP_REQUIRED must not be off in production: supervisors, "
        "auditors and administrators log in with a second factor."
    )
SECRET_KEY = require_secret("SECRET_KEY", 50)
require_env("DATABASE_URL")  # no silent fallback to a SQLite file in production
FIELD_ENCRYPTION_KEYS = require_fernet_keys("FIELD_ENCRYPTION_KEYS")
# ID numbers have little entropy: the hash is only as safe as this key is long and secret.
ID_NUMBER_HASH_KEY = require_secret("ID_NUMBER_HASH_KEY", 32)
# Its own key, so that rotating SECRET_KEY never makes the audit chain look broken.
AUDIT_CHAIN_KEY = require_secret("AUDIT_CHAIN_KEY", 32)
refuse_shared_keys(
    {
        "SECRET_KEY": [SECRET_KEY],
        "ID_NUMBER_HASH_KEY": [ID_NUMBER_HASH_KEY],
        "AUDIT_CHAIN_KEY": [AUDIT_CHAIN_KEY],
        "FIELD_ENCRYPTION_KEYS": FIELD_ENCRYPTION_KEYS,
    }
)
# Outside the database's reach (another host's mount, append-only), so a cut chain shows.
AUDIT_CHECKPOINT_FILE = require_env("AUDIT_CHECKPOINT_FILE")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Only a marker: a browser preloads nothing unless the parent domain is submitted to its list.
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
