"""The export button and page of the case list and the audit trail (django-import-export).

What an export holds is what the user sees in the list: import-export builds the queryset
from the list's ChangeList, so the admin's office scoping, the filters and the search apply.
CSV is streamed from the database as it is sent; XLSX and JSON are built in memory, and above
`EXPORT_IN_MEMORY_MAX_ROWS` rows (or when the user ticks "build it in the background", CSV
too) they are built by a worker instead and kept on the user's "My exports" page for a day
(`exports.services`, `build_background_export` below). Personal numbers are masked unless the user
may see them in full; an export with full numbers is written to the access log. Import-export
is extended through its public hooks only (`export_action`, `get_export_data`, ...): its
private methods may change in any release (tests/exports/test_public_hooks.py).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm
from import_export.signals import post_export

from common.exceptions import Refusal
from exports.context_processors import remember_pending
from exports.files import (
    attachment_header,
    background_max_rows,
    csv_response,
    escape_formula,
    export_file_name,
    export_office_label,
    sheet_title,
)
from exports.files import in_memory_max_rows as default_in_memory_max_rows
from exports.models import BackgroundExport
from exports.services import (
    BuiltExport,
    ExportRefused,
    background_export_request,
    export_source,
    export_with_full_numbers_record,
)
from offices.scoping import offices_visible_to

from .admin_search import TOKEN_VAR, search_state, searched_params, session_of
from .permissions import FULL_ID_NUMBER_PERMISSION
from .resources import AuditEntryResource, CaseResource

NO_STORE = "no-store, private"  # an export holds personal data: no cache keeps a copy
#: A list filter on an office (`office__id__exact`, an older link's `case__office__id__exact`).
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
        return self.export_rows(dataset.title, dataset.headers, dataset)

    def export_rows(self, title: str, headers: list, rows) -> bytes:
        """Return the workbook of `rows` (any iterable, read once, as it is written)."""
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
        sheet = workbook.create_sheet(title=title or None)
        sheet.append([cell(header) for header in headers])
        for row in rows:
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
    """Import-export's form, with each column offered by its translated header, and the
    choice to have the file built in the background."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        for resource in resources:
            for name, field in resource.fields.items():
                checkbox = self.fields[self.create_boolean_field_name(resource, name)]
                checkbox.label = field.column_name
        in_background = forms.BooleanField(
            label=gettext_lazy("Build it in the background"),
            required=False,
            help_text=_(
                "The file waits for you on My exports for a day. XLSX and JSON above "
                "%(limit)s rows are always built so."
            )
            % {"limit": f"{default_in_memory_max_rows():,}"},
        )
        # Right after the format, before the columns.
        fields = list(self.fields.items())
        at = next(i for i, (name, _field) in enumerate(fields) if name == "format") + 1
        fields.insert(at, ("in_background", in_background))
        self.fields = dict(fields)


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
            form = self.valid_export_form(request)
            if form is None:
                return super().export_action(request)
            if self.goes_to_background(request, form):
                return self.background_export(request, form)
            if not issubclass(self.chosen_format(form), base_formats.CSV):
                return super().export_action(request)
            return self.csv_export(request, form)
        except IncorrectLookupParameters:
            messages.error(request, _("The list's filters are not valid; export the list again."))
            return HttpResponseRedirect(self.changelist_url())

    def changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def valid_export_form(self, request) -> ExportForm | None:
        """Return the export form if it was validly posted, else None (the page, its errors,
        or an export of chosen items: import-export handles those itself)."""
        if request.method != "POST" or "export_items" in request.POST:
            return None
        formats = self.get_export_formats()
        form_class = self.get_export_form_class()
        form = form_class(formats, self.get_export_resource_classes(request), data=request.POST)
        return form if form.is_valid() else None

    def chosen_format(self, form: ExportForm) -> type[base_formats.Format]:
        return self.get_export_formats()[int(form.cleaned_data["format"])]

    def goes_to_background(self, request, form: ExportForm) -> bool:
        """Return whether the export is built by a worker: asked so, or an XLSX or JSON too
        large to build in memory while the user waits."""
        if form.cleaned_data.get("in_background"):
            return True
        file_format = self.chosen_format(form)
        if issubclass(file_format, base_formats.CSV):
            return False
        resource = self.export_resource(request, form)
        limit = self.in_memory_limit()
        too_large = resource.count_rows(self.get_export_queryset(request), up_to=limit + 1) > limit
        request.export_size_checked = True  # get_export_data need not count again
        if too_large:
            messages.info(
                request,
                _(
                    "This export has more than %(limit)s rows, too many for %(format)s while "
                    "you wait: it is built in the background instead."
                )
                % {"limit": f"{limit:,}", "format": file_format().get_title().upper()},
            )
        return too_large

    def background_export(self, request, form: ExportForm) -> HttpResponseRedirect:
        """Have a worker build the export the form asks for; off to My exports."""
        if request.GET.get(TOKEN_VAR) and not search_state(request):
            messages.error(request, _("This search by ID number has expired; search again."))
            return HttpResponseRedirect(self.changelist_url())
        try:
            export = background_export_request(
                requester=request.user,
                model=self.model,
                source=BACKGROUND_SOURCE,
                permission=self.export_permission,
                file_format=self.chosen_format(form)().get_extension(),
                params=[(k, v) for k, values in request.GET.lists() for v in values],
                columns=self.get_export_resource_fields_from_form(form) or [],
                search_state=search_state(request),
            )
        except (Refusal, PermissionDenied) as refusal:
            messages.error(request, getattr(refusal, "message", "") or str(refusal))
            return HttpResponseRedirect(request.get_full_path())  # the export page, again
        remember_pending(request.session, export.pk)
        messages.success(
            request,
            _(
                "Your export of %(objects)s is being built. It will wait for you here, on My "
                "exports, for a day; you will be told on your next page when it is ready."
            )
            % {"objects": self.opts.verbose_name_plural},
        )
        return HttpResponseRedirect(reverse("admin:exports_backgroundexport_changelist"))

    def build_background_file(self, request, export: BackgroundExport) -> BuiltExport:
        """Build the file of a background export, for the request rebuilt from it: the same
        queryset, columns, masking, escaping and names as the export page gives."""
        if not self.has_export_permission(request):
            raise ExportRefused(_("You may no longer export this list."))
        try:
            queryset = self.get_export_queryset(request)
        except IncorrectLookupParameters:
            message = _("The list's filters are not valid; export the list again.")
            raise ExportRefused(message) from None
        file_format = next(
            f() for f in self.get_export_formats() if f().get_extension() == export.file_format
        )
        resource = self.export_resource_class(**self.get_export_resource_kwargs(request))
        chosen = [name for name in export.columns if name in resource.fields] or None
        limit = background_max_rows(export.file_format)
        if resource.count_rows(queryset, up_to=limit + 1) > limit:
            raise ExportRefused(
                _(
                    "This export would have more than %(limit)s rows, the limit for "
                    "%(format)s files. Narrow the list with filters or a search."
                )
                % {"limit": f"{limit:,}", "format": file_format.get_title().upper()}
            )
        if isinstance(file_format, base_formats.CSV):
            content = b"".join(resource.export_csv(queryset, chosen))
            rows = resource.rows(queryset, resource.columns.select(chosen)).count()
        elif isinstance(file_format, SpreadsheetXLSX):
            # Written row by row as read: no Dataset of every row in the worker's memory.
            headers, cells = resource.export_cells(queryset, chosen)
            written = 0

            def counting(cells):
                nonlocal written
                for row in cells:
                    written += 1
                    yield row

            title = sheet_title(**self._export_names(request))
            content = file_format.export_rows(title, headers, counting(cells))
            rows = written
        else:
            dataset = resource.export(queryset, export_fields=chosen)
            dataset.title = sheet_title(**self._export_names(request))
            content = file_format.export_data(dataset)
            content = content.encode() if isinstance(content, str) else content
            rows = len(dataset)
        return BuiltExport(
            content=content,
            rows=rows,
            file_name=self.get_export_filename(request, queryset, file_format),
            ascii_file_name=self.get_export_ascii_filename(request, file_format),
            full_numbers=resource.full_numbers,
            full_numbers_permission=FULL_ID_NUMBER_PERMISSION if resource.full_numbers else "",
            records=queryset.count() if resource.full_numbers else rows,
            filters=searched_params(request),
        )

    def csv_export(self, request, form: ExportForm) -> StreamingHttpResponse:
        """Return the CSV the form asks for, streamed from the database as it is sent."""
        file_format = self.chosen_format(form)()
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
        if not getattr(request, "export_size_checked", False):
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

    def in_memory_limit(self) -> int:
        return self.export_in_memory_max_rows or default_in_memory_max_rows()

    def refuse_if_too_large(self, resource, queryset, file_format) -> None:
        """Refuse an in-memory export above the row limit, with a message for the page."""
        limit = self.in_memory_limit()
        if resource.count_rows(queryset, up_to=limit + 1) > limit:
            # import-export shows a ValueError's message on the export page.
            raise ValueError(
                _(
                    "This export would have more than %(limit)s rows, too many for "
                    "%(format)s. Choose CSV, or narrow the list with filters or a search."
                )
                % {"limit": f"{limit:,}", "format": file_format.get_title().upper()}
            )


