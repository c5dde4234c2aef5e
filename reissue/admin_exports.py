"""The export button and page of the case list and the audit trail (django-import-export).

What an export holds is what the user sees in the list: import-export builds the queryset
from the list's ChangeList, so the admin's office scoping, the filters and the search apply.
CSV is streamed from the database as it is sent; XLSX and JSON are built in memory and so
refused above `EXPORT_IN_MEMORY_MAX_ROWS` rows. Personal numbers are masked unless the user
may see them in full; an export with full numbers is written to the access log. Import-export
is extended through its public hooks only (`export_action`, `get_export_data`, ...): its
private methods may change in any release (tests/exports/test_public_hooks.py).
"""

import re

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm
from import_export.signals import post_export

from exports.files import (
    attachment_header,
    csv_response,
    escape_formula,
    export_file_name,
    export_office_label,
    sheet_title,
)
from exports.files import in_memory_max_rows as default_in_memory_max_rows
from exports.services import export_with_full_numbers_record
from offices.scoping import offices_visible_to

from .admin_search import searched_params
from .resources import AuditEntryResource, CaseResource

NO_STORE = "no-store, private"  # an export holds personal data: no cache keeps a copy
#: A list filter on an office (`office__id__exact`, a claim's `case__office__id__exact`).
OFFICE_FILTER = re.compile(r"(^|__)office__id__exact$")


def _escape_dataset_formulae(dataset) -> None:
    for index, row in enumerate(dataset):
        dataset[index] = [escape_formula(c) if isinstance(c, str) else c for c in row]


class SpreadsheetCSV(base_formats.CSV):
    """CSV, streamed by the export view; if ever built in memory, escaped like the stream."""

    def export_data(self, dataset, **kwargs):
        _escape_dataset_formulae(dataset)
        return super().export_data(dataset, **kwargs)


class SpreadsheetXLSX(base_formats.XLSX):
    """XLSX with formulae escaped and characters XML cannot hold replaced, written row by
    row (openpyxl's write-only mode keeps no cell objects)."""

    def export_data(self, dataset, **kwargs):
        from io import BytesIO

        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        words = {True: _("yes"), False: _("no")}  # as the CSV writes them

        def cell(value):
            if isinstance(value, bool):
                return words[value]
            if not isinstance(value, str):
                return value
            return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", escape_formula(value))

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=dataset.title or None)
        sheet.append([cell(header) for header in dataset.headers])
        for row in dataset:
            sheet.append([cell(value) for value in row])
        output = BytesIO()
        workbook.save(output)
        return output.getvalue()


#: The only formats any export offers: the two spreadsheets escape formulae, JSON is data.
#: TSV, HTML, ODS and the rest of import-export's defaults are not offered.
EXPORT_FORMATS = [SpreadsheetCSV, SpreadsheetXLSX, base_formats.JSON]


class SafeExportMixin(ExportMixin):
    """Import-export's export, offering only EXPORT_FORMATS (every export admin uses this),
    its file and sheet named for people (the office, what it holds, the day) and kept out of
    caches (it holds personal data)."""

    def get_export_formats(self):
        return list(EXPORT_FORMATS)

    def export_office(self, request) -> str:
        """Return whose the export is: the office the list is filtered to, the user's own
        offices, or "all offices" for a user who sees every office."""
        office = None
        for key, value in request.GET.items():
            if OFFICE_FILTER.search(key) and value.isdigit():
                office = offices_visible_to(request.user).filter(pk=value).first() or office
        return export_office_label(user=request.user, office=office)

    def _export_names(self, request) -> dict:
        return {
            "office": self.export_office(request),
            "subject": str(self.model._meta.verbose_name_plural),
            "day": timezone.localdate(),
        }

    def get_export_filename(self, request, queryset, file_format):
        return export_file_name(
            **self._export_names(request), extension=file_format.get_extension()
        )

    def get_export_ascii_filename(self, request, file_format) -> str:
        """Return the file name for clients that read no UTF-8 names: DC-reissuecase-2026-12-01."""
        names = self._export_names(request)
        office = names["office"] if names["office"].isascii() else "all"
        return export_file_name(
            office=office,
            subject=self.model._meta.model_name,
            day=names["day"],
            extension=file_format.get_extension(),
        )

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        data.title = sheet_title(**self._export_names(request))  # the XLSX sheet's name
        return data

    def export_action(self, request):
        response = super().export_action(request)
        if response.has_header("Content-Disposition"):  # import-export made a file
            file_format = self.format_of(response)
            response["Content-Disposition"] = attachment_header(
                self.get_export_filename(request, None, file_format),
                self.get_export_ascii_filename(request, file_format),
            )
            response["Cache-Control"] = NO_STORE
        return response

    def format_of(self, response) -> base_formats.Format:
        """Return the format of a file import-export made, known by its content type."""
        content_type = response["Content-Type"].split(";")[0]
        formats = self.get_export_formats()
        return next(f() for f in formats if f().get_content_type() == content_type)


