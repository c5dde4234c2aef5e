"""Give each claim its case's office (ExpenseClaim.office), in one UPDATE."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_offices(apps, schema_editor):
    ExpenseClaim = apps.get_model("claims", "ExpenseClaim")
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    offices = ReissueCase.objects.filter(pk=OuterRef("case_id")).values("office_id")[:1]
    ExpenseClaim.objects.using(schema_editor.connection.alias).update(office=Subquery(offices))


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0003_expenseclaim_office"),
        ("reissue", "0009_outbox_messages_office"),
    ]

    operations = [migrations.RunPython(copy_offices, migrations.RunPython.noop)]
