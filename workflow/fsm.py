"""django-fsm's pieces as our FSM models use them."""

import django_fsm
from django_fsm import FSMFieldMixin


class ConcurrentTransitionMixin(django_fsm.ConcurrentTransitionMixin):
    """django-fsm's guard against a state changed meanwhile, its state fields found once.

    django-fsm looks for them through every field of the model each time an instance is made
    (some fifty fields for a case, for each of a list's hundred rows); they are the model's.
    """

    @property
    def state_fields(self) -> tuple[FSMFieldMixin, ...]:
        model = type(self)
        found = model.__dict__.get("_fsm_state_fields")
        if found is None:
            found = tuple(f for f in self._meta.fields if isinstance(f, FSMFieldMixin))
            model._fsm_state_fields = found
        return found
