"""Every audit entry is now chained; and on PostgreSQL the audit trail and the access log
refuse UPDATE and DELETE even from SQL run by the application's own role."""

from django.db import migrations, models

TABLES = ["reissue_auditentry", "reissue_personaldataaccess"]

FORBID_CHANGE = """
CREATE OR REPLACE FUNCTION reissue_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite is the single-user embedded mode; the admin refuses changes there
    schema_editor.execute(FORBID_CHANGE, params=None)  # no placeholders: % is plpgsql
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reissue_forbid_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS reissue_forbid_change()")


class Migration(migrations.Migration):
    dependencies = [("reissue", "0007_chain_existing_audit_entries")]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
