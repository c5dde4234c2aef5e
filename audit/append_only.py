"""The database's own refusal to change the audit trail and the access log.

Installed by the migration `audit/0002_append_only_tables` (`install`); change these only
together with a new migration.
"""

APPEND_ONLY_TABLES = ["audit_auditentry", "audit_personaldataaccess"]
HEAD_TABLE = "audit_chainhead"

# It raises for whichever statement fires it, row or statement trigger.
PG_FUNCTION = "audit_forbid_change()"

PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION} RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def postgresql_triggers() -> list[tuple[str, str, str]]:
    """Return (name, table, CREATE TRIGGER statement) of the triggers added on PostgreSQL."""
    triggers = [
        (
            f"{table}_append_only",
            table,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}",
        )
        for table in APPEND_ONLY_TABLES
    ]
    triggers += [
        (
            f"{table}_no_truncate",
            table,
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}",
        )
        for table in [*APPEND_ONLY_TABLES, HEAD_TABLE]
    ]
    # The head moves forward (UPDATE), but deleting it would hide a cut tail.
    triggers.append(
        (
            f"{HEAD_TABLE}_no_delete",
            HEAD_TABLE,
            f"CREATE TRIGGER {HEAD_TABLE}_no_delete BEFORE DELETE ON {HEAD_TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}",
        )
    )
    return triggers


def sqlite_triggers() -> list[tuple[str, str]]:
    """Return (name, CREATE TRIGGER statement) of the triggers on SQLite."""
    refused = [(table, op) for table in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE")]
    refused.append((HEAD_TABLE, "DELETE"))
    return [
        (
            f"{table}_no_{op.lower()}",
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END",
        )
        for table, op in refused
    ]


def flush_sql(vendor: str) -> tuple[list[str], list[str]]:
    """Return the statements to run before and after emptying every table (tests only).

    PostgreSQL: a superuser's replica mode fires no trigger. SQLite: drop and remake them.
    """
    if vendor == "postgresql":
        return ["SET LOCAL session_replication_role = replica"], []
    if vendor == "sqlite":
        triggers = sqlite_triggers()
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in triggers], [
            sql for _, sql in triggers
        ]
    return [], []


def app_role_sql(*, role: str, owner: str, database: str) -> list[str]:
    """Return the GRANTs of the application's role: rows only, never TRUNCATE or ALTER.

    The owner (who runs `migrate`) keeps the tables; the application role may read and write
    rows, but on the audit trail and the access log only read and add, and never delete a head.
    Run again after each `migrate` (it is idempotent); later tables get the defaults meanwhile.
    """
    audit = ", ".join(APPEND_ONLY_TABLES)
    return [
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {audit} FROM {role}",
        f"REVOKE DELETE, TRUNCATE ON {HEAD_TABLE} FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def install(schema_editor) -> None:
    """Create the triggers on the database `schema_editor` works on (PostgreSQL, SQLite)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION_SQL, params=None)  # no placeholders: % is plpgsql
        for _name, _table, sql in postgresql_triggers():
            schema_editor.execute(sql)
    elif vendor == "sqlite":
        for _name, sql in sqlite_triggers():
            schema_editor.execute(sql)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, table, _sql in postgresql_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}")
    elif vendor == "sqlite":
        for name, _sql in sqlite_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
