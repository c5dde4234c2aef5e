import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_backfill_claim_office"),
    ]

    operations = [
        migrations.AlterField(
            model_name="expenseclaim",
            name="office",
            field=models.ForeignKey(
                editable=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="offices.office",
                verbose_name="office",
            ),
        ),
        migrations.AddIndex(
            model_name="expenseclaim",
            index=models.Index(
                fields=["office", "-created_at", "-id"], name="claim_office_newest_idx"
            ),
        ),
    ]
