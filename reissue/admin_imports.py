"""The import button and pages of the case list: legacy cases from CSV or XLSX files.

import-export's two steps: the upload is checked in full (a dry run that writes nothing) and
the preview lists every bad row and why; only a file without errors can be confirmed, and
the confirmed import checks it again and writes it whole or not at all. The checks and the
writes are `legacy_import.LegacyCaseImport`'s, shared with `manage.py import_cases`.

Between the preview and the confirmation the file waits in the database, encrypted
(`ImportUploadStorage`), never in a temporary folder: it holds ID and phone numbers, and the
confirmation may reach another app server. Only its uploader can confirm it; a file the
preview refuses is dropped at once, one never confirmed after a day.

A file of more than IMPORT_IN_REQUEST_MAX_ROWS rows is not checked within the request: a
worker checks it (`legacy_import.background`), and its uploader watches a page that reloads
itself (no script: the CSP allows none) with a progress bar, then the bad rows or the first
rows and the confirm button; confirmed, the worker imports it, the page showing the progress.
Only the uploader sees that page (anyone else: 404).
"""

import base64
import contextvars
import uuid
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import BaseStorage

from . import tasks
from .legacy_import import (
    COLUMNS,
    IMPORT_PERMISSION,
    ForTheWorker,
    ImportRefused,
    LegacyCaseResource,
    LegacyCSV,
    LegacyXLSX,
    clean_file_name,
    column_label,
    import_columns,
    labelled_errors,
    megabytes,
)
from .legacy_import.background import confirm_upload, purge_uploads, upload_for_worker
from .models import ImportState, ImportUpload

IMPORT_FORMATS = [LegacyCSV, LegacyXLSX]


