"""Auditors read the log of looks at full ID numbers. Safe to run again: it only adds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("reissue")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    auditor, _created = Group.objects.get_or_create(name="Auditor")
    auditor.permissions.add(
        Permission.objects.get(
            content_type__app_label="reissue", codename="view_personaldataaccess"
        )
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Auditor"):
        group.permissions.remove(
            *Permission.objects.filter(codename="view_personaldataaccess")
        )


class Migration(migrations.Migration):
    dependencies = [("reissue", "0008_append_only_audit_records")]

    operations = [migrations.RunPython(grant, revoke)]
