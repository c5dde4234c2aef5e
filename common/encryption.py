"""Encryption of personal data at rest, and the keyed hash that still lets us find it.

Keys come from settings (FIELD_ENCRYPTION_KEYS: Fernet keys, the first encrypts, all decrypt,
so a new key can be put first and old rows re-encrypted with `manage.py rotate_encryption_keys`;
ID_NUMBER_HASH_KEY: the HMAC key of the searchable hash). Read when first used, never at
import (the keyring again after a test changes the setting).

Values are written with AES-256-GCM, about five times cheaper per value than Fernet, as

    v2.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>

- "v2." never begins a Fernet token ("gAAAAA...") nor a plain ID or phone number;
- the key id (8 characters) names the key, so a value is opened by its key alone, and SQL can
  count which rows still wait for a rotation (`substr(id_number, 4, 8)`);
- the nonce is 96 random bits: safe for 2**32 values per key, far above our rows and rewrites;
- the associated data is the `context` (for a field: its table and column), so a value copied
  into another column does not decrypt there.

The AES key and the key id are derived (HKDF-SHA256) from each Fernet key, so no new setting
and the production key checks stay as they are. Fernet tokens of before still decrypt.
"""

import base64
import binascii
import functools
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

TOKEN_PREFIX = "v2."
FERNET_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, then a timestamp)
KEY_ID_LENGTH = 8  # base64 characters: 48 bits
HEAD = len(TOKEN_PREFIX) + KEY_ID_LENGTH + 1  # "v2." + key id + "."
NONCE_BYTES = 12
AES_KEY_INFO = b"reissue-desk field encryption: AES-256-GCM key"
KEY_ID_INFO = b"reissue-desk field encryption: key id"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


class DecryptionError(ValueError):
    """A stored value that cannot be read: tampered, truncated, moved, or of an unknown key."""


class UnknownKeyError(DecryptionError):
    """A value encrypted under a key that FIELD_ENCRYPTION_KEYS no longer lists."""


def _derive(fernet_key: str, info: bytes, length: int) -> bytes:
    # A Fernet key is 32 random bytes: HKDF needs no salt then (RFC 5869, 3.1); `info` keeps
    # each derived key to its one purpose.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info)
    return hkdf.derive(base64.urlsafe_b64decode(fernet_key))


def key_id(fernet_key: str) -> str:
    """Return the id that values encrypted under `fernet_key` carry (it reveals nothing of it)."""
    return base64.urlsafe_b64encode(_derive(fernet_key, KEY_ID_INFO, 6)).decode()


@dataclass(frozen=True)
class Keyring:
    """The ciphers of the configured keys: the first encrypts, all decrypt."""

    current_id: str
    ciphers: dict[str, AESGCM]
    fernet: MultiFernet


@functools.lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> Keyring:
    ciphers = {key_id(key): AESGCM(_derive(key, AES_KEY_INFO, 32)) for key in keys}
    if len(ciphers) != len(set(keys)):  # 2**-48 per pair of keys; never silently one for two
        raise ValueError("Two keys of FIELD_ENCRYPTION_KEYS have the same key id: replace one.")
    fernet = MultiFernet([Fernet(key) for key in keys])
    return Keyring(current_id=key_id(keys[0]), ciphers=ciphers, fernet=fernet)


_active: list[Keyring] = []  # the keyring of the settings in force; emptied when they change


def keyring() -> Keyring:
    """Return the keyring of FIELD_ENCRYPTION_KEYS, read at the first call.

    Kept, not looked up per value: reading a setting costs a fifth of a decryption.
    """
    if not _active:
        _active.append(_keyring(tuple(settings.FIELD_ENCRYPTION_KEYS)))
    return _active[0]


@receiver(setting_changed)
def _forget_keyring(*, setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":  # override_settings, pytest-django's `settings`
        _active.clear()


def current_token_prefix() -> str:
    """Return how every value encrypted now begins: the format, then the first key's id."""
    return f"{TOKEN_PREFIX}{keyring().current_id}."


def encrypt(text: str, *, context: bytes = b"") -> str:
    """Return the text encrypted with the current (first) key, bound to `context`."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[ring.current_id].encrypt(nonce, text.encode(), context)
    body = binascii.b2a_base64(nonce + sealed, newline=False).translate(_TO_URLSAFE)
    return f"{TOKEN_PREFIX}{ring.current_id}.{body.decode()}"


def decrypt(token: str, *, context: bytes = b"") -> str:
    """Return the plain text of a token made with any configured key for `context`.

    Raise DecryptionError (UnknownKeyError for a key no longer configured) rather than
    return anything but the text that was encrypted.
    """
    ring = keyring()
    if not token.startswith(TOKEN_PREFIX):
        return _decrypt_fernet(ring, token)
    token_key_id = token[len(TOKEN_PREFIX) : HEAD - 1]
    cipher = ring.ciphers.get(token_key_id)
    if cipher is None:
        raise UnknownKeyError(
            f"The value was encrypted under key id {token_key_id!r}, "
            "which FIELD_ENCRYPTION_KEYS does not hold (keep a retired key until rotated)."
        )
    if token[HEAD - 1 : HEAD] != ".":
        raise DecryptionError(_not_authentic(context))
    try:
        raw = binascii.a2b_base64(token[HEAD:].encode().translate(_FROM_URLSAFE), strict_mode=True)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context).decode()
    except (InvalidTag, ValueError) as error:  # binascii.Error and UnicodeError are ValueErrors
        raise DecryptionError(_not_authentic(context)) from error


def _decrypt_fernet(ring: Keyring, token: str) -> str:
    try:
        return ring.fernet.decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise DecryptionError(
            "The value is no Fernet token readable with any key of FIELD_ENCRYPTION_KEYS."
        ) from error


def _not_authentic(context: bytes) -> str:
    where = f" of {context.decode()}" if context else ""
    return (
        f"The encrypted value{where} is not authentic: altered, cut short, or copied from "
        "another column (a renamed table or column needs its values re-encrypted)."
    )


def looks_encrypted(value: str) -> bool:
    """Return whether `value` is a token of either format (AES-GCM or the older Fernet)."""
    return value.startswith((TOKEN_PREFIX, FERNET_PREFIX))


def keyed_hash(text: str) -> str:
    """Return the HMAC-SHA256 of the text: equal texts match, the text cannot be read back."""
    key = settings.ID_NUMBER_HASH_KEY.encode()
    return hmac.digest(key, text.encode(), "sha256").hex()  # as hmac.new(...).hexdigest()
