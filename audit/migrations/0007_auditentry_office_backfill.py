"""Give every audit entry of a case its case's office, past the append-only trigger.

The trigger that refuses UPDATE is switched off for this one statement and back on, in the
migration's own transaction, rather than loosened for good: afterwards the table refuses every
change as before. On PostgreSQL, ALTER TABLE ... DISABLE TRIGGER takes the table's exclusive
lock until the transaction ends, so nobody writes or reads the trail meanwhile, and a failure
rolls the trigger back on with the rest. SQLite drops and recreates its trigger the same way
(its DDL is transactional too). Names and statements are those of 0002_append_only_tables,
written out here so that later changes to `audit/append_only.py` do not change this migration.
The hash is untouched: the office is not in it (README, "Personal data").
"""

from django.conf import settings
from django.db import migrations

TABLE = "audit_auditentry"
PG_TRIGGER = "audit_auditentry_append_only"
SQLITE_TRIGGER = "audit_auditentry_no_update"
SQLITE_TRIGGER_SQL = (
    f"CREATE TRIGGER {SQLITE_TRIGGER} BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END"
)


def backfill_statements(vendor: str, case_table: str) -> list[str]:
    """Return the statements that fill the office of each entry of a case, in order."""
    if vendor == "postgresql":
        # The foreign keys checked at once, not at the commit: ALTER TABLE refuses a table
        # with checks pending (as Django's own check_constraints does).
        return [
            "SET CONSTRAINTS ALL IMMEDIATE",
            f"ALTER TABLE {TABLE} DISABLE TRIGGER {PG_TRIGGER}",
            f"UPDATE {TABLE} AS e SET office_id = c.office_id FROM {case_table} AS c"
            f" WHERE c.id = e.case_id AND e.office_id IS NULL",
            f"ALTER TABLE {TABLE} ENABLE TRIGGER {PG_TRIGGER}",
            "SET CONSTRAINTS ALL DEFERRED",
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}",
            f"UPDATE {TABLE} SET office_id = (SELECT c.office_id FROM {case_table} AS c"
            f" WHERE c.id = {TABLE}.case_id) WHERE case_id IS NOT NULL AND office_id IS NULL",
            SQLITE_TRIGGER_SQL,
        ]
    raise NotImplementedError(f"no backfill of audit entries' offices on {vendor}")


def fill_offices(apps, schema_editor):
    case_table = apps.get_model(settings.AUDIT_CASE_MODEL)._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        for statement in backfill_statements(schema_editor.connection.vendor, case_table):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0006_auditentry_office"),
        migrations.swappable_dependency(settings.AUDIT_CASE_MODEL),
    ]

    # Undone by 0006 dropping the column: nothing to clear here.
    operations = [migrations.RunPython(fill_offices, migrations.RunPython.noop)]
