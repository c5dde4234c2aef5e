"""Step 1 of 3 of encrypting personal data: widen the columns, add the hash column."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reissue", "0002_role_groups")]

    operations = [
        migrations.RemoveConstraint(model_name="applicant", name="applicant_unique_id_number"),
        migrations.AlterField(
            model_name="applicant", name="id_number", field=models.TextField()
        ),
        migrations.AlterField(model_name="applicant", name="phone", field=models.TextField()),
        migrations.AlterField(
            model_name="reissuecase", name="agent_id_number", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="applicant",
            name="id_number_hash",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
    ]
