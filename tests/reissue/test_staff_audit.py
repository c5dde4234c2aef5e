"""Changes to who may do what (users, groups, office staff) go to the audit trail, old -> new."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from offices.models import Office
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, office):
    administrator = UserFactory(username="admin", is_superuser=True, offices=[office])
    client.force_login(administrator)
    return client


def page_data(response) -> dict:
    """Return the POST data of an admin change page as it was shown, inlines included."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            widget = form.fields[name].widget
            if value is None or value is False:
                continue
            if hasattr(widget, "widgets"):  # a date and a time, in two inputs
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{form.add_prefix(name)}_{index}"] = part
            elif isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [getattr(v, "pk", v) for v in value]
            else:
                data[form.add_prefix(name)] = "on" if value is True else value
    return data


def change(client, obj, **data):
    """Submit the admin's change page of `obj` with `data` changed; return the new entry."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    posted = {**page_data(client.get(url)), **data}
    response = client.post(url, posted)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return trail_of(obj).last()


def trail_of(obj):
    content_type = ContentType.objects.get_for_model(type(obj))
    return AuditEntry.objects.filter(content_type=content_type, object_id=obj.pk).order_by("pk")


def test_renaming_a_user_is_audited_old_to_new(admin_client, clerk):
    entry = change(admin_client, clerk, username="clerk.renamed")
    assert entry.actor_name == "admin"
    assert entry.changes == {"username": ["clerk", "clerk.renamed"]}
    call_command("verify_audit")


def test_a_user_s_groups_rights_and_flags_are_audited(admin_client, clerk):
    supervisors = Group.objects.get(name="Supervisor")
    entry = change(admin_client, clerk, groups=[supervisors.pk], is_superuser="on")
    assert entry.changes == {
        "groups": ["Clerk", "Supervisor"],
        "is_superuser": ["False", "True"],
    }


def test_changing_a_user_s_offices_on_their_page_is_audited(admin_client, clerk, other_office):
    entry = change(admin_client, clerk, **{"Office_staff-0-office": other_office.pk})
    assert entry.changes == {"offices": ["DC", "PD"]}


def test_office_staff_changes_are_audited(admin_client, office, clerk, supervisor):
    newcomer = UserFactory(username="newcomer")
    entry = change(admin_client, office, staff=[clerk.pk, newcomer.pk])
    assert entry.changes == {"staff": ["admin, clerk, supervisor", "clerk, newcomer"]}


def test_group_permission_changes_are_audited(admin_client):
    reviewers = Group.objects.get(name="Reviewer")
    entry = change(admin_client, reviewers, name="Examiner")
    assert entry.changes == {"name": ["Reviewer", "Examiner"]}


def test_a_password_change_is_audited_without_the_password(admin_client, clerk):
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])
    password = "another-Secret-2026"
    response = admin_client.post(url, {"password1": password, "password2": password})
    assert response.status_code == 302
    entry = trail_of(clerk).last()
    assert (entry.action, entry.action_display(), entry.changes) == (
        "password_changed",
        "password changed",
        {},
    )


def test_an_unchanged_save_writes_nothing(admin_client, office):
    before = AuditEntry.objects.count()
    opts = Office._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[office.pk])
    admin_client.post(url, page_data(admin_client.get(url)))
    assert AuditEntry.objects.count() == before


def test_an_offices_phone_and_hours_are_edited_on_its_page_and_audited(admin_client, office):
    entry = change(
        admin_client, office, phone="010-6512 3456", opening_hours="周一至周五 8:30–17:00"
    )
    office.refresh_from_db()
    assert (office.phone, office.opening_hours) == ("010-6512 3456", "周一至周五 8:30–17:00")
    assert entry.changes["phone"] == ["", "010-6512 3456"]
