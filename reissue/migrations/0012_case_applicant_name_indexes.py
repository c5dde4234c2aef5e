from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("offices", "0001_offices"),
        ("reissue", "0011_backfill_case_applicant_name"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="reissuecase",
            index=models.Index(
                fields=["office", "applicant_name"],
                name="case_office_name_prefix_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
                include=["id"],
            ),
        ),
        migrations.AddIndex(
            model_name="reissuecase",
            index=models.Index(
                fields=["applicant_name"],
                name="case_name_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="reissuecase",
            index=models.Index(fields=["applicant_name"], name="case_name_idx"),
        ),
    ]
