"""Reads of the audit trail shared by every app: an object's history, a step's last entry."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from .models import AuditEntry


def object_audit_trail(*, obj) -> QuerySet[AuditEntry]:
    """Return the audit entries of any one object (a claim, a policy) in time order."""
    return (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
        )
        .select_related("actor", "content_type")
        .order_by("at", "id")
    )


def last_step_entry(*, obj, name: str) -> AuditEntry | None:
    """Return the newest audit entry of the step `name` taken on `obj`, with who took it."""
    return object_audit_trail(obj=obj).filter(action=name).order_by("-at", "-id").first()
