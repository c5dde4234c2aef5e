"""Tamper evidence: verify_audit finds a changed, removed or inserted entry, a cut tail, an
emptied table or a wiped head; the database refuses changes; names are kept as they were."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.append_only import flush_sql
from audit.chain import ChainHead, head_mac, verify_chain
from audit.checkpoints import Checkpoint
from audit.models import AuditEntry
from reissue import services
from tests.factories import register_case


@pytest.fixture
def trail(clerk, supervisor, office):
    """Three cases, one cancelled: a chain of a handful of entries."""
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    services.case_cancel(case=cases[1], acting_user=supervisor, reason="found")
    return list(AuditEntry.objects.order_by("sequence"))


def raw(sql, params=()):
    """Run SQL as the tables' owner could, past the application and the triggers.

    (PostgreSQL: what DISABLE TRIGGER would do; SQLite: the triggers dropped, for this test's
    transaction only.) Call it inside `transaction.atomic()`.
    """
    before, _after = flush_sql(connection.vendor)
    with connection.cursor() as cursor:
        for statement in before:
            cursor.execute(statement)
        cursor.execute(sql, params)


def test_an_intact_chain_verifies(trail, capsys):
    call_command("verify_audit")
    assert f"audit trail: {len(trail)} entries, chain intact" in capsys.readouterr().out


def test_a_changed_entry_is_named(trail):
    with transaction.atomic():
        raw(
            "UPDATE audit_auditentry SET comment = 'nothing happened' WHERE id = %s",
            [trail[2].pk],
        )
    with pytest.raises(CommandError, match=f"entry #{trail[2].sequence} .*changed"):
        call_command("verify_audit")


def test_a_removed_entry_is_named(trail):
    with transaction.atomic():
        raw("DELETE FROM audit_auditentry WHERE id = %s", [trail[1].pk])
    with pytest.raises(CommandError, match=f"entry #{trail[1].sequence}: removed"):
        call_command("verify_audit")


def test_removing_the_newest_entry_is_found_too(trail):
    with transaction.atomic():
        raw("DELETE FROM audit_auditentry WHERE id = %s", [trail[-1].pk])
    assert "removed" in str(verify_chain(AuditEntry))


def test_an_inserted_entry_is_named(trail):
    forged = trail[1]
    with transaction.atomic():
        # Renumber the tail to make room, as a forger must, then slip an entry in.
        raw(
            "UPDATE audit_auditentry SET sequence = sequence + 1000 WHERE sequence > %s",
            [forged.sequence],
        )
        raw(
            "INSERT INTO audit_auditentry (case_id, content_type_id, object_id, action,"
            " source_state, target_state, actor_id, actor_name, at, comment, changes, sequence,"
            " previous_hash, entry_hash) SELECT case_id, content_type_id, object_id, 'close',"
            " 'reported', 'closed', actor_id, actor_name, at, '', '{}', %s, entry_hash,"
            " entry_hash"
            " FROM audit_auditentry WHERE id = %s",
            [forged.sequence + 1, forged.pk],
        )
    with pytest.raises(CommandError, match=f"entry #{forged.sequence + 1} .*changed"):
        call_command("verify_audit")


@pytest.mark.postgres
def test_the_application_role_cannot_update_or_delete_audit_rows(trail):
    for sql in (
        "UPDATE audit_auditentry SET comment = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [trail[0].pk])
    call_command("verify_audit")


# The head is signed ------------------------------------------------------------------------


def move_head_back(entries: int, *, with_key: bool = False):
    """Cut the newest `entries` and move the head back over them, as a table owner could."""
    with transaction.atomic():
        tail = list(AuditEntry.objects.order_by("-sequence")[:entries])
        raw("DELETE FROM audit_auditentry WHERE sequence >= %s", [tail[-1].sequence])
        last = AuditEntry.objects.order_by("-sequence").first()
        mac = head_mac("audit", last.sequence, last.entry_hash) if with_key else ""
        raw(
            "UPDATE audit_chainhead SET sequence = %s, last_hash = %s, mac = %s"
            " WHERE name = 'audit'",
            [last.sequence, last.entry_hash, mac],
        )


def test_the_head_is_signed_whenever_it_moves(trail):
    head = ChainHead.objects.get(name="audit")
    assert head.sequence == trail[-1].sequence
    assert head.mac == head_mac("audit", head.sequence, trail[-1].entry_hash)


def test_a_cut_tail_with_the_head_moved_back_is_found_without_the_key(trail):
    move_head_back(2)
    with pytest.raises(CommandError, match="head was changed"):
        call_command("verify_audit")


def test_a_wiped_head_is_found_while_entries_exist(trail):
    with transaction.atomic():
        raw("DELETE FROM audit_chainhead WHERE name = 'audit'")
    with pytest.raises(CommandError, match="head is missing"):
        call_command("verify_audit")


# Checkpoints outside the database ----------------------------------------------------------


@pytest.fixture
def checkpoints(settings, tmp_path, trail):
    """A checkpoint file holding one checkpoint of the trail as it stands."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")
    call_command("audit_checkpoint")
    return tmp_path / "audit-checkpoints.log"


