"""Exports: one column definition serves the streamed CSV and the import-export resources.

A `Columns` list names, for each column, where its value comes from (a `values_list` path)
and its header; a column reading a personal number is masked as its model field declares
(`common.personal_numbers`) for users who may not see it in full. From it come the rows of a
streamed CSV (written as they are read, never held in memory) and the cells of the resources behind
the XLSX and JSON downloads, so both always hold the same columns, masked the same way.

Spreadsheets run a cell that starts with = + - @, a tab or a carriage return as a formula
(CSV injection), and a Chinese spreadsheet the full-width ＝ ＋ － ＠ too; in CSV and XLSX
such text is prefixed with ' so that it stays text.
"""

import csv
import datetime
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.http import QueryDict, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from common.id_numbers import mask_id_number
from common.personal_numbers import Mask, field_at, personal_number_mask
from offices.scoping import offices_visible_to, sees_all_offices

FORMULA_TRIGGERS = (
    *("=", "+", "-", "@", "\t", "\r"),
    *("\uff1d", "\uff0b", "\uff0d", "\uff20"),  # ＝ ＋ － ＠, as a Chinese IME types them
)
UTF8_BOM = "\ufeff"
CHUNK_SIZE = 2000  # rows fetched from the database at a time
DEFAULT_IN_MEMORY_MAX_ROWS = 100_000
DEFAULT_BACKGROUND_MAX_ROWS = {"csv": 1_000_000, "xlsx": 500_000, "json": 500_000}


def escape_formula(text: str) -> str:
    """Return `text` prefixed with ' if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def in_memory_max_rows() -> int:
    """Return how many rows an XLSX or JSON export (built in memory) may hold."""
    return getattr(settings, "EXPORT_IN_MEMORY_MAX_ROWS", DEFAULT_IN_MEMORY_MAX_ROWS)


def background_max_rows(file_format: str) -> int:
    """Return how many rows an export built in the background may hold in `file_format`."""
    limits = getattr(settings, "BACKGROUND_EXPORT_MAX_ROWS", {})
    return limits.get(file_format, DEFAULT_BACKGROUND_MAX_ROWS[file_format])


@dataclass(frozen=True)
class Column:
    """One exported column.

    `source` is the `values_list` path of its value (default: `name`). A column made of
    several values names them in `sources` and combines them with `display`. `header`
    defaults to the verbose name of the model field at `source`.
    """

    name: str
    source: str = ""
    header: Any = None
    sources: tuple[str, ...] = ()
    display: Callable[..., Any] | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return self.sources or (self.source or self.name,)


class Columns:
    """The columns of one export, read from rows of `model`."""

    def __init__(self, model: type[models.Model], columns: Sequence[Column]) -> None:
        self.model = model
        self.columns = tuple(columns)
        for column in self.columns:
            self._refuse_personal_in_display(column)

    def _refuse_personal_in_display(self, column: Column) -> None:
        # A column shown by `display` would show a personal number as written, unmasked.
        for path in column.paths if column.display or column.sources else ():
            if personal_number_mask(field_at(self.model, path)) is not None:
                raise ImproperlyConfigured(
                    f"Column {column.name!r} displays the personal number {path!r}: "
                    "export it as a column of its own, which is masked."
                )

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @cached_property
    def sources(self) -> tuple[str, ...]:
        """Return the `values_list` paths the columns read, each once."""
        return tuple(dict.fromkeys(path for column in self.columns for path in column.paths))

    def mask(self, column: Column) -> Mask | None:
        """Return how the column's value is masked: as its model field declares, if it holds
        a personal number."""
        return None if column.sources else personal_number_mask(self.field(column))

    @property
    def has_personal(self) -> bool:
        return any(self.mask(column) for column in self.columns)

    def under(self, model, prefix: str, *, names: str = "", headers=None) -> list[Column]:
        """Return these columns read through the relation `prefix` of another model's rows."""
        headers = headers or {}
        return [
            replace(
                column,
                name=names + column.name,
                source=prefix + column.paths[0] if not column.sources else "",
                sources=tuple(prefix + path for path in column.sources),
                header=headers.get(column.name, self.header(column)),
            )
            for column in self.columns
        ]

    def select(self, names: Iterable[str] | None) -> "Columns":
        """Return the named columns (all if `names` is empty), in this list's order."""
        if not names:
            return self
        chosen = set(names)
        return Columns(self.model, [c for c in self.columns if c.name in chosen])

    def field(self, column: Column) -> models.Field | None:
        """Return the model field a single-source column reads."""
        return None if column.sources else field_at(self.model, column.paths[0])

    def header(self, column: Column) -> Any:
        """Return the column's header: its own, else the verbose name of the model's field of
        the column's name (`handled_by` for `handled_by__username`), else of its source."""
        if column.header is not None:
            return column.header
        try:
            return self.model._meta.get_field(column.name).verbose_name
        except FieldDoesNotExist:
            return self.field(column).verbose_name

    def headers(self) -> list[str]:
        return [force_str(self.header(column)) for column in self.columns]

    def row_cells(self, *, full_numbers: bool, text: bool) -> Callable[[tuple], list]:
        """Return the function of a `values_list` row giving its cells, in column order.

        `text`: strings for CSV (escaped against formulae); else Python values (dates,
        numbers, booleans; local, naive date-times) for XLSX and JSON. Labels and the time
        zone are taken now, in the request, so a generator may run the function later.
        A column of one value gets its value straight from the row: at a million rows each
        Python call saved per cell shows (bench/export.py).
        """
        index = {path: i for i, path in enumerate(self.sources)}
        if any(column.sources for column in self.columns):
            cells = [self._row_cell(column, index, full_numbers, text) for column in self]
            return lambda row: [cell(row) for cell in cells]
        pairs = [
            (index[column.paths[0]], self._value_cell(column, full_numbers, text))
            for column in self.columns
        ]
        return lambda row: [cell(row[i]) for i, cell in pairs]

    def _row_cell(self, column: Column, index: dict, full_numbers: bool, text: bool):
        """Return the function of a row giving the column's cell."""
        get = itemgetter(*(index[path] for path in column.paths))
        if column.sources:
            display = column.display
            if len(column.paths) > 1:
                combined = lambda row: display(*get(row))  # noqa: E731
            else:
                combined = lambda row: display(get(row))  # noqa: E731
            return _text_cell(combined) if text else combined
        cell = self._value_cell(column, full_numbers, text)
        return lambda row: cell(get(row))

    def _value_cell(self, column: Column, full_numbers: bool, text: bool):
        """Return the function of a single-value column's value giving its cell."""
        if column.display:
            return _text_cell(column.display) if text else column.display
        mask = self.mask(column)
        if mask and not full_numbers:
            if text:
                return lambda value: escape_formula(mask(value)) if value else ""
            return lambda value: mask(value) if value else ""
        return _converter(self.field(column), text) or _same


