"""Link the audit entries written before the hash chain existed, in the order they were made."""

from django.db import migrations

from reissue.chain import ChainedRecord


def audit_entry_content(entry) -> dict:
    """What an entry's hash covered then (0019 re-chained them with the actor's name)."""
    return {
        "case": entry.case_id,
        "content_type": entry.content_type_id,
        "object_id": entry.object_id,
        "action": entry.action,
        "source_state": entry.source_state,
        "target_state": entry.target_state,
        "actor": entry.actor_id,
        "at": entry.at.isoformat(),
        "comment": entry.comment,
        "changes": entry.changes,
    }


class _Entry(ChainedRecord):
    """Only for its hash: the historical model has none of the app's methods."""

    CHAIN = "audit"

    class Meta:
        abstract = True


def chain_entries(apps, schema_editor):
    AuditEntry = apps.get_model("reissue", "AuditEntry")
    ChainHead = apps.get_model("reissue", "ChainHead")
    sequence, previous = 0, ""
    for entry in AuditEntry.objects.order_by("at", "id").iterator(chunk_size=2000):
        sequence += 1
        link = _Entry(sequence=sequence, previous_hash=previous)
        link.chained_content = lambda entry=entry: audit_entry_content(entry)
        previous = link.compute_hash()
        AuditEntry.objects.filter(pk=entry.pk).update(
            sequence=sequence, previous_hash=link.previous_hash, entry_hash=previous
        )
    ChainHead.objects.update_or_create(
        name="audit", defaults={"sequence": sequence, "last_hash": previous}
    )
    ChainHead.objects.get_or_create(name="access")


def unchain_entries(apps, schema_editor):
    apps.get_model("reissue", "AuditEntry").objects.update(
        sequence=None, previous_hash="", entry_hash=""
    )
    apps.get_model("reissue", "ChainHead").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("reissue", "0006_audit_hash_chain_and_access_log")]

    operations = [migrations.RunPython(chain_entries, unchain_entries)]
