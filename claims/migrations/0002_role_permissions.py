"""Give the role groups their rights on claims and policies. Safe to run again: it only adds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Clerk": [
        "claims.view_expenseclaim",
        "claims.add_expenseclaim",
        "claims.change_expenseclaim",
        "claims.submit_claim",
        "claims.view_claimitem",
        "claims.add_claimitem",
        "claims.change_claimitem",
        "claims.delete_claimitem",
        "claims.view_reimbursementpolicy",
    ],
    "Reviewer": [
        "claims.view_expenseclaim",
        "claims.view_claimitem",
        "claims.examine_claim",
        "claims.view_reimbursementpolicy",
    ],
    "Supervisor": [
        "claims.view_expenseclaim",
        "claims.add_expenseclaim",
        "claims.change_expenseclaim",
        "claims.submit_claim",
        "claims.pay_claim",
        "claims.view_claimitem",
        "claims.add_claimitem",
        "claims.change_claimitem",
        "claims.delete_claimitem",
        "claims.view_reimbursementpolicy",
        "claims.add_reimbursementpolicy",
        "claims.change_reimbursementpolicy",
    ],
    "Auditor": [
        "claims.view_expenseclaim",
        "claims.view_claimitem",
        "claims.view_reimbursementpolicy",
    ],
}


def grant(apps, schema_editor):
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
    claims_permissions = Permission.objects.filter(content_type__app_label="claims")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*claims_permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_expense_claims_and_policies"),
        ("reissue", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