BACKGROUND_SOURCE = "reissue.admin_exports.build_background_export"


@export_source
def build_background_export(export: BackgroundExport) -> BuiltExport:
    """Build a background export's file (the worker calls this, by `BACKGROUND_SOURCE`).

    The list is rebuilt by its own ModelAdmin, from a request made of what the export kept
    (the list's query parameters, the search's session state) bearing the requester: the
    very `get_export_queryset` the export page uses, so the office scoping (as the
    requester's offices are now), the filters, the search by name or whole ID number and the
    ordering are the page's, with no second definition of any of them to drift apart. A
    selector shared by both would have to re-implement the admin's filter classes.
    """
    model_admin = admin.site.get_model_admin(export.content_type.model_class())
    return model_admin.build_background_file(list_request(export, model_admin), export)


def list_request(export: BackgroundExport, model_admin) -> HttpRequest:
    """Return the GET of the list the export was asked from, by its requester."""
    params = QueryDict(mutable=True)
    for key, value in export.params:
        params.appendlist(key, value)
    query_string = params.urlencode()
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = model_admin.changelist_url()
    request.META = {"QUERY_STRING": query_string, "SERVER_NAME": "worker", "SERVER_PORT": "0"}
    request.GET = QueryDict(query_string)
    request.user = export.requester
    request.session = session_of(export.search_state)
    return request


class CaseExportMixin(ColumnExportMixin):
    export_resource_class = CaseResource
    export_permission = "reissue.export_cases"


class AuditExportMixin(ColumnExportMixin):
    export_resource_class = AuditEntryResource
    export_permission = "audit.export_audit_trail"
