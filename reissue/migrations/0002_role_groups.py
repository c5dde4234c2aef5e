"""Create the four role groups with their permissions. Safe to run again: it only adds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Clerk": [
        "reissue.view_office",
        "reissue.view_applicant",
        "reissue.change_applicant",
        "reissue.view_reissuecase",
        "reissue.add_reissuecase",
        "reissue.change_reissuecase",
        "reissue.issue_temp_card",
        "reissue.record_id_reissued",
        "reissue.reissue_ss_card",
        "reissue.close_case",
        "reissue.view_auditentry",
    ],
    "Reviewer": [
        "reissue.view_office",
        "reissue.view_applicant",
        "reissue.view_reissuecase",
        "reissue.view_auditentry",
    ],
    "Supervisor": [
        "reissue.view_office",
        "reissue.view_applicant",
        "reissue.change_applicant",
        "reissue.view_reissuecase",
        "reissue.add_reissuecase",
        "reissue.change_reissuecase",
        "reissue.issue_temp_card",
        "reissue.record_id_reissued",
        "reissue.reissue_ss_card",
        "reissue.close_case",
        "reissue.cancel_case",
        "reissue.reimburse_case",
        "reissue.view_full_id_number",
        "reissue.view_auditentry",
    ],
    "Auditor": [
        "reissue.view_office",
        "reissue.view_applicant",
        "reissue.view_reissuecase",
        "reissue.view_auditentry",
        "reissue.view_all_offices",
        "reissue.view_full_id_number",
    ],
}


def create_role_groups(apps, schema_editor):
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


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reissue", "0001_workflow_foundation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
