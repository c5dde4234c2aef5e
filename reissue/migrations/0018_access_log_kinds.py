"""The access log tells a full number seen, a search by ID number and an export apart; a
search names no record. Exports written before are marked as such (their `field` said so)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "reissue_personaldataaccess"


def mark_exports(apps, schema_editor):
    # The record's hash is unchanged: an export's kind was implied by its field and still is
    # (PersonalDataAccess.chained_content). The append-only trigger is held off for this
    # one statement, inside the migration's transaction.
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    access = apps.get_model("reissue", "PersonalDataAccess")
    access.objects.filter(field="export").update(kind="export")
    if postgresql:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reissue", "0017_drop_duplicate_reference_index"),
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
    ]
