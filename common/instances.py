"""Unsaved model instances made in bulk, for code that makes thousands (the legacy import).

`Model(**values)` looks each of the model's fields up among the values by name, catching a
KeyError for every field not given and asking it for its default: about 30 µs for a case of
fifty-two fields, of which a file's row gives ten. `new_instance` gives `Model.__init__` one
value per field in order, as `Model.from_db` does for a row read (the defaults found once
per model, a callable default called for each instance, as Django calls it): a third of the
time. The instance is the same (`tests/common/test_instances.py` compares the two).
"""

import functools
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


@functools.cache
def _plan(model: type[models.Model]) -> tuple[tuple[tuple[str, Any, bool], ...], frozenset]:
    """Return each concrete field's (attname, default, default called per instance) in the
    order `Model.__init__` takes them, and the names the values may give besides: the
    related fields' (an object) and the model's properties."""
    fields = model._meta.concrete_fields
    plan = tuple(
        (f.attname, f.get_default if per_instance else f.get_default(), per_instance)
        for f in fields
        for per_instance in [f.has_default() and callable(f.default)]
    )
    others = frozenset([*(f.name for f in fields if f.is_relation), *model._meta._property_names])
    return plan, others


def new_instance(model: type[M], **values: Any) -> M:
    """Return `model(**values)`, made positionally: the fields by attname (`office_id`), a
    related object by its field's name (`office`) or a property, set after the others."""
    plan, others = _plan(model)
    args = [
        values.pop(attname) if attname in values else default() if per_instance else default
        for attname, default, per_instance in plan
    ]
    if unexpected := [name for name in values if name not in others]:
        names = ", ".join(repr(name) for name in unexpected)
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {names}")
    instance = model(*args)
    for name, value in values.items():
        setattr(instance, name, value)
    return instance
