"""One registration of an ID number at a time, whoever registers it (a clerk, the import).

On PostgreSQL a registration claims its numbers with a transaction-long advisory lock per
number, taken without waiting and before any other lock: a clerk and an import (or two clerks)
never both insert the same person, so neither waits for the other's insert while holding what
the other needs (a deadlock that PostgreSQL would break with an error). The one that finds the
number claimed is told so. SQLite has one writer at a time: there is nothing to claim.
"""

from collections.abc import Iterable

from django.db import connection
from django.utils.translation import gettext_lazy as _

BEING_REGISTERED = _(
    "Someone else is registering or importing this ID number at this moment. Look it up again "
    "in a minute."
)


def _lock_key(digest: str) -> int:
    # 60 bits of the keyed hash: a bigint key, and no other advisory locks are taken here.
    return int(digest[:15], 16)


def claim_id_numbers(digests: Iterable[str]) -> set[str]:
    """Claim the numbers (by hash) until the transaction ends; return those claimed by another.

    Never waits. Call it inside the transaction that registers them, before taking any lock.
    """
    keys = {_lock_key(digest): digest for digest in digests if digest}
    if not keys or connection.vendor != "postgresql":
        return set()
    assert connection.in_atomic_block, "an advisory claim lasts as long as its transaction"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key FROM unnest(%s::bigint[]) AS key WHERE NOT pg_try_advisory_xact_lock(key)",
            [sorted(keys)],
        )
        return {keys[key] for (key,) in cursor.fetchall()}
