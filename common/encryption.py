"""Encryption of personal data at rest, and the keyed hash that still lets us find it.

Keys come from settings (FIELD_ENCRYPTION_KEYS: Fernet keys, the first encrypts, all decrypt,
so a new key can be put first and old rows re-encrypted with `manage.py rotate_encryption_keys`;
ID_NUMBER_HASH_KEY: the HMAC key of the searchable hash). Read at call time, never at import.
"""

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, then a timestamp)


@functools.lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    """Return the text encrypted with the current (first) key."""
    return cipher().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plain text of a token made with any configured key."""
    return cipher().decrypt(token.encode()).decode()


def looks_encrypted(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def keyed_hash(text: str) -> str:
    """Return the HMAC-SHA256 of the text: equal texts match, the text cannot be read back."""
    key = settings.ID_NUMBER_HASH_KEY.encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
