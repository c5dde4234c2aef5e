"""List filters shared by the clerks' lists."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

from .dates import supported_date_error, validate_supported_date


class SupportedDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter; a date typed into the URL outside the supported range is refused
    with a message (a year-1 moment overflows on its way to the database)."""

    def queryset(self, request, queryset):
        for values in self.used_parameters.values():
            for value in values if isinstance(values, list) else [values]:
                if not _supported(value):
                    messages.error(request, supported_date_error())
                    raise IncorrectLookupParameters(supported_date_error())
        return super().queryset(request, queryset)


def _supported(value) -> bool:
    try:
        moment = forms.DateTimeField().to_python(value)
    except ValidationError:
        return True  # not a date at all: Django's filter refuses it as it always has
    try:
        validate_supported_date(moment)
    except ValidationError:
        return False
    return True
