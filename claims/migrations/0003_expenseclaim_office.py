import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0002_claim_newest_idx"),
        ("offices", "0001_offices"),
    ]

    operations = [
        # Nullable until the claims present are given their case's office (0004).
        migrations.AddField(
            model_name="expenseclaim",
            name="office",
            field=models.ForeignKey(
                null=True,
                editable=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="offices.office",
                verbose_name="office",
            ),
        ),
    ]
