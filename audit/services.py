"""Writes to the audit trail: one entry per change, linked into its hash chain, and the
snapshots that say what changed (personal numbers masked: the trail has more readers)."""

import datetime
import json
from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from common.id_numbers import mask_id_number, mask_phone

from .chain import chain_append
from .models import AuditEntry

# Fields whose values the audit trail keeps masked: the trail is read by more people than
# may see a full ID number.
MASKED_IN_AUDIT = {"id_number", "agent_id_number"}


def audit_record(
    *,
    obj: models.Model,
    case: models.Model | None,
    action: str,
    actor,
    source_state: str = "",
    target_state: str = "",
    comment: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail, linked into its hash chain."""
    entry = AuditEntry(
        case=case,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        action=action,
        source_state=source_state,
        target_state=target_state,
        actor=actor,
        comment=comment,
        changes=dict(changes or {}),
    )
    return chain_append(entry)


def _audit_value(field: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict | list):
        # Kept as JSON, not as Python's repr: the trail's pages read it back to show it.
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if field == "phone":
        return mask_phone(str(value))
    return mask_id_number(str(value)) if field in MASKED_IN_AUDIT else str(value)


def field_snapshot(instance: models.Model) -> dict[str, Any]:
    """Return the instance's field values, to compare before and after a step.

    A foreign key counts by the object already loaded on the instance (a user reads a name,
    not an id); one not loaded counts by its id, without a query.
    """
    snapshot = {}
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.is_cached(instance):
            snapshot[field.name] = getattr(instance, field.name)
        else:
            snapshot[field.name] = getattr(instance, field.attname)
    return snapshot


def snapshot_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return {field: [old, new]} for the fields that differ, ready for the audit trail."""
    return {
        name: [_audit_value(name, before[name]), _audit_value(name, value)]
        for name, value in after.items()
        if _identity(before[name]) != _identity(value) and name != "state"
    }


def _identity(value: Any) -> Any:
    # A related object may be loaded on one side only (validation loads it): compare its id.
    return value.pk if isinstance(value, models.Model) else value


def _apply_changes(instance: models.Model, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Set the given fields and return {field: [old, new]} for those that really changed."""
    changes = {}
    for field, value in data.items():
        old = getattr(instance, field)
        if old != value:
            setattr(instance, field, value)
            changes[field] = [_audit_value(field, old), _audit_value(field, value)]
    return changes
