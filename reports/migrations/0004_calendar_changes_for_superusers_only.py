"""The holiday calendar moves every office's deadlines: only a superuser (the bureau's
administrator) changes it. Supervisors and auditors keep reading it.

Safe to run again: it only removes, and puts back what it removed when reversed.
"""

from django.db import migrations

CALENDAR_CHANGES = ["add_calendarday", "change_calendarday", "delete_calendarday"]


def _calendar_changes(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="reports", codename__in=CALENDAR_CHANGES
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Supervisor"):
        group.permissions.remove(*_calendar_changes(apps))


def grant_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Supervisor"):
        group.permissions.add(*_calendar_changes(apps))


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_seed_published_holidays")]

    operations = [migrations.RunPython(revoke, grant_back)]
