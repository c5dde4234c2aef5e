"""Checkpoints of the hash chains, kept outside the database.

A chain and its signed head can still be cut back together to an older state (a head copied
from a backup fits the shorter chain). So once a day `manage.py audit_checkpoint` appends one
signed line per chain to AUDIT_CHECKPOINT_FILE, a file the database's roles cannot write:

    2026-12-01T02:00:00Z audit 206 <hash of entry #206> <HMAC of the line, chain key>

`verify_audit` checks the chain against the latest valid line: the entry at that place must
still be there, with that hash. A cut tail, emptied tables and a wiped head all fail it.
"""

import datetime
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .chain import ChainedRecord, ChainHead, chain_key, verify_chain

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Checkpoint:
    at: str
    chain: str
    sequence: int
    last_hash: str

    def mac(self) -> str:
        message = f"checkpoint|{self.at}|{self.chain}|{self.sequence}|{self.last_hash}"
        return hmac.new(chain_key(), message.encode(), hashlib.sha256).hexdigest()

    def line(self) -> str:
        # "-" for the empty hash of a chain never written to, so every line has five words.
        return f"{self.at} {self.chain} {self.sequence} {self.last_hash or '-'} {self.mac()}"

    def __str__(self) -> str:
        return f"{self.at} #{self.sequence}"


@dataclass
class CheckpointFile:
    """What a checkpoint file holds: the latest valid checkpoint per chain, the bad lines."""

    latest: dict[str, Checkpoint]
    forged_lines: list[int]


def checkpoint_path() -> Path | None:
    """Return the configured checkpoint file, or None when checkpoints are off."""
    value = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
    return Path(value) if value else None


def checkpoint_now(*, chains: list[str]) -> list[Checkpoint]:
    """Return a checkpoint of each chain's head as it stands."""
    at = timezone.now().astimezone(datetime.UTC).strftime(TIME_FORMAT)
    heads = {head.name: head for head in ChainHead.objects.filter(name__in=chains)}
    # A chain with no head yet is empty: its checkpoint says so (a wiped chain shows later).
    empty = ChainHead(sequence=0, last_hash="")
    return [
        Checkpoint(at, name, heads.get(name, empty).sequence, heads.get(name, empty).last_hash)
        for name in chains
    ]


def append_checkpoints(path: Path, checkpoints: list[Checkpoint]) -> None:
    """Append the checkpoints' lines to `path`, on disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as file:
        file.writelines(checkpoint.line() + "\n" for checkpoint in checkpoints)
        file.flush()
        os.fsync(file.fileno())


def parse_line(line: str) -> Checkpoint | None:
    """Return the checkpoint a line records, or None if it is malformed or its HMAC is wrong."""
    parts = line.split()
    if len(parts) != 5 or not parts[2].isdigit():
        return None
    last_hash = "" if parts[3] == "-" else parts[3]
    checkpoint = Checkpoint(parts[0], parts[1], int(parts[2]), last_hash)
    return checkpoint if hmac.compare_digest(parts[4], checkpoint.mac()) else None


def read_checkpoints(path: Path) -> CheckpointFile:
    """Return the latest valid checkpoint of each chain in `path` (chains only grow)."""
    found = CheckpointFile(latest={}, forged_lines=[])
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        checkpoint = parse_line(line)
        if checkpoint is None:
            found.forged_lines.append(number)
        elif checkpoint.sequence >= found.latest.get(checkpoint.chain, checkpoint).sequence:
            found.latest[checkpoint.chain] = checkpoint
    return found


def checkpoint_mismatch(model: type[ChainedRecord], checkpoint: Checkpoint) -> str | None:
    """Return what is wrong with the chain of `model` against a checkpoint, or None."""
    if checkpoint.sequence == 0:
        return None
    recorded = (
        model.objects.filter(sequence=checkpoint.sequence)
        .values_list("entry_hash", flat=True)
        .first()
    )
    if recorded is None:
        last = model.objects.order_by("-sequence").values_list("sequence", flat=True).first()
        return (
            f"the chain ends at #{last or 0}, but the checkpoint of {checkpoint.at} recorded "
            f"#{checkpoint.sequence}: the newest entries were removed or the table emptied"
        )
    if recorded != checkpoint.last_hash:
        return (
            f"entry #{checkpoint.sequence} is not the one checkpointed at {checkpoint.at}: "
            "the chain was cut and written anew"
        )
    return None


class CheckpointRefused(Exception):
    """No checkpoint written: checkpoints are off, or a chain is already broken."""


def write_checkpoints() -> list[Checkpoint]:
    """Append a checkpoint of each audit chain to AUDIT_CHECKPOINT_FILE; return them.

    Run again (a retried task), it appends the same heads again: harmless, the file's latest
    checkpoint of each chain says the same.
    """
    from .models import AuditEntry, PersonalDataAccess

    path = checkpoint_path()
    if path is None:
        raise CheckpointRefused("AUDIT_CHECKPOINT_FILE is empty: there is nowhere to write.")
    models = [AuditEntry, PersonalDataAccess]
    for model in models:
        # A checkpoint vouches for the chain: never for one already broken.
        first_break = verify_chain(model)
        if first_break is not None:
            raise CheckpointRefused(f"{model.CHAIN}: {first_break}; no checkpoint written")
    checkpoints = checkpoint_now(chains=[model.CHAIN for model in models])
    append_checkpoints(path, checkpoints)
    return checkpoints
