"""The access log tells a full number seen, a search by ID number and an export apart; a
search names no record. Exports written before are marked as such (their `field` said so)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from reissue.append_only import sqlite_triggers

TABLE = "reissue_personaldataaccess"


def mark_exports(apps, schema_editor):
    # The record's hash is unchanged: an export's kind was implied by its field and still is
    # (reissue.models.access_content). The append-only trigger is held off for this one
    # statement, inside the migration's transaction.
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")  # put back below
    access = apps.get_model("reissue", "PersonalDataAccess")
    access.objects.filter(field="export").update(kind="export")
    if postgresql:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def refuse_changes_again_on_sqlite(apps, schema_editor):
    # SQLite alters a column by copying the table, which leaves its triggers behind: put the
    # access log's append-only triggers back (reissue/append_only.py).
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, sql in sqlite_triggers():
        if TABLE in name:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reissue", "0021_ss_card_number_error_on_its_field"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="personaldataaccess",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reveal", "full number seen"),
                    ("search", "search by ID number"),
                    ("export", "export with full numbers"),
                ],
                default="reveal",
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="content_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="object_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="personaldataaccess",
            index=models.Index(fields=["actor", "kind", "at"], name="access_actor_kind_at_idx"),
        ),
        migrations.RunPython(mark_exports, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(refuse_changes_again_on_sqlite, migrations.RunPython.noop),
    ]
