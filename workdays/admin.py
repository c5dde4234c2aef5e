"""The holiday calendar in the admin."""

from django.contrib import admin
from django.utils.translation import pgettext_lazy

from workdays import services

from .holiday_source import holiday_name_display
from .models import CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Supervisors and auditors read the calendar; only superusers change it (migration 0004),
    as it moves every office's deadlines. Every change goes to the audit trail."""

    list_display = ["date", "kind", "holiday_name"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name"]

    @admin.display(description=pgettext_lazy("holiday", "name"), ordering="name")
    def holiday_name(self, obj: CalendarDay) -> str:
        return holiday_name_display(obj.name)

    def save_model(self, request, obj, form, change):
        services.calendar_day_save(day=obj, acting_user=request.user)

    def delete_model(self, request, obj):
        services.calendar_day_delete(day=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for day in queryset:
            services.calendar_day_delete(day=day, acting_user=request.user)
