"""Writes to the audit trail for changes to who may do what: users, groups, office staff.

The admin saves these objects itself (Django's user and group screens); it hands each change
here, with what the object looked like before, so the trail shows old -> new.
"""

from django.contrib.auth.models import AbstractUser, Group
from django.db import models, transaction

from offices.models import Office

from .models import AuditEntry
from .services import audit_record


def _names(queryset, *fields: str) -> str:
    return ", ".join(sorted(".".join(row) for row in queryset.values_list(*fields)))


def user_snapshot(user) -> dict[str, str]:
    """Return what the trail compares of a user, read from the database (never the hash)."""
    if user.pk is None:
        return {}
    fresh = type(user).objects.get(pk=user.pk)
    return {
        "username": fresh.get_username(),
        "is_active": str(fresh.is_active),
        "is_staff": str(fresh.is_staff),
        "is_superuser": str(fresh.is_superuser),
        "groups": _names(fresh.groups, "name"),
        "user_permissions": _names(fresh.user_permissions, "content_type__app_label", "codename"),
        "offices": _names(Office.objects.filter(staff=fresh), "code"),
    }


def group_snapshot(group: Group) -> dict[str, str]:
    """Return a group's name and permissions as the trail compares them."""
    if group.pk is None:
        return {}
    fresh = Group.objects.get(pk=group.pk)
    permissions = _names(fresh.permissions, "content_type__app_label", "codename")
    return {"name": fresh.name, "permissions": permissions}


def office_snapshot(office: Office) -> dict[str, str]:
    """Return an office's code, name and staff (by user name) as the trail compares them."""
    if office.pk is None:
        return {}
    fresh = Office.objects.get(pk=office.pk)
    return {
        "code": fresh.code,
        "name": fresh.name,
        "phone": fresh.phone,
        "opening_hours": fresh.opening_hours,
        "staff": _names(fresh.staff, "username"),
    }


def staff_change_audited(
    *,
    obj: models.Model,
    before: dict[str, str],
    after: dict[str, str],
    acting_user: AbstractUser,
    action: str = "edited",
) -> AuditEntry | None:
    """Write who changed a user, group or office, with each field's old and new value."""
    changes = {
        name: [before.get(name, ""), value]
        for name, value in after.items()
        if before.get(name, "") != value
    }
    if action == "edited" and not changes:
        return None
    with transaction.atomic():
        return audit_record(obj=obj, case=None, action=action, actor=acting_user, changes=changes)


def user_password_change_audited(*, user, acting_user: AbstractUser) -> AuditEntry:
    """Write that a user's password was changed (by whom), never the password or its hash."""
    return audit_record(obj=user, case=None, action="password_changed", actor=acting_user)
