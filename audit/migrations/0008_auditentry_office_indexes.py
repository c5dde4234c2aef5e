from django.db import migrations, models


class Migration(migrations.Migration):
    # After the backfill: built once over the filled column, not updated row by row.

    dependencies = [
        ("audit", "0007_auditentry_office_backfill"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["office", "at", "id"], name="audit_office_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                fields=["office", "action", "at", "id"], name="audit_office_action_time_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                fields=["office", "target_state", "at", "id"],
                name="audit_office_target_time_idx",
            ),
        ),
    ]
