"""The database itself refuses to change or cut the audit trail and the access log."""

from django.db import migrations

from audit import append_only


def install(apps, schema_editor):
    append_only.install(schema_editor)


def uninstall(apps, schema_editor):
    append_only.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail_and_access_log")]

    operations = [migrations.RunPython(install, uninstall)]
