"""Copy each applicant's name onto their cases (ReissueCase.applicant_name), in one UPDATE."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_names(apps, schema_editor):
    Applicant = apps.get_model("reissue", "Applicant")
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    names = Applicant.objects.filter(pk=OuterRef("applicant_id")).values("name")[:1]
    ReissueCase.objects.using(schema_editor.connection.alias).update(
        applicant_name=Subquery(names)
    )


def clear_names(apps, schema_editor):
    ReissueCase = apps.get_model("reissue", "ReissueCase")
    ReissueCase.objects.using(schema_editor.connection.alias).update(applicant_name="")


class Migration(migrations.Migration):
    dependencies = [
        ("reissue", "0010_reissuecase_applicant_name"),
    ]

    operations = [migrations.RunPython(copy_names, clear_names)]
