"""Give the SMS notices written before they carried one their case's office (for the list)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forward(apps, schema_editor):
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    offices = ReissueCase.objects.filter(reference=OuterRef("subject_label")).values("office_id")
    OutboxMessage.objects.filter(office_id__isnull=True).update(office_id=Subquery(offices[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_outbox_office_and_send_again"),
        ("reissue", "0008_change_sms_choice_step"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
