"""Tamper evidence: verify_audit finds a changed, removed or inserted entry."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from reissue import services
from reissue.chain import verify_chain
from reissue.models import AuditEntry
from tests.factories import register_case


@pytest.fixture
def trail(clerk, supervisor, office):
    """Three cases, one cancelled: a chain of a handful of entries."""
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    services.case_cancel(case=cases[1], acting_user=supervisor, reason="found")
    return list(AuditEntry.objects.order_by("sequence"))


def raw(sql, params=()):
    """Run SQL as someone with database access would, bypassing the application."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # skip the trigger
        cursor.execute(sql, params)


def test_an_intact_chain_verifies(trail, capsys):
    call_command("verify_audit")
    assert f"audit trail: {len(trail)} entries, chain intact" in capsys.readouterr().out


def test_a_changed_entry_is_named(trail):
    with transaction.atomic():
        raw(
            "UPDATE reissue_auditentry SET comment = 'nothing happened' WHERE id = %s",
            [trail[2].pk],
        )
    with pytest.raises(CommandError, match=f"entry #{trail[2].sequence} .*changed"):
        call_command("verify_audit")


def test_a_removed_entry_is_named(trail):
    with transaction.atomic():
        raw("DELETE FROM reissue_auditentry WHERE id = %s", [trail[1].pk])
    with pytest.raises(CommandError, match=f"entry #{trail[1].sequence}: removed"):
        call_command("verify_audit")


def test_removing_the_newest_entry_is_found_too(trail):
    with transaction.atomic():
        raw("DELETE FROM reissue_auditentry WHERE id = %s", [trail[-1].pk])
    assert "removed" in str(verify_chain(AuditEntry))


def test_an_inserted_entry_is_named(trail):
    forged = trail[1]
    with transaction.atomic():
        # Renumber the tail to make room, as a forger must, then slip an entry in.
        raw(
            "UPDATE reissue_auditentry SET sequence = sequence + 1000 WHERE sequence > %s",
            [forged.sequence],
        )
        raw(
            "INSERT INTO reissue_auditentry (case_id, content_type_id, object_id, action,"
            " source_state, target_state, actor_id, at, comment, changes, sequence,"
            " previous_hash, entry_hash) SELECT case_id, content_type_id, object_id, 'close',"
            " 'reported', 'closed', actor_id, at, '', '{}', %s, entry_hash, entry_hash"
            " FROM reissue_auditentry WHERE id = %s",
            [forged.sequence + 1, forged.pk],
        )
    with pytest.raises(CommandError, match=f"entry #{forged.sequence + 1} .*changed"):
        call_command("verify_audit")


@pytest.mark.postgres
def test_the_application_role_cannot_update_or_delete_audit_rows(trail):
    for sql in (
        "UPDATE reissue_auditentry SET comment = 'x' WHERE id = %s",
        "DELETE FROM reissue_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [trail[0].pk])
    call_command("verify_audit")
