"""The case list's "past the service deadline" filter, linked from the dashboard."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .calendar import deadline_working_days, overdue_case_filter


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
