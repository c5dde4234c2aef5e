import django.db.models.deletion
from django.db import migrations, models

from audit import append_only


def reinstall_sqlite_triggers(apps, schema_editor):
    # Undoing: SQLite drops the column by remaking the table, which drops its triggers.
    if schema_editor.connection.vendor == "sqlite":
        append_only.uninstall(schema_editor)
        append_only.install(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_access_kind_citizen_rating"),
        ("offices", "0001_offices"),
    ]

    operations = [
        # Undone last, after the column is dropped: the triggers again.
        migrations.RunPython(migrations.RunPython.noop, reinstall_sqlite_triggers),
        # A nullable column: PostgreSQL and SQLite add it in place (SQLite keeps the triggers).
        migrations.AddField(
            model_name="auditentry",
            name="office",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="offices.office",
                verbose_name="office",
            ),
        ),
    ]
