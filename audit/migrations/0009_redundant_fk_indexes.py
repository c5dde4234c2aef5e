# Each of these foreign keys leads a composite index already (audit_case_idx,
# audit_object_idx, access_object_idx): its own index only cost every entry's insert.
# The indexes are dropped by name, not by AlterField: on SQLite that remakes the table,
# and with it would go the triggers that keep the trail append-only.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FIELDS = [
    ("auditentry", "case"),
    ("auditentry", "content_type"),
    ("personaldataaccess", "content_type"),
]


def _indexes(schema_editor, model, field):
    return schema_editor._constraint_names(
        model, [field.column], index=True, type_=models.Index.suffix
    )


def drop_indexes(apps, schema_editor):
    for model_name, field_name in FIELDS:
        model = apps.get_model("audit", model_name)
        field = model._meta.get_field(field_name)
        for name in _indexes(schema_editor, model, field):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor):
    for model_name, field_name in FIELDS:
        model = apps.get_model("audit", model_name)
        field = model._meta.get_field(field_name)
        if not _indexes(schema_editor, model, field):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_auditentry_office_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUDIT_CASE_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="case",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_entries",
                        to=settings.AUDIT_CASE_MODEL,
                        verbose_name="case",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="content_type",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="contenttypes.contenttype",
                    ),
                ),
                migrations.AlterField(
                    model_name="personaldataaccess",
                    name="content_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
        )
    ]
