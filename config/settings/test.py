"""Test run: the same as dev, with a fast password hasher and English as the default."""

from .dev import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"

# Django's test client `login()` calls authenticate() without a request, which axes refuses;
# this backend lets those through. The lock-out tests post to the real log-in page.
AUTHENTICATION_BACKENDS = [
    "config.security.AxesBackendForTestClient",
    "common.auth_backends.OneQueryModelBackend",
]

# The backup tests make a throwaway key for this address in a temporary GNUPGHOME.
DBBACKUP_GPG_RECIPIENT = "backup-test@reissue-desk.invalid"

# Off by default: the checkpoint tests give each test a file of its own.
AUDIT_CHECKPOINT_FILE = ""

# A fuzzed form registers many people within one test; the limit's own tests set it low.
ID_NUMBER_SEARCH_LIMIT = 1000

# SMS notices go to memory (notifications.backends.development.outbox).
SMS_BACKEND = "notifications.backends.development.LocmemBackend"
