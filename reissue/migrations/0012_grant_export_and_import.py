"""Supervisors and auditors export; supervisors import legacy cases. Safe to run again."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Supervisor": [
        ("reissue", "export_cases"),
        ("reissue", "import_cases"),
        ("reissue", "export_audit_trail"),
        ("claims", "export_claims"),
    ],
    "Auditor": [
        ("reissue", "export_cases"),
        ("reissue", "export_audit_trail"),
        ("claims", "export_claims"),
    ],
}


def grant(apps, schema_editor):
    for label in ("reissue", "claims"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in GRANTS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for app_label, codename in names:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    codenames = {codename for names in GRANTS.values() for _app, codename in names}
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GRANTS):
        group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("reissue", "0011_export_and_import_permissions"),
        ("claims", "0003_export_and_import_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
