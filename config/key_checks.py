"""What makes a key unfit for production: public, repetitive, or shared with another purpose.

Pure functions, used by the production settings at start-up and by `check --deploy`. They
never return or log a key itself.
"""

import base64
from collections.abc import Mapping

# Public in the repository (config/settings/dev.py): they protect nothing.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
DEVELOPMENT_ID_NUMBER_HASH_KEY = "dev-only-id-number-hash-key-never-use-in-production"
DEVELOPMENT_FERNET_KEYS = [
    "tqYYG_Vt3ujfj9dOeTzfD8rucOQkZneL5edDw07vH0o=",  # dev-only primary
    "GDkyJaghvu1nWpq41cCRhn7OaAATF4-yX9-_z05kGYk=",  # dev-only older key, for rotation
]
PUBLIC_KEYS = frozenset(
    [DEVELOPMENT_SECRET_KEY, DEVELOPMENT_ID_NUMBER_HASH_KEY, *DEVELOPMENT_FERNET_KEYS]
)
SAMPLE_PREFIXES = ("django-insecure-", "dev-only-")
# A random key of 32+ characters has ~25 distinct ones; "aaaaabbbbbccccc..." has 7.
MIN_DISTINCT = 10


def is_repetitive(value: str | bytes) -> bool:
    """Return whether `value` uses few distinct symbols or is one block repeated."""
    if len(set(value)) < MIN_DISTINCT:
        return True
    size = len(value)
    return any(
        size % block == 0 and value == value[:block] * (size // block)
        for block in range(1, size // 2 + 1)
    )


def secret_problem(value: str, min_length: int) -> str | None:
    """Return why `value` is unfit as a secret of `min_length`+ characters, or None."""
    if value in PUBLIC_KEYS or value.startswith(SAMPLE_PREFIXES):
        return "is a public development or sample value"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if is_repetitive(value):
        return "is repetitive (few distinct characters or a repeated block)"
    return None


def fernet_key_problem(key: str) -> str | None:
    """Return why a (well-formed) Fernet key is unfit for production, or None."""
    if key in PUBLIC_KEYS:
        return "holds a public development key"
    if is_repetitive(base64.urlsafe_b64decode(key)):
        return "holds a repetitive key (not made by Fernet.generate_key())"
    return None


def shared_keys(keys: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """Return each pair of names (variables) holding one same key: each key has one purpose."""
    pairs = []
    names = list(keys)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            if set(keys[first]) & set(keys[second]):
                pairs.append((first, second))
    return pairs
