"""Give the role groups their rights on the incident register. Safe to run again: it only adds.

Supervisors report, correct and manage incidents; auditors read them; both see every incident.
Clerks report incidents and see those they reported. Reviewers have no part in it.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Clerk": [
        "incidents.view_incident",
        "incidents.add_incident",
    ],
    "Supervisor": [
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.manage_incident",
        "incidents.view_all_incidents",
    ],
    "Auditor": [
        "incidents.view_incident",
        "incidents.view_all_incidents",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now to assign them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    incident_permissions = Permission.objects.filter(content_type__app_label="incidents")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*incident_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_incident_register"),
        ("reissue", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
