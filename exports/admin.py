"""My exports: the user's own exports built in the background, with their downloads.

Each user sees only their own, a superuser too: the list, and the download, are scoped to the
requester; another user's export is not found (404), whatever the URL.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.exceptions import ObjectNotFound, Refusal

from . import services
from .files import attachment_header
from .models import BackgroundExport, ExportFormat, ExportStatus

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json",
}
NO_VALUE = "\u2014"


@admin.register(BackgroundExport)
class BackgroundExportAdmin(admin.ModelAdmin):
    list_display = [
        "list_label",
        "file_format",
        "state",
        "rows",
        "size_display",
        "created_at",
        "expires_at",
        "download",
    ]
    list_display_links = None
    list_per_page = 50
    empty_value_display = NO_VALUE

    def changelist_view(self, request, extra_context=None):
        title = {"title": _("My exports"), "subtitle": _("Each file is kept for a day.")}
        return super().changelist_view(request, {**title, **(extra_context or {})})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(requester_id=request.user.pk)
            .select_related("content_type")
            .defer("content")
        )

    # Every staff user has their own (empty until they export); nobody changes them.

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        allowed = self.has_module_permission(request)
        return allowed and (obj is None or obj.requester_id == request.user.pk)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}

    # The columns -------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("list"))
    def list_label(self, export: BackgroundExport) -> str:
        return export.list_name

    @admin.display(description=gettext_lazy("state"))
    def state(self, export: BackgroundExport) -> str:
        if export.status == ExportStatus.FAILED and export.failure:
            return _("%(state)s: %(reason)s") % {
                "state": export.get_status_display(),
                "reason": export.failure,
            }
        return export.get_status_display()

    @admin.display(description=gettext_lazy("size"))
    def size_display(self, export: BackgroundExport) -> str:
        return NO_VALUE if export.size is None else filesizeformat(export.size)

    @admin.display(description=gettext_lazy("file"))
    def download(self, export: BackgroundExport) -> str:
        if not export.downloadable:
            return NO_VALUE
        url = reverse("admin:exports_backgroundexport_download", args=[export.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Download"))

    # The download ------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_download"
        return [path("<str:object_id>/download/", view, name=name), *super().get_urls()]

    def download_view(self, request, object_id: str):
        # ASCII digits only: "１" and "²" are str.isdigit() too; 18 fit a bigint.
        well_formed = object_id.isascii() and object_id.isdigit() and len(object_id) <= 18
        if not well_formed or not self.has_module_permission(request):
            raise Http404(_("No such export, or it is no longer kept."))
        try:
            export = services.background_export_file(
                export_id=int(object_id), acting_user=request.user
            )
        except ObjectNotFound as missing:
            raise Http404(str(missing)) from missing
        except (Refusal, PermissionDenied) as refusal:
            messages.error(request, getattr(refusal, "message", None) or str(refusal))
            return HttpResponseRedirect(reverse("admin:exports_backgroundexport_changelist"))
        response = HttpResponse(export.file, content_type=CONTENT_TYPES[export.file_format])
        response["Content-Disposition"] = attachment_header(
            export.file_name, export.ascii_file_name
        )
        response["X-Content-SHA256"] = export.sha256
        response["Cache-Control"] = "no-store, private"  # it holds personal data
        return response
