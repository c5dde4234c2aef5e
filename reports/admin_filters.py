"""The case list's "past the service deadline" filter, linked from the dashboard."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .calendar import overdue_case_filter


class OverdueListFilter(admin.SimpleListFilter):
    title = _("service deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("past the deadline"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(overdue_case_filter())
        return queryset