class LegacyImportForm(ImportForm):
    """import-export's upload form, refusing a file larger than the browser imports."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["import_file"].help_text = _(
            "A .csv or .xlsx file of at most %(size)s MB and %(rows)s rows; one of more "
            "than %(in_request)s rows is checked and imported in the background, its "
            "progress shown on a page. Larger files are imported with “manage.py "
            "import_cases”."
        ) % {
            "size": megabytes(settings.IMPORT_MAX_UPLOAD_BYTES),
            "rows": f"{settings.IMPORT_MAX_BROWSER_ROWS:,}",
            "in_request": f"{settings.IMPORT_IN_REQUEST_MAX_ROWS:,}",
        }

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "This file is %(size)s MB; the browser imports files of at most %(most)s "
                    "MB. Split it, or ask an administrator to import it with "
                    "“manage.py import_cases”."
                )
                % {
                    "size": megabytes(upload.size),
                    "most": megabytes(settings.IMPORT_MAX_UPLOAD_BYTES),
                },
                code="too_large",
            )
        return upload


class LegacyConfirmImportForm(ConfirmImportForm):
    """import-export's confirmation, its format one of ours (a forged one is a form error).

    The file's name is not taken from it: the audit trail names the stored upload's.
    """

    format = forms.ChoiceField(
        choices=[(str(index), str(index)) for index in range(len(IMPORT_FORMATS))],
        widget=forms.HiddenInput(),
    )
    original_file_name = forms.CharField(widget=forms.HiddenInput(), required=False)


@dataclass
class _ImportRequest:
    """The request being handled, for the storages import-export builds without it."""

    user: object
    saved: list[str] = field(default_factory=list)  # names of the uploads it saved
    for_worker: str = ""  # the format of a file too long for the request, if it is one


_current_request: contextvars.ContextVar[_ImportRequest | None] = contextvars.ContextVar(
    "import_request", default=None
)


class ImportUploadStorage(BaseStorage):
    """import-export's temporary storage: an encrypted `ImportUpload` row of its owner."""

    def __init__(self, *, owner=None, file_name: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.owner = owner
        self.file_name = file_name

    def save(self, data: bytes | str) -> None:
        if self.owner is None:
            raise PermissionDenied
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        # Uploads left alone for a day go when the next one comes (never a worker's).
        purge_uploads()
        upload = ImportUpload.objects.create(
            owner=self.owner,
            content=base64.b64encode(data).decode("ascii"),
            file_name=clean_file_name(self.file_name),
        )
        self.name = upload.name.hex

    def stored_file_name(self) -> str:
        """Return the name the file was uploaded under, as it was stored (cleaned)."""
        return self._uploads().values_list("file_name", flat=True).first() or ""

    def read(self) -> bytes | str:
        upload = self._uploads().first()
        if upload is None:
            raise PermissionDenied(_("This file is no longer waiting to be imported."))
        data = base64.b64decode(upload.content)
        return data if "b" in self.read_mode else data.decode(self.encoding or "utf-8")

    def remove(self) -> None:
        self._uploads().delete()

    def exists(self) -> bool:
        return self._uploads().exists()

    def _uploads(self):
        try:
            name = uuid.UUID(str(self.name))
        except ValueError:
            return ImportUpload.objects.none()
        # A file sent to a worker is confirmed on its own page, never here.
        return ImportUpload.objects.filter(name=name, owner=self.owner, state=ImportState.PREVIEW)


class CaseImportMixin(ImportMixin):
    """Import legacy cases, for users with `reissue.import_cases`."""

    # The list offers both buttons: this mixin comes before the export mixin.
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    import_error_display = ("message",)
    # The audit trail records every imported case; the admin's own log would repeat it.
    skip_admin_log = True
    tmp_storage_class = ImportUploadStorage

    def has_import_permission(self, request) -> bool:
        user = request.user
        return user.is_active and user.has_perm(IMPORT_PERMISSION)

    def get_import_formats(self):
        return IMPORT_FORMATS

    def get_import_form_class(self, request):
        return LegacyImportForm

    def get_confirm_form_class(self, request):
        return LegacyConfirmImportForm

    def get_import_resource_classes(self, request):
        return [LegacyCaseResource]

    def get_import_context_data(self, **kwargs):
        # The columns a file may hold, named in the user's language beside the file's name.
        return {**super().get_import_context_data(**kwargs), "import_columns": import_columns()}

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ForTheWorker):
            # Not an error: `import_action` sends the file to a worker instead.
            _current_request.get().for_worker = e.file_format
            form.add_error("import_file", "")
        elif isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_tmp_storage_class_kwargs(self):
        current = _current_request.get()
        return {"owner": current.user if current else None}

    def write_to_tmp_storage(self, import_file, input_format):
        # import-export's own joins the chunks with `data += chunk`, quadratic in the size.
        storage = self.get_tmp_storage_class()(
            encoding=None if input_format.is_binary() else self.from_encoding,
            read_mode=input_format.get_read_mode(),
            file_name=import_file.name,
            **self.get_tmp_storage_class_kwargs(),
        )
        storage.save(b"".join(import_file.chunks()))
        _current_request.get().saved.append(storage.name)
        return storage

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        current = _ImportRequest(request.user)
        token = _current_request.set(current)
        confirmable = False
        try:
            response = super().import_action(request, **kwargs)
            if current.for_worker and current.saved:
                confirmable = True  # kept, for the worker
                return self._send_to_worker(request, current.saved[-1], current.for_worker)
            confirmable = "confirm_form" in (getattr(response, "context_data", None) or {})
            return response
        finally:
            if not confirmable:
                # Refused (unreadable, or rows with errors): nothing will confirm the file.
                ImportUpload.objects.filter(owner=request.user, name__in=current.saved).delete()
            _current_request.reset(token)

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        token = _current_request.set(_ImportRequest(request.user))
        try:
            confirm_form = self.create_confirm_form(request)
            if not confirm_form.is_valid():
                # Not a form our preview made (a forged format, a missing field).
                messages.error(request, _("This confirmation is not valid. Upload the file again."))
                return self._back_to_import()
            storage = ImportUploadStorage(
                owner=request.user, name=confirm_form.cleaned_data["import_file_name"]
            )
            if not storage.exists():
                # Confirmed already, a day old, or another user's upload.
                messages.error(request, _("This file is no longer waiting to be imported."))
                return self._back_to_import()
            try:
                return super().process_import(
                    request, file_name=storage.stored_file_name(), **kwargs
                )
            except ImportRefused as exc:
                # The file is read again as the posted format says: another valid format
                # than the preview's cannot read it. Nothing has been written yet.
                messages.error(request, str(exc))
                return self._back_to_import()
        finally:
            _current_request.reset(token)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/<uuid:name>/",
                self.admin_site.admin_view(self.import_progress),
                name="{}_{}_import_progress".format(*info),
            ),
            path(
                "import/<uuid:name>/confirm/",
                self.admin_site.admin_view(self.confirm_background_import),
                name="{}_{}_import_confirm".format(*info),
            ),
            *super().get_urls(),
        ]

    def _send_to_worker(self, request, name: str, file_format: str) -> HttpResponseRedirect:
        upload = ImportUpload.objects.get(name=uuid.UUID(name), owner=request.user)
        upload_for_worker(upload, file_format)
        language = get_language()
        transaction.on_commit(lambda: tasks.check_import_upload.enqueue(upload.pk, language))
        return HttpResponseRedirect(self._progress_url(upload))

    def _progress_url(self, upload: ImportUpload) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse("admin:{}_{}_import_progress".format(*info), args=[upload.name])

    def _own_background_upload(self, request, name) -> ImportUpload:
        if not self.has_import_permission(request):
            raise PermissionDenied
        # Another user's upload, or one checked within a request, is no page of this user's.
        # The page reloads every 2 seconds: the file is neither read nor decrypted for it.
        uploads = ImportUpload.objects.defer("content").annotate(
            has_content=ExpressionWrapper(~Q(content=""), output_field=BooleanField())
        )
        upload = get_object_or_404(uploads, name=name, owner=request.user)
        if upload.state == ImportState.PREVIEW:
            raise Http404
        return upload

    def import_progress(self, request, name):
        """The page of a worker's check and import: progress, then what it found or did."""
        upload = self._own_background_upload(request, name)
        info = self.opts.app_label, self.opts.model_name
        working = upload.state in (ImportState.CHECKING, ImportState.QUEUED, ImportState.IMPORTING)
        confirmable = (
            upload.state == ImportState.CHECKED and not upload.problem_count and upload.has_content
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import of “%(file)s”") % {"file": upload.file_name or "-"},
            "upload": upload,
            "working": working,
            "confirmable": confirmable,
            "columns": [column_label(column) for column in COLUMNS],
            "sample": [
                {"number": row["number"], "values": [row["values"].get(c, "") for c in COLUMNS]}
                for row in upload.sample
            ],
            "problems": [
                {"number": row["number"], "errors": labelled_errors(row["errors"])}
                for row in upload.problems
            ],
            "unlisted_problems": max(upload.problem_count - len(upload.problems), 0),
            "import_url": reverse("admin:{}_{}_import".format(*info)),
            "confirm_url": reverse("admin:{}_{}_import_confirm".format(*info), args=[name]),
            "refresh_seconds": 2,
        }
        return TemplateResponse(request, "admin/reissue/reissuecase/import_progress.html", context)

    def confirm_background_import(self, request, name):
        """Confirm a file a worker checked without errors: the worker imports it."""
        upload = self._own_background_upload(request, name)
        if request.method != "POST":
            return HttpResponseRedirect(self._progress_url(upload))
        if not confirm_upload(upload):
            messages.error(request, _("This file is no longer waiting to be imported."))
            return HttpResponseRedirect(self._progress_url(upload))
        language = get_language()
        transaction.on_commit(lambda: tasks.import_import_upload.enqueue(upload.pk, language))
        return HttpResponseRedirect(self._progress_url(upload))

    def _back_to_import(self) -> HttpResponseRedirect:
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))

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
                    % {"count": len(result.invalid_rows) + result.unlisted_problems},
                )
            return self._back_to_import()
        return super().process_result(result, request)

    def add_success_message(self, result, request) -> None:
        messages.success(
            request,
            _("Imported %(count)d cases; each starts at “reported”.")
            % {"count": len(result.valid_rows())},
        )
