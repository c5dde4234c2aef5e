"""Supervisors and auditors see the reports; supervisors keep the holiday calendar.

Safe to run again: it only adds.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Supervisor": [
        "view_reports",
        "view_calendarday",
        "add_calendarday",
        "change_calendarday",
        "delete_calendarday",
    ],
    "Auditor": ["view_reports", "view_calendarday"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now to assign them.
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        for codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label="reports", codename=codename)
            )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    reports_permissions = Permission.objects.filter(content_type__app_label="reports")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*reports_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_working_day_calendar_and_dashboard"),
        ("reissue", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