def _same(value: Any) -> Any:
    return value


def _text_cell(value: Callable[..., Any]) -> Callable[..., str]:
    def cell(*args):
        result = value(*args)
        return escape_formula(result) if isinstance(result, str) else _plain_text(result)

    return cell


def _plain_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _converter(field: models.Field, text: bool) -> Callable[[Any], Any] | None:
    """Return the function turning a field's value into a cell, or None to keep it.

    The text ones test for formulae inline rather than by calling escape_formula: this runs
    for every cell of a million-row export.
    """
    triggers = FORMULA_TRIGGERS
    if field.choices:
        labels = {value: force_str(label) for value, label in field.flatchoices}
        if not text:
            return lambda value: labels.get(value, value)
        escaped = {value: escape_formula(label) for value, label in labels.items()}
        return lambda value: escaped[value] if value in escaped else escape_formula(value or "")
    if isinstance(field, models.DateTimeField):
        zone = timezone.get_current_timezone()
        if text:
            return lambda value: (
                value.astimezone(zone).replace(tzinfo=None).isoformat(" ", "seconds")
                if value
                else ""
            )
        return lambda value: value and value.astimezone(zone).replace(tzinfo=None)
    if isinstance(field, models.BooleanField):
        if not text:
            return None
        words = {True: _("yes"), False: _("no"), None: ""}
        return words.__getitem__
    if isinstance(field, models.JSONField):
        dump = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)  # noqa: E731
        return (lambda value: escape_formula(dump(value))) if text else dump
    if not text:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: ("'" + value if value.startswith(triggers) else value) if value else ""
    if isinstance(field, models.DateField):
        return lambda value: value.isoformat() if value else ""
    return lambda value: "" if value is None else str(value)


# The streamed CSV ---------------------------------------------------------------------------


