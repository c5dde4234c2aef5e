"""Tamper evidence: records linked in a chain of keyed hashes.

Each record carries its place in the chain (`sequence`), the hash of the record before it and
its own hash, an HMAC over its content, the previous hash and its place. Changing, removing or
inserting a record breaks the chain at that point, and without the key nobody can forge a
record that fits. Appends are serialized by a row lock on the chain's head, so clerks writing
at the same moment never fork the chain. The head carries an HMAC too, so moving it back over a
cut tail needs the key; checkpoints kept outside the database (`checkpoints.py`) catch a head
put back from an old copy.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction


def chain_key() -> bytes:
    return (getattr(settings, "AUDIT_CHAIN_KEY", "") or settings.SECRET_KEY).encode()


class ChainHead(models.Model):
    """The last link of each chain, so that removing the newest records shows too."""

    name = models.CharField(max_length=20, primary_key=True)
    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    # HMAC of name, sequence and last hash: without the key, nobody moves the head back.
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "audit"

    def __str__(self) -> str:
        return f"{self.name} #{self.sequence}"

    def save(self, *args, **kwargs) -> None:
        # Signed whenever it moves, whoever moves it (chain_append, the legacy import).
        self.mac = self.compute_mac()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "mac"}
        super().save(*args, **kwargs)

    def compute_mac(self) -> str:
        return head_mac(self.name, self.sequence, self.last_hash)


def head_mac(name: str, sequence: int, last_hash: str) -> str:
    """Return the HMAC of a chain head (also used by the migration that signed the heads)."""
    message = f"head|{name}|{sequence}|{last_hash}".encode()
    return hmac.new(chain_key(), message, hashlib.sha256).hexdigest()


class ChainedRecord(models.Model):
    """An append-only record of a hash chain. Subclasses name their CHAIN and content."""

    CHAIN = ""
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False, blank=True)
    entry_hash = models.CharField(max_length=64, editable=False, blank=True)

    class Meta:
        abstract = True

    def chained_content(self) -> dict:
        """Return the fields the hash covers, as JSON-ready values."""
        raise NotImplementedError

    def prepare_for_chain(self) -> None:
        """Fill what the hash covers but the writer need not give (the actor's name)."""

    def compute_hash(self) -> str:
        message = json.dumps(
            [self.CHAIN, self.sequence, self.previous_hash, self.chained_content()],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hmac.new(chain_key(), message.encode(), hashlib.sha256).hexdigest()


def lock_chain_head(name: str) -> ChainHead:
    """Return the head of the chain `name`, row-locked until the transaction ends.

    Lock order: a transaction that appends to both chains locks the audit chain's head
    ("audit") before the access chain's ("access"), taking the audit head first when the access
    head would otherwise be locked first (a rating: rating_submit); the other order deadlocks on
    PostgreSQL against a transaction that keeps this one (card_batches).
    """
    return ChainHead.objects.select_for_update().get_or_create(name=name)[0]


def chain_extend(head: ChainHead, records: Iterable[ChainedRecord]) -> list[ChainedRecord]:
    """Link unsaved records, in order, after `head` and move the head (unsaved) past them.

    The caller holds the head locked (`lock_chain_head`), saves the records, then the head.
    """
    linked = []
    for record in records:
        record.prepare_for_chain()
        record.sequence = head.sequence + 1
        record.previous_hash = head.last_hash
        record.entry_hash = record.compute_hash()
        head.sequence, head.last_hash = record.sequence, record.entry_hash
        linked.append(record)
    return linked


def chain_append(record: ChainedRecord) -> ChainedRecord:
    """Link an unsaved record to the end of its chain and save it.

    In the caller's transaction where there is one, without a savepoint of its own: a record
    that fails to save fails the work it records (a savepoint cost a step two queries).
    """
    with transaction.atomic(savepoint=False):
        head = lock_chain_head(record.CHAIN)
        chain_extend(head, [record])
        record.save()
        head.save(update_fields=["sequence", "last_hash"])
    return record


@dataclass(frozen=True)
class ChainBreak:
    sequence: int
    record_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.sequence}" + (f" (id {self.record_id})" if self.record_id else "")
        return f"{where}: {self.problem}"


def verify_chain(model: type[ChainedRecord]) -> ChainBreak | None:
    """Walk the chain of `model` and return its first break, or None if it is whole."""
    expected_sequence, expected_previous = 1, ""
    for record in model.objects.order_by("sequence").iterator(chunk_size=2000):
        if record.sequence != expected_sequence:
            return ChainBreak(
                expected_sequence, None, f"removed (the chain jumps to #{record.sequence})"
            )
        if record.previous_hash != expected_previous:
            return ChainBreak(
                record.sequence, record.pk, "does not follow the entry before it (inserted?)"
            )
        if record.entry_hash != record.compute_hash():
            return ChainBreak(record.sequence, record.pk, "changed after it was written")
        expected_sequence, expected_previous = expected_sequence + 1, record.entry_hash
    return _head_break(model.CHAIN, expected_sequence - 1, expected_previous)


def _head_break(name: str, last: int, last_hash: str) -> ChainBreak | None:
    head = ChainHead.objects.filter(name=name).first()
    if head is None:
        return ChainBreak(last, None, "the chain's head is missing") if last else None
    if not head.mac and not head.sequence and not last:
        return None  # a chain never written to, whose head was made before heads were signed
    if not hmac.compare_digest(head.mac, head.compute_mac()):
        return ChainBreak(head.sequence, None, "the chain's head was changed (its MAC is wrong)")
    if head.sequence != last or head.last_hash != last_hash:
        return ChainBreak(last + 1, None, f"removed (the chain should end at #{head.sequence})")
    return None