class ExportForm(SelectableFieldsExportForm):
    """Import-export's form, with each column offered by its translated header."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        for resource in resources:
            for name, field in resource.fields.items():
                checkbox = self.fields[self.create_boolean_field_name(resource, name)]
                checkbox.label = field.column_name


class ColumnExportMixin(SafeExportMixin):
    """Export a list through one `ColumnResource`, to users with `export_permission`.

    A CSV is streamed here, through import-export's public parts (its form, queryset,
    resource and signal); the export page and the in-memory formats are import-export's own,
    through `get_export_data`, which refuses a file too large to hold in memory.
    """

    export_resource_class = CaseResource
    export_permission = ""
    export_form_class = ExportForm
    #: Rows an XLSX or JSON export may hold; None: the setting EXPORT_IN_MEMORY_MAX_ROWS.
    export_in_memory_max_rows: int | None = None

    def has_export_permission(self, request) -> bool:
        user = request.user
        return user.is_active and user.has_perm(self.export_permission)

    def get_export_resource_classes(self, request):
        return [self.export_resource_class]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def export_action(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            form = self.csv_export_form(request)
            if form is None:
                return super().export_action(request)
            return self.csv_export(request, form)
        except IncorrectLookupParameters:
            messages.error(request, _("The list's filters are not valid; export the list again."))
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))

    def csv_export_form(self, request) -> ExportForm | None:
        """Return the export form if it validly asks for a CSV, else None (the page, another
        format, or an export of chosen items: import-export handles those itself)."""
        if request.method != "POST" or "export_items" in request.POST:
            return None
        formats = self.get_export_formats()
        form_class = self.get_export_form_class()
        form = form_class(formats, self.get_export_resource_classes(request), data=request.POST)
        if not form.is_valid():
            return None  # import-export shows the page with the form's errors
        chosen = formats[int(form.cleaned_data["format"])]
        return form if issubclass(chosen, base_formats.CSV) else None

    def csv_export(self, request, form: ExportForm) -> StreamingHttpResponse:
        """Return the CSV the form asks for, streamed from the database as it is sent."""
        file_format = self.get_export_formats()[int(form.cleaned_data["format"])]()
        queryset = self.get_export_queryset(request)
        resource = self.export_resource(request, form)
        response = csv_response(
            resource.export_csv(queryset, self.get_export_resource_fields_from_form(form)),
            filename=self.get_export_filename(request, queryset, file_format),
            ascii_filename=self.get_export_ascii_filename(request, file_format),
        )
        response["Cache-Control"] = NO_STORE
        post_export.send(sender=None, model=self.model)
        self.record_full_numbers(request, resource, queryset, file_format)
        return response

    def get_export_data(self, file_format, request, queryset, **kwargs):
        resource = self.export_resource(request, kwargs.get("export_form"))
        self.refuse_if_too_large(resource, queryset, file_format)
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        self.record_full_numbers(request, resource, queryset, file_format)
        return data

    def export_resource(self, request, form):
        """Return the resource the export form chose, made for the requesting user."""
        resource_class = self.choose_export_resource_class(form, request)
        return resource_class(**self.get_export_resource_kwargs(request, export_form=form))

    def record_full_numbers(self, request, resource, queryset, file_format) -> None:
        """Write an export holding full personal numbers to the access log."""
        if resource.full_numbers:
            export_with_full_numbers_record(
                acting_user=request.user,
                model=self.model,
                count=queryset.count(),
                file_format=file_format.get_title().upper(),
                filters=searched_params(request),
            )

    def refuse_if_too_large(self, resource, queryset, file_format) -> None:
        """Refuse an in-memory export above the row limit, with a message for the page."""
        limit = self.export_in_memory_max_rows or default_in_memory_max_rows()
        if resource.count_rows(queryset, up_to=limit + 1) > limit:
            # import-export shows a ValueError's message on the export page.
            raise ValueError(
                _(
                    "This export would have more than %(limit)s rows, too many for "
                    "%(format)s. Choose CSV, or narrow the list with filters or a search."
                )
                % {"limit": f"{limit:,}", "format": file_format.get_title().upper()}
            )


class CaseExportMixin(ColumnExportMixin):
    export_resource_class = CaseResource
    export_permission = "reissue.export_cases"


class AuditExportMixin(ColumnExportMixin):
    export_resource_class = AuditEntryResource
    export_permission = "audit.export_audit_trail"
