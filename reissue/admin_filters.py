"""List filters shared by the clerks' lists."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction, PersonalDataAccess, step_labels
from common.dates import EARLIEST_DATE, LATEST_DATE, supported_date_error, validate_supported_date
from workdays.calendar import deadline_working_days
from workflow.transitions import state_labels

from . import work_queue
from .deadlines import overdue_case_filter


class SupportedDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter; a date typed into the URL outside the supported range is refused
    with a message (a year-1 moment overflows on its way to the database).

    Every lookup typed on the field (`__lte`, `__date__gte`, ...) passes through this filter,
    not only the two its links use, so none reaches the database unchecked.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.typed_parameters = [key for key in params if key.startswith(f"{field_path}__")]
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self):
        return list(dict.fromkeys([*super().expected_parameters(), *self.typed_parameters]))

    def queryset(self, request, queryset):
        for key, values in self.used_parameters.items():
            for value in _flat(values):
                if isinstance(value, str) and not _supported(key, value):
                    messages.error(request, supported_date_error())
                    raise IncorrectLookupParameters(supported_date_error())
        return super().queryset(request, queryset)


def _flat(values):
    """Yield each typed value: `__in` comes split into a list, a `__range` as "from,to"."""
    for value in values if isinstance(values, list | tuple) else [values]:
        if isinstance(value, list | tuple):
            yield from _flat(value)
        elif isinstance(value, str):
            yield from value.split(",")
        else:
            yield value


def _supported(lookup: str, value: str) -> bool:
    """Return False for a date, a moment or a year outside the supported range."""
    if lookup.endswith("year"):
        if not value.strip().lstrip("-").isdigit():
            return True  # not a year at all: Django's filter refuses it as it always has
        return EARLIEST_DATE.year <= int(value) <= LATEST_DATE.year
    try:
        moment = forms.DateTimeField().to_python(value)
    except ValidationError:
        return True  # not a date at all: Django's filter refuses it as it always has
    try:
        validate_supported_date(moment)
    except ValidationError:
        return False
    return True


class KnownValuesListFilter(admin.SimpleListFilter):
    """A filter offering a known vocabulary by its labels, not the column's distinct values:
    `SELECT DISTINCT` would read the whole audit trail on every page (and show codes)."""

    def labels(self) -> dict[str, str]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return list(self.labels().items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(**{self.parameter_name: value})


class AuditActionListFilter(KnownValuesListFilter):
    title = gettext_lazy("action")
    parameter_name = "action"

    def labels(self) -> dict[str, str]:
        return {
            **{action.value: str(action.label) for action in AuditAction},
            **step_labels(),
        }


class AuditTargetStateListFilter(KnownValuesListFilter):
    title = gettext_lazy("to state")
    parameter_name = "target_state"

    def labels(self) -> dict[str, str]:
        return state_labels()


class AccessedFieldListFilter(KnownValuesListFilter):
    title = gettext_lazy("field")
    parameter_name = "field"

    def labels(self) -> dict[str, str]:
        return {
            field: PersonalDataAccess(field=field).field_display()
            for field in ("id_number", "agent_id_number", "export")
        }


class OverdueListFilter(admin.SimpleListFilter):
    title = _("service deadline")
    parameter_name = "overdue"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rule in the title: overdue from the day after the Nth working day, not "more than N".
        self.title = _("service deadline: working day %(days)s after the report") % {
            "days": deadline_working_days()
        }

    def lookups(self, request, model_admin):
        return [("1", _("past the deadline"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(overdue_case_filter())
        return queryset


class ClockListFilter(admin.SimpleListFilter):
    """The cases a clock brings to the counter (the work queue's links: `reissue.clock_queue`)."""

    title = _("temporary cards and reports")
    parameter_name = "clock"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _condition) in clock_filters().items()]

    def queryset(self, request, queryset):
        chosen = clock_filters().get(self.value() or "")
        return queryset if chosen is None else queryset.filter(chosen[1]())


def clock_filters() -> dict[str, tuple[str, Callable[[], Q]]]:
    """Return key -> (label, condition read now) of the clock list filter."""
    today = timezone.localdate()
    return {
        "temp_card_expiring": (
            _("temporary card expires within %(days)s days")
            % {"days": work_queue.TEMP_CARD_WARNING_DAYS},
            lambda: work_queue.temp_card_expiring_filter(today),
        ),
        "temp_card_expired": (
            _("temporary card expired, not handed back"),
            lambda: work_queue.temp_card_expired_filter(today),
        ),
        "cover_gap": (
            _("medical cover gap"),
            lambda: work_queue.medical_cover_gap_filter(today),
        ),
        "lapsing": (
            _("temporary loss report lapses within %(days)s days")
            % {"days": work_queue.LAPSE_WARNING_DAYS},
            lambda: work_queue.lapsing_soon_filter(timezone.now()),
        ),
        "collection": (
            _("new card waiting for collection"),
            work_queue.awaiting_collection_filter,
        ),
    }
