import common.text
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reissue", "0009_outbox_messages_office"),
    ]

    operations = [
        migrations.AddField(
            model_name="reissuecase",
            name="applicant_name",
            field=common.text.PlainCharField(
                default="", editable=False, max_length=50, verbose_name="applicant"
            ),
        ),
    ]
