"""One registration of an ID number at a time, whoever registers it (a clerk, the import).

On PostgreSQL a registration claims its numbers with a transaction-long advisory lock per
number, taken without waiting and before any other lock: a clerk and an import (or two clerks)
never both insert the same person, so neither waits for the other's insert while holding what
the other needs (a deadlock that PostgreSQL would break with an error). The one that finds the
number claimed is told so. SQLite has one writer at a time: there is nothing to claim.
"""

from collections.abc import Iterable

from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext_lazy as _

BEING_REGISTERED = _(
    "Someone else is registering or importing this ID number at this moment. Look it up again "
    "in a minute."
)


# The write passes' lock (`wait_for_other_imports`): negative, so no number's key is it.
IMPORT_KEY = -1
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock timeout


def _lock_key(digest: str) -> int:
    # 60 bits of the keyed hash: a non-negative bigint key.
    return int(digest[:15], 16)


def claim_id_numbers(digests: Iterable[str], *, until_released: bool = False) -> set[str]:
    """Claim the numbers (by hash) until the transaction ends; return those claimed by another.

    Never waits. Call it inside the transaction that registers them, before taking any lock.
    `until_released`: until `release_id_numbers` instead (the import's batch: one lock per row
    held to its commit would fill PostgreSQL's lock table; once its applicants are inserted,
    a clerk registering one of them waits for the import and is told "just registered").
    """
    keys = {_lock_key(digest): digest for digest in digests if digest}
    if not keys or connection.vendor != "postgresql":
        return set()
    assert connection.in_atomic_block, "an advisory claim lasts as long as its transaction"
    lock = "pg_try_advisory_lock" if until_released else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key FROM unnest(%s::bigint[]) AS key WHERE NOT {lock}(key)", [sorted(keys)]
        )
        return {keys[key] for (key,) in cursor.fetchall()}


def release_id_numbers() -> None:
    """Release the claims taken `until_released` (this connection's, all of them).

    They outlast a rollback: after one, call it outside the aborted transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")


def wait_for_other_imports(*, seconds: float) -> bool:
    """Wait up to `seconds` until no other import is writing, and keep the others waiting to
    the commit; return whether the wait ended so (False: another import is still writing).

    Imports are rare: one writing at a time never meets another's uncommitted people (a
    unique violation, or a deadlock, at its commit). One lock for the whole transaction,
    waited for (pg_locks shows who waits) under a lock timeout in a savepoint, so that
    giving up leaves the transaction usable and its own timeout as it was.
    """
    assert connection.in_atomic_block, "the lock lasts as long as its transaction"
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (before,) = cursor.fetchone()
        limit = f"{max(1, round(seconds * 1000))}ms"  # (0 would mean no limit)
        try:
            with transaction.atomic():
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [limit])
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_KEY])
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            return False  # (the savepoint's rollback put the timeout back)
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
    return True