def csv_chunks(
    rows: Iterable[tuple], columns: Columns, *, full_numbers: bool, rows_per_chunk: int = 500
) -> Iterator[bytes]:
    """Return the CSV of `rows` (UTF-8 with a BOM, for Excel) as an iterator of byte chunks.

    The headers and cell functions are made now (translated in the request's language);
    `rows` is read only as the chunks are, so a queryset iterator streams from the database.
    """
    headers = columns.headers()
    row_cells = columns.row_cells(full_numbers=full_numbers, text=True)
    language = translation.get_language()

    def generate() -> Iterator[bytes]:
        with translation.override(language):  # for labels a column makes per row
            yield from _csv_chunks(rows, headers, row_cells, rows_per_chunk)

    return generate()


def _csv_chunks(rows, headers, row_cells, rows_per_chunk) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(UTF8_BOM)
    writer.writerow(escape_formula(header) for header in headers)
    rows = iter(rows)
    while True:
        chunk = list(islice(rows, rows_per_chunk))
        writer.writerows(map(row_cells, chunk))
        yield buffer.getvalue().encode()
        if len(chunk) < rows_per_chunk:
            return
        buffer.seek(0)
        buffer.truncate()


def csv_response(
    chunks: Iterator[bytes], *, filename: str, ascii_filename: str = ""
) -> StreamingHttpResponse:
    """Return a download that sends the chunks as they are made."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_header(filename, ascii_filename)
    response["X-Accel-Buffering"] = "no"  # a proxy passes the stream on instead of buffering
    return response


# Names for people -----------------------------------------------------------------------------

SHEET_TITLE_MAX = 31  # Excel's limit
NOT_IN_SHEET_TITLES = re.compile(r"[\[\]:*?/\\]")
NOT_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')


def export_office_label(*, user, office=None) -> str:
    """Return whose an export is: the office it is filtered to, else the user's own offices
    (DC, DC+PD), or "all offices" for a user who sees every office."""
    if office is not None:
        return office.code
    if sees_all_offices(user):
        return pgettext("export file name", "all offices")
    return "+".join(offices_visible_to(user).values_list("code", flat=True))


def export_name_parts(*, office: str, subject: str, day: datetime.date) -> tuple[str, str, str]:
    """Return what names an export, cleaned for file names: the office (or "all"), what it
    holds and the day."""
    return tuple(NOT_IN_FILE_NAMES.sub("_", part).strip() for part in (office, subject, str(day)))


def export_file_name(*, office: str, subject: str, day: datetime.date, extension: str) -> str:
    """Return the file name people read: DC-补办案件-2026-12-01.csv."""
    return "-".join(export_name_parts(office=office, subject=subject, day=day)) + f".{extension}"


def sheet_title(*, office: str, subject: str, day: datetime.date) -> str:
    """Return a spreadsheet's sheet name: 补办案件 DC 2026-12-01 (at most 31 characters, none
    of []:*?/\\ that Excel refuses); the subject is shortened first, the day kept."""
    office, subject, day = (NOT_IN_SHEET_TITLES.sub("_", p) for p in (office, subject, str(day)))
    room = SHEET_TITLE_MAX - len(office) - len(day) - 2
    return f"{subject[: max(room, 1)]} {office} {day}"[:SHEET_TITLE_MAX]


def sheet_name(text: str) -> str:
    """Return `text` as a sheet may be named: at most 31 characters, none of []:*?/\\."""
    return NOT_IN_SHEET_TITLES.sub("_", text).strip()[:SHEET_TITLE_MAX] or "_"


def attachment_header(filename: str, ascii_filename: str = "") -> str:
    """Return Content-Disposition for a download named `filename`: RFC 6266 / 5987's
    `filename*` in UTF-8 for browsers, and an ASCII `filename` for any other client."""
    fallback = ascii_filename or filename
    fallback = "".join(c if c.isascii() and c.isprintable() else "_" for c in fallback)
    fallback = fallback.replace("\\", "_").replace('"', "_")
    if filename == fallback:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# The access log -----------------------------------------------------------------------------

ID_NUMBER_IN_TEXT = re.compile(r"\d{17}[\dXx]")


def describe_filters(params: QueryDict) -> str:
    """Return the list's filters and search as the access log keeps them, ID numbers masked."""
    parts = [
        f"{key}={ID_NUMBER_IN_TEXT.sub(lambda m: mask_id_number(m.group()), value)}"
        for key, values in sorted(params.lists())
        for value in values
    ]
    return "; ".join(parts) or _("no filters")
