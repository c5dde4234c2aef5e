"""The office kept on each audit entry: written by every writer, filled in for old entries by
the migration, and the one thing a supervisor's trail is scoped by."""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.models import AuditEntry
from reissue import services
from tests.factories import UserFactory, claim_with_items, register_case, reissued_case

backfill = importlib.import_module("audit.migrations.0007_auditentry_office_backfill")


def shown_entry_ids(client, **filters) -> set[int]:
    response = client.get(reverse("admin:audit_auditentry_changelist"), filters)
    assert response.status_code == 200
    return {entry.pk for entry in response.context["cl"].result_list}


def test_a_steps_entry_carries_the_cases_office(supervisor, office):
    case = register_case(clerk=supervisor, office=office)
    services.case_cancel(case=case, acting_user=supervisor, reason="found")
    entries = AuditEntry.objects.filter(case=case)
    assert {e.action for e in entries} == {"registered", "cancel"}
    assert {e.office_id for e in entries} == {office.pk}


def test_a_claims_entries_carry_the_cases_office(supervisor, office):
    case = reissued_case(clerk=supervisor, office=office)
    claim = claim_with_items(case=case, clerk=supervisor, submit=True)
    claim_entries = AuditEntry.objects.filter(
        object_id=claim.pk, content_type__model="expenseclaim"
    )
    assert claim_entries.exists()
    assert {e.office_id for e in claim_entries} == {office.pk}


def test_an_applicants_edit_belongs_to_no_office(supervisor, office):
    case = register_case(clerk=supervisor, office=office)
    services.applicant_update(
        applicant=case.applicant, acting_user=supervisor, data={"phone": "13700001111"}
    )
    edit = AuditEntry.objects.get(case=None, action="edited")
    assert edit.office_id is None


def test_a_small_offices_supervisor_sees_exactly_their_entries(
    client, supervisor, office, other_office, other_supervisor
):
    ours = register_case(clerk=supervisor, office=office)
    services.case_cancel(case=ours, acting_user=supervisor, reason="found")
    theirs = register_case(clerk=other_supervisor, office=other_office)
    services.applicant_update(
        applicant=theirs.applicant, acting_user=other_supervisor, data={"phone": "13700001111"}
    )
    client.force_login(supervisor)
    assert shown_entry_ids(client) == set(
        AuditEntry.objects.filter(case=ours).values_list("pk", flat=True)
    )
    assert shown_entry_ids(client, target_state="cancelled") == {
        AuditEntry.objects.get(case=ours, action="cancel").pk
    }
    assert shown_entry_ids(client, action="registered") == {
        AuditEntry.objects.get(case=ours, action="registered").pk
    }


def test_an_auditor_still_sees_every_entry_with_or_without_an_office(
    client, supervisor, office, other_office, other_supervisor
):
    register_case(clerk=supervisor, office=office)
    theirs = register_case(clerk=other_supervisor, office=other_office)
    services.applicant_update(
        applicant=theirs.applicant, acting_user=other_supervisor, data={"phone": "13700001111"}
    )
    client.force_login(UserFactory(username="auditor", role="Auditor", offices=[office]))
    assert shown_entry_ids(client) == set(AuditEntry.objects.values_list("pk", flat=True))


def test_imported_cases_entries_carry_their_office(supervisor, office):
    from tests.imports.conftest import FILES

    call_command(
        "import_cases", str(FILES / "utf8.csv"), "--user", "supervisor", stdout=io.StringIO()
    )
    registered = AuditEntry.objects.filter(action="registered")
    assert registered.count() == 2
    assert {e.office_id for e in registered} == {office.pk}


def past_the_trigger(sql: str, params=()) -> None:
    """Run an UPDATE of the trail past its append-only trigger, as the backfill steps past it
    (or as someone with the database owner's rights could), the trigger back on afterwards."""
    statements = backfill.backfill_statements(connection.vendor, "reissue_reissuecase")
    update = next(i for i, statement in enumerate(statements) if statement.startswith("UPDATE"))
    with connection.cursor() as cursor:
        for statement in statements[:update]:
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in statements[update + 1 :]:
            cursor.execute(statement)


def unfill_offices() -> None:
    """Empty the office of every entry as the tables stood before it was kept."""
    past_the_trigger("UPDATE audit_auditentry SET office_id = NULL")


def test_the_migration_fills_old_entries_offices_and_the_chain_still_verifies(
    supervisor, office, other_office, other_supervisor
):
    ours = register_case(clerk=supervisor, office=office)
    services.case_cancel(case=ours, acting_user=supervisor, reason="found")
    theirs = register_case(clerk=other_supervisor, office=other_office)
    services.applicant_update(
        applicant=theirs.applicant, acting_user=other_supervisor, data={"phone": "13700001111"}
    )
    unfill_offices()
    assert not AuditEntry.objects.filter(office__isnull=False).exists()

    backfill.fill_offices(apps, SimpleNamespace(connection=connection))

    assert {e.office_id for e in AuditEntry.objects.filter(case=ours)} == {office.pk}
    assert {e.office_id for e in AuditEntry.objects.filter(case=theirs)} == {other_office.pk}
    assert AuditEntry.objects.get(case=None).office_id is None
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit trail: 4 entries, chain intact" in out.getvalue()
    # The trigger is on again: the trail refuses changes as before.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(case=ours).update(office=other_office)


def test_verify_audit_names_an_entry_moved_out_of_its_office(
    client, supervisor, office, other_office
):
    """The office is outside the hash: moving a cancellation's entry to another office hides
    it from the supervisor while the chain verifies, so verify_audit checks the office too."""
    case = register_case(clerk=supervisor, office=office)
    services.case_cancel(case=case, acting_user=supervisor, reason="found")
    cancel = AuditEntry.objects.get(case=case, action="cancel")
    call_command("verify_audit", stdout=io.StringIO())  # intact before

    past_the_trigger(
        "UPDATE audit_auditentry SET office_id = %s WHERE id = %s", [other_office.pk, cancel.pk]
    )
    client.force_login(supervisor)
    assert cancel.pk not in shown_entry_ids(client)
    with pytest.raises(
        CommandError, match=f"filed under an office not their case's .*#{cancel.sequence}"
    ):
        call_command("verify_audit", stdout=io.StringIO())
