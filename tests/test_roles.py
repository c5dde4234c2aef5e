"""The role table (offices/roles.py) is what the groups hold, after any number of migrates,
and what the README tells."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from offices.roles import ROLES, roles_markdown, sync_role_groups

README = Path(__file__).resolve().parent.parent / "README.md"


def granted() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


@pytest.mark.django_db
def test_each_group_holds_exactly_its_roles_permissions():
    assert granted() == {role.name: set(role.permissions) for role in ROLES}


@pytest.mark.django_db
def test_a_grant_given_by_hand_is_taken_back_and_a_missing_one_restored_by_the_next_sync():
    clerk = Group.objects.get(name="Clerk")
    clerk.permissions.add(Permission.objects.get(codename="pay_claim"))
    clerk.permissions.remove(Permission.objects.get(codename="issue_temp_card"))
    sync_role_groups()
    sync_role_groups()
    assert granted()["Clerk"] == set(next(r for r in ROLES if r.name == "Clerk").permissions)


@pytest.mark.django_db
def test_migrate_again_changes_no_grant():
    before = granted()
    call_command("migrate", verbosity=0)
    assert granted() == before


def test_the_readme_role_table_is_the_one_rendered_from_the_roles():
    assert roles_markdown() in README.read_text(encoding="utf-8")
