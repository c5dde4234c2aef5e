"""Which model fields hold personal numbers, and how each is masked.

A field is declared a personal number where it is defined, with the function that masks it
(`EncryptedCharField(..., personal_number=mask_id_number)`). Everything that shows values to
people who may not see the numbers in full reads that declaration from here: the audit trail
(`audit.services`), the exports (`exports.files.Columns`), the admin's masked columns and
read-only fields, and the legacy import's preview.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models

Mask = Callable[[str], str]


def personal_number_mask(field: Any) -> Mask | None:
    """Return the function masking the personal number `field` holds, or None if it holds none."""
    return getattr(field, "personal_number", None)


def personal_number_fields(model: type[models.Model]) -> dict[str, Mask]:
    """Return {field name: mask} of the personal numbers `model` declares."""
    return {
        field.name: mask
        for field in model._meta.concrete_fields
        if (mask := personal_number_mask(field)) is not None
    }


def personal_numbers_by_name() -> dict[str, Mask]:
    """Return {field name: mask} of every installed model's personal numbers, for values known
    by a field name only (the first model declaring a name gives its mask)."""
    masks: dict[str, Mask] = {}
    for model in apps.get_models():
        for name, mask in personal_number_fields(model).items():
            masks.setdefault(name, mask)
    return masks


def field_at(model: type[models.Model], path: str) -> models.Field:
    """Return the model field at the lookup `path` (`applicant__id_number`) from `model`."""
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field


def masked_value(value: Any, mask: Mask | None) -> Any:
    """Return `value` masked by `mask` (none: as it is); an empty value stays empty."""
    return mask(str(value)) if mask is not None and value not in (None, "") else value


@cache
def masked_column(model: type[models.Model], path: str, description: Any = None):
    """Return an admin column (a ModelAdmin method) showing the personal number at `path`
    masked, the same function each time so that it can stand in fieldsets and
    readonly_fields alike. The mask is read when the column is shown."""
    field = field_at(model, path)
    attributes = path.split("__")

    @admin.display(description=description or field.verbose_name)
    def column(obj):
        value = obj
        for attribute in attributes:
            value = getattr(value, attribute, None)
        return masked_value(value, personal_number_mask(field)) or None  # None reads "-"

    column.__name__ = f"masked_{attributes[-1]}"
    return column


def masked_columns(model: type[models.Model]) -> dict[str, Callable]:
    """Return {field name: its masked admin column} for the personal numbers of `model`."""
    return {name: masked_column(model, name) for name in personal_number_fields(model)}