def test_audit_checkpoint_appends_a_signed_line_per_chain(checkpoints, trail):
    call_command("audit_checkpoint")  # a second run the same day only adds lines
    lines = checkpoints.read_text().splitlines()
    assert [line.split()[1:3] for line in lines] == [
        ["audit", str(trail[-1].sequence)],
        ["access", "0"],
    ] * 2


def test_an_intact_chain_passes_its_checkpoint_and_the_report_shows_it(checkpoints, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    at = checkpoints.read_text().split()[0]
    assert f"latest checkpoint: {at} #{AuditEntry.objects.count()}" in out


def test_a_cut_tail_with_a_head_signed_anew_fails_the_checkpoint(checkpoints):
    move_head_back(2, with_key=True)  # or a head copied from an old backup
    assert verify_chain(AuditEntry) is None  # the chain alone cannot tell
    with pytest.raises(CommandError, match="newest entries were removed"):
        call_command("verify_audit")


def test_a_cut_and_rewritten_tail_fails_the_checkpoint(checkpoints, trail, supervisor):
    move_head_back(2, with_key=True)
    for _ in range(3):  # new entries where the cut ones were
        services.audit_record(obj=trail[0].case, case=None, action="edited", actor=supervisor)
    with pytest.raises(CommandError, match=f"entry #{trail[-1].sequence} is not the one"):
        call_command("verify_audit")


def test_emptied_tables_and_a_wiped_head_fail_the_checkpoint(checkpoints):
    with transaction.atomic():
        raw("DELETE FROM audit_auditentry")
        raw("DELETE FROM audit_chainhead")
    with pytest.raises(CommandError, match="chain ends at #0.*the table emptied"):
        call_command("verify_audit")


def test_a_forged_checkpoint_line_is_reported(checkpoints):
    forged = Checkpoint("2030-01-01T00:00:00Z", "audit", 1, "0" * 64).line()
    with checkpoints.open("a") as file:
        file.write(forged[:-1] + ("1" if forged[-1] != "1" else "2") + "\n")
    with pytest.raises(CommandError, match="line\\(s\\) 3 malformed or not signed"):
        call_command("verify_audit")


def test_no_checkpoint_is_written_for_a_broken_chain(checkpoints, trail):
    with transaction.atomic():
        raw("UPDATE audit_auditentry SET comment = 'x' WHERE id = %s", [trail[0].pk])
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit_checkpoint")
    assert len(checkpoints.read_text().splitlines()) == 2


# The database refuses changes --------------------------------------------------------------


@pytest.mark.parametrize("table", ["audit_auditentry", "audit_personaldataaccess"])
@pytest.mark.parametrize(
    "sql", ["UPDATE {table} SET at = at", "DELETE FROM {table}"], ids=["update", "delete"]
)
def test_the_database_refuses_to_change_audit_records(trail, supervisor, table, sql):
    services.personal_data_reveal(
        case=trail[0].case,
        number=services.RevealedNumber.APPLICANT_ID_NUMBER,
        acting_user=supervisor,
        reason="checking",
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql.format(table=table))


def test_the_database_refuses_to_delete_a_chain_head(trail):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_chainhead")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table", ["audit_auditentry", "audit_personaldataaccess", "audit_chainhead"]
)
def test_postgresql_refuses_to_truncate_the_audit_tables(trail, table):
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the trail's own checks first
        cursor.execute(f"TRUNCATE {table} CASCADE")


# Who acted, by the name they had then ------------------------------------------------------


def test_renaming_users_changes_nobody_s_past_actions(trail, clerk, supervisor, client):
    clerk.username, supervisor.username = "supervisor.tmp", "clerk.tmp"
    clerk.save(), supervisor.save()
    clerk.username, supervisor.username = "supervisor", "clerk"
    clerk.save(), supervisor.save()  # the two names swapped

    entry = AuditEntry.objects.get(pk=trail[0].pk)
    assert entry.actor_name == "clerk"
    call_command("verify_audit")
    client.force_login(supervisor)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[entry.case_id]))
    assert re.search(r"<td[^>]*>clerk \(now supervisor\)</td>", page.content.decode())


def test_changing_the_recorded_name_breaks_the_chain(trail):
    with transaction.atomic():
        raw("UPDATE audit_auditentry SET actor_name = 'supervisor' WHERE id = %s", [trail[0].pk])
    with pytest.raises(CommandError, match=f"entry #{trail[0].sequence} .*changed"):
        call_command("verify_audit")
