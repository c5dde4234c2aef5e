"""The admin's import (django-import-export): our file formats, and a resource whose dry run
is the preview and whose import is `LegacyCaseImport`'s."""

import dataclasses
from typing import Any

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from import_export import fields as ie_fields
from import_export import resources
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from .columns import COLUMNS, cell, column_label, labelled_errors, preview_values
from .files import ImportRefused, ReadLimits, browser_limits, read_csv, read_xlsx
from .importer import LegacyCaseImport


class LegacyCSV(base_formats.CSV):
    """CSV read as bytes, so that we choose the encoding (UTF-8 or GB18030), not the page."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        data = in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8")
        headers, rows = read_csv(data, limits=in_request_limits(self))
        return _dataset(headers, rows)


class LegacyXLSX(base_formats.XLSX):
    """XLSX read by our reader: blank rows skipped, unreadable files explained."""

    def create_dataset(self, in_stream) -> tablib.Dataset:
        headers, rows = read_xlsx(in_stream, limits=in_request_limits(self))
        return _dataset(headers, rows)


class ForTheWorker(Exception):  # noqa: N818 (not an error: a file too long to check in a request)
    """The file has more rows than a request checks: a worker checks and imports it."""

    def __init__(self, file_format: str) -> None:
        super().__init__(file_format)
        self.file_format = file_format


def in_request_limits(file_format) -> ReadLimits:
    """Return the browser's limits, with the rows a request checks itself: past
    IMPORT_IN_REQUEST_MAX_ROWS, reading stops and the file goes to a worker."""
    limits = browser_limits()
    most = settings.IMPORT_IN_REQUEST_MAX_ROWS
    if limits.max_rows is not None and most >= limits.max_rows:
        return limits
    name = file_format.get_extension()
    return dataclasses.replace(
        limits, max_rows=most, too_many_rows=lambda _most: ForTheWorker(name)
    )


def _dataset(headers: list[str], rows: list[list[Any]]) -> tablib.Dataset:
    width = len(headers)
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([*row[:width], *[None] * (width - len(row))])
    return dataset


class _Refusal(Error):
    """A whole-file error, shown to the user without a traceback."""

    traceback = ""


class LegacyCaseResource(resources.Resource):
    """The admin's import of legacy cases, checked and written by `LegacyCaseImport`.

    import-export calls `import_data` for the dry-run preview and again, after confirmation,
    for the import; both build the same `Result`, with one invalid row per bad row.
    """

    @classmethod
    def get_display_name(cls) -> str:
        return str(gettext_lazy("Legacy cases"))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fields = {column: ie_fields.Field(column_name=column) for column in COLUMNS}

    def get_import_fields(self):
        return list(self.fields.values())

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs) -> Result:
        result = Result()
        result.diff_headers = [column_label(column) for column in COLUMNS]
        result.total_rows = len(dataset)
        result.unlisted_problems = 0  # bad rows past IMPORT_MAX_ERRORS_LISTED
        importer = LegacyCaseImport(
            acting_user=kwargs["user"], source_name=kwargs.get("file_name") or ""
        )
        headers, rows = dataset.headers or [], list(dataset)
        try:
            outcome = importer.run(
                headers, rows, dry_run=dry_run, problems_kept=settings.IMPORT_MAX_ERRORS_LISTED
            )
        except ImportRefused as exc:
            result.append_base_error(_Refusal(exc))
            return result
        self._append_invalid_rows(result, outcome)
        if outcome.ok:
            self._append_new_rows(result, importer, headers, rows, outcome.references)
        return result

    @staticmethod
    def _append_invalid_rows(result, outcome) -> None:
        for problem in outcome.problems:
            result.append_invalid_row(
                problem.number, problem.values, ValidationError(labelled_errors(problem.errors))
            )
        result.unlisted_problems = outcome.problem_count - len(outcome.problems)

    @staticmethod
    def _append_new_rows(result, importer, headers, rows, references) -> None:
        columns = importer.map_headers(headers)
        for index, row in enumerate(rows):
            preview = preview_values({c: cell(row, i) for c, i in columns.items()})
            row_result = RowResult()
            row_result.import_type = RowResult.IMPORT_TYPE_NEW
            row_result.diff = [preview.get(column, "") for column in COLUMNS]
            if references:
                row_result.object_repr = references[index]
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
