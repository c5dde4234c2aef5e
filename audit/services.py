"""Writes to the audit trail: one entry per change, linked into its hash chain, and the
snapshots that say what changed (personal numbers masked: the trail has more readers)."""

import datetime
import json
from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from common.personal_numbers import (
    Mask,
    personal_number_fields,
    personal_numbers_by_name,
)

from .chain import chain_append
from .models import AuditEntry


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


def _audit_value(value: Any, mask: Mask | None = None) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dict | list):
        # Kept as JSON, not as Python's repr: the trail's pages read it back to show it.
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    # The trail is read by more people than may see a personal number in full: kept masked.
    return mask(str(value)) if mask is not None else str(value)


def _masks(model: type[models.Model] | None) -> dict[str, Mask]:
    """Return the masks of `model`'s personal numbers; without a model, those of every field
    named as some model's personal number (the trail never keeps one in full)."""
    return personal_number_fields(model) if model is not None else personal_numbers_by_name()


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


def snapshot_changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    model: type[models.Model] | None = None,
) -> dict[str, list[str]]:
    """Return {field: [old, new]} for the fields of `model` that differ, ready for the audit
    trail: its personal numbers masked as the model declares them."""
    masks = _masks(model)
    return {
        name: [_audit_value(before[name], masks.get(name)), _audit_value(value, masks.get(name))]
        for name, value in after.items()
        if _identity(before[name]) != _identity(value) and name != "state"
    }


def _identity(value: Any) -> Any:
    # A related object may be loaded on one side only (validation loads it): compare its id.
    return value.pk if isinstance(value, models.Model) else value


def _apply_changes(instance: models.Model, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Set the given fields and return {field: [old, new]} for those that really changed."""
    changes, masks = {}, personal_number_fields(type(instance))
    for field, value in data.items():
        old = getattr(instance, field)
        if old != value:
            setattr(instance, field, value)
            changes[field] = [
                _audit_value(old, masks.get(field)),
                _audit_value(value, masks.get(field)),
            ]
    return changes
