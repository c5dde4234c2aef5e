"""The application's PostgreSQL role (README: Deployment) may write rows but never cut the trail."""

import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.append_only import app_role_sql
from audit.chain import verify_chain
from audit.models import AuditEntry
from tests.factories import register_case

REFUSED = {
    "delete": ("DELETE FROM audit_auditentry", "permission denied"),
    "update": ("UPDATE audit_auditentry SET comment = 'x'", "permission denied"),
    "truncate": ("TRUNCATE audit_auditentry", "permission denied"),
    "truncate-access": ("TRUNCATE audit_personaldataaccess", "permission denied"),
    "delete-head": ("DELETE FROM audit_chainhead", "permission denied"),
    "disable-trigger": (
        "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL",
        "must be owner",
    ),
    "drop-trigger": (
        "DROP TRIGGER audit_auditentry_append_only ON audit_auditentry",
        "must be owner",
    ),
}


@pytest.fixture
def as_app_role(clerk, office):
    """Switch this test's connection to a fresh role given exactly the printed GRANTs.

    Roles are cluster-wide: the name is unique, and the test's rollback drops it again.
    """
    register_case(clerk=clerk, office=office)
    role = f"reissue_app_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        owner = connection.settings_dict["USER"]
        for statement in app_role_sql(
            role=role, owner=owner, database=connection.settings_dict["NAME"]
        ):
            cursor.execute(statement)
        cursor.execute(f"SET LOCAL ROLE {role}")
    return role


@pytest.mark.postgres
@pytest.mark.parametrize("name", REFUSED)
def test_the_application_role_cannot_cut_or_unprotect_the_trail(as_app_role, name):
    sql, message = REFUSED[name]
    with (
        pytest.raises(DatabaseError, match=message),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@pytest.mark.postgres
def test_the_application_role_does_its_work(as_app_role, clerk, office):
    register_case(clerk=clerk, office=office)  # inserts rows, locks and moves the head
    assert verify_chain(AuditEntry) is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == as_app_role


def test_db_app_role_sql_prints_the_grants(capsys):
    call_command("db_app_role_sql", "--role", "reissue_app", "--database", "reissue")
    out = capsys.readouterr().out
    assert (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reissue_app;" in out
    )
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditentry, audit_personaldataaccess" in out
    assert "TRUNCATE ON" not in out.replace("DELETE, TRUNCATE ON", "")
