"""The supervisor dashboard and the holiday calendar in the admin."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from exports.files import export_office_label
from ratings.models import RatingLevel
from reports import charts, downloads
from workdays.calendar import deadline_working_days, years_without_calendar

from .forms import DashboardForm, default_period
from .models import SupervisorDashboard
from .selectors import Dashboard, Period, ratings_per_office_month, supervisor_dashboard

VIEW_REPORTS_PERMISSION = "reports.view_reports"


@admin.register(SupervisorDashboard)
class SupervisorDashboardAdmin(admin.ModelAdmin):
    """No list of objects: the entry in the app list opens the dashboard."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.has_perm(VIEW_REPORTS_PERMISSION)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        prefix = "reports_supervisordashboard"
        return [
            path("", self.admin_site.admin_view(self.dashboard_view), name=f"{prefix}_changelist"),
            path("download.csv", self.admin_site.admin_view(self.csv_view), name=f"{prefix}_csv"),
            path(
                "download.xlsx", self.admin_site.admin_view(self.xlsx_view), name=f"{prefix}_xlsx"
            ),
        ]

    def _dashboard(self, request) -> tuple[DashboardForm, Dashboard]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DashboardForm(request.GET if request.GET else None, user=request.user)
        if form.is_bound and form.is_valid():
            period = Period(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
            office = form.cleaned_data["office"]
        else:
            period, office = Period(*default_period()), None
        return form, supervisor_dashboard(user=request.user, period=period, office=office)

    def dashboard_view(self, request):
        form, dashboard = self._dashboard(request)
        query = urlencode({key: value for key, value in request.GET.items() if key in form.fields})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Supervisor dashboard"),
            "form": form,
            "dashboard": dashboard,
            "tables": {table.key: table for table in downloads.dashboard_tables(dashboard)},
            "charts": charts.dashboard_charts(dashboard),
            "deadline_days": deadline_working_days(),
            "years_without_calendar": years_without_calendar(),
            "overdue_url": overdue_list_url(form),
            "ratings": ratings_per_office_month(
                user=request.user, period=dashboard.period, office=_chosen_office(form)
            ),
            "rating_levels": RatingLevel.labels,
            "csv_url": f"{reverse('admin:reports_supervisordashboard_csv')}?{query}",
            "xlsx_url": f"{reverse('admin:reports_supervisordashboard_xlsx')}?{query}",
        }
        return TemplateResponse(request, "admin/reports/dashboard.html", context)

    def csv_view(self, request):
        form, dashboard = self._dashboard(request)
        tables = downloads.dashboard_tables(dashboard)
        return downloads.dashboard_csv(tables, *_filenames(request, form, dashboard))

    def xlsx_view(self, request):
        form, dashboard = self._dashboard(request)
        tables = downloads.dashboard_tables(dashboard)
        return downloads.dashboard_xlsx(tables, *_filenames(request, form, dashboard))


def _filenames(request, form: DashboardForm, dashboard: Dashboard) -> tuple[str, str]:
    """Return the download's name for people (DC-主管统计看板-2025-09-29至2025-10-26) and for
    clients that read only ASCII (DC-dashboard-20250929-20251026)."""
    period = dashboard.period
    office = form.cleaned_data.get("office") if form.is_bound and form.is_valid() else None
    whose = export_office_label(user=request.user, office=office)
    span = pgettext("a period in a file name", "%(from)s to %(to)s") % {
        "from": period.date_from.isoformat(),
        "to": period.date_to.isoformat(),
    }
    name = f"{whose}-{SupervisorDashboard._meta.verbose_name}-{span}"
    ascii_whose = whose if whose.isascii() else "all"
    return name, f"{ascii_whose}-dashboard-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}"


def _chosen_office(form: DashboardForm):
    return form.cleaned_data.get("office") if form.is_bound and form.is_valid() else None


def overdue_list_url(form: DashboardForm) -> str:
    """Return the case list filtered to the overdue cases of the dashboard's office(s)."""
    query = {"overdue": "1"}
    office = form.cleaned_data.get("office") if form.is_bound and form.is_valid() else None
    if office is not None:
        query["office__id__exact"] = office.pk
    return f"{reverse('admin:reissue_reissuecase_changelist')}?{urlencode(query)}"
