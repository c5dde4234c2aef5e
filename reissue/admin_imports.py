"""The import button and pages of the case list: legacy cases from CSV or XLSX files.

import-export's two steps: the upload is checked in full (a dry run that writes nothing) and
the preview lists every bad row and why; only a file without errors can be confirmed, and
the confirmed import checks it again and writes it whole or not at all. The checks and the
writes are `legacy_import.LegacyCaseImport`'s, shared with `manage.py import_cases`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from import_export.admin import ImportMixin

from .legacy_import import (
    IMPORT_PERMISSION,
    ImportRefused,
    LegacyCaseResource,
    LegacyCSV,
    LegacyXLSX,
)


class CaseImportMixin(ImportMixin):
    """Import legacy cases, for users with `reissue.import_cases`."""

    # The list offers both buttons: this mixin comes before the export mixin.
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    import_error_display = ("message",)
    # The audit trail records every imported case; the admin's own log would repeat it.
    skip_admin_log = True

    def has_import_permission(self, request) -> bool:
        user = request.user
        return user.is_active and user.has_perm(IMPORT_PERMISSION)

    def get_import_formats(self):
        return [LegacyCSV, LegacyXLSX]

    def get_import_resource_classes(self, request):
        return [LegacyCaseResource]

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return super().process_import(request, **kwargs)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The cases changed between the preview and the confirmation: nothing was written.
            for error in result.base_errors:
                messages.error(request, str(error.error))
            if result.has_validation_errors():
                messages.error(
                    request,
                    _(
                        "Nothing was imported: %(count)d rows no longer pass the checks. "
                        "Import the file again to see them."
                    )
                    % {"count": len(result.invalid_rows)},
                )
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        return super().process_result(result, request)

    def add_success_message(self, result, request) -> None:
        messages.success(
            request,
            _("Imported %(count)d cases; each starts at “reported”.")
            % {"count": len(result.valid_rows())},
        )
