"""The actor's user name joins each record's hash: fill it in and re-chain both chains, sign
their heads; then the database refuses TRUNCATE (PostgreSQL) and UPDATE and DELETE (SQLite).

No deployment held data yet, so the chains are recomputed in place, in sequence order.
"""

from types import SimpleNamespace

from django.db import migrations

from reissue.append_only import APPEND_ONLY_TABLES, postgresql_triggers, sqlite_triggers
from reissue.chain import ChainedRecord, head_mac
from reissue.models import access_content, audit_entry_content

CHAINS = {
    "audit": ("AuditEntry", audit_entry_content),
    "access": ("PersonalDataAccess", access_content),
}


def _hash(chain: str, sequence: int, previous_hash: str, content: dict) -> str:
    # The historical models have none of the app's methods: borrow ChainedRecord's.
    link = SimpleNamespace(CHAIN=chain, sequence=sequence, previous_hash=previous_hash)
    link.chained_content = lambda: content
    return ChainedRecord.compute_hash(link)


def _rechain(model, chain: str, content) -> tuple[int, str]:
    sequence, previous = 0, ""
    for record in model.objects.select_related("actor").order_by("sequence").iterator(2000):
        sequence += 1
        record.actor_name = record.actor.username if record.actor_id else ""
        entry_hash = _hash(chain, sequence, previous, content(record))
        model.objects.filter(pk=record.pk).update(
            actor_name=record.actor_name,
            sequence=sequence,
            previous_hash=previous,
            entry_hash=entry_hash,
        )
        previous = entry_hash
    return sequence, previous


def rechain(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:  # 0008's row triggers refuse the UPDATE; the owner may suspend them here
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    ChainHead = apps.get_model("reissue", "ChainHead")
    for chain, (model_name, content) in CHAINS.items():
        sequence, last_hash = _rechain(apps.get_model("reissue", model_name), chain, content)
        ChainHead.objects.update_or_create(
            name=chain,
            defaults={
                "sequence": sequence,
                "last_hash": last_hash,
                "mac": head_mac(chain, sequence, last_hash),
            },
        )
    if postgresql:
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def add_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for _name, _table, sql in postgresql_triggers():
            schema_editor.execute(sql)
    elif vendor == "sqlite":
        for _name, sql in sqlite_triggers():
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, table, _sql in postgresql_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    elif vendor == "sqlite":
        for name, _sql in sqlite_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reissue", "0018_actor_names_and_signed_chain_heads")]

    operations = [
        # Backwards the hashes keep the names: old code would call the chains broken.
        migrations.RunPython(rechain, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
