"""Unsaved model instances made in bulk, for code that makes thousands (the legacy import).

`Model(**values)` looks each of the model's fields up among the values by name, catching a
KeyError for every field not given and asking it for its default: about 25 µs for a case of
fifty-two fields, of which a file's row gives ten. `new_instance` gives `Model.__init__` one
value per field in order, as `Model.from_db` does for a row read (the defaults found once
per model, a callable default called for each instance, as Django calls it): about half
the time. The instance is the same (`tests/common/test_instances.py` compares the two).
"""

import functools
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


@functools.cache
def _plan(model: type[models.Model]) -> tuple[list, dict[str, int], tuple, frozenset] | None:
    """Return the concrete fields' defaults in the order `Model.__init__` takes them, the
    place of each field's attname there, the places and fields whose default is called per
    instance, and the names the values may give besides: the related fields' (an object)
    and the model's properties. None for a model this does not make as Django does (a
    generated field, a database default: left unset or made afresh by `Model()`)."""
    fields = model._meta.concrete_fields
    if any(f.generated or f.has_db_default() for f in fields):
        return None
    per_instance = tuple(
        (place, field)
        for place, field in enumerate(fields)
        if field.has_default() and callable(field.default)
    )
    called = {place for place, _field in per_instance}
    defaults = [None if place in called else f.get_default() for place, f in enumerate(fields)]
    places = {field.attname: place for place, field in enumerate(fields)}
    others = frozenset([*(f.name for f in fields if f.is_relation), *model._meta._property_names])
    return defaults, places, per_instance, others


def new_instance(model: type[M], **values: Any) -> M:
    """Return `model(**values)`, made positionally: the fields by attname (`office_id`), a
    related object by its field's name (`office`) or a property, set after the others.
    Anything else (a private field, a name that is none) goes to `model(**values)`."""
    plan = _plan(model)
    if plan is None or not values.keys() <= plan[1].keys() | plan[3]:
        return model(**values)
    defaults, places, per_instance, others = plan
    args = defaults.copy()
    for place, field in per_instance:
        if field.attname not in values:  # as Django, which calls it only when not given
            args[place] = field.get_default()
    later = {}
    for name, value in values.items():
        if name in places:
            args[places[name]] = value
        else:
            later[name] = value
    instance = model(*args)
    for name, value in later.items():
        setattr(instance, name, value)
    return instance
