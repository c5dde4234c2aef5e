"""Legacy import: applicants with their cases, from the CSV and XLSX files offices keep today.

One checker serves the admin (through `LegacyCaseResource` and import-export's dry-run preview)
and `manage.py import_cases`. A file is imported whole or not at all: rows are checked in
batches and written in one transaction; a single bad row rolls the whole file back, and the
check goes on to the end so that every bad row is reported at once.

The writes are a bulk equivalent of `services.case_register`, with the same checks: the ID
number (GB 11643, `validate_id_number`), the model's field validation and `clean()` (a loss
date not in the future, agent details), one open case per applicant, the name of a known
applicant, an office that exists and in which the importing user works (`offices_worked_in`).
Each case gets its reference from `CaseSequence` and a `registered` entry in the hash-chained
audit trail (an applicant whose contact details change, an `edited` entry). Imported cases
always start at `reported`: columns the workflow sets (state, cards, ...) are refused.

Encodings: a CSV file is read as UTF-8 (with or without a BOM), else as GB18030 (which covers
GBK and GB2312). A file that decodes in neither, or whose text holds control characters, U+FFFD
or private-use characters (what Latin-1, UTF-16 or binary files turn into), is refused whole.
This is a heuristic: a Latin-1 file can happen to decode as GB18030; then the names look wrong
in the preview, which is why the preview is there.

Limits (`ReadLimits`): a web request must not take an app server's memory or minutes, so the
admin reads at most `IMPORT_MAX_BROWSER_ROWS` rows, checks a workbook's unpacked sizes before
openpyxl opens it, and refuses any cell over `IMPORT_MAX_CELL_CHARS` (the command too). Files
are read row by row and refused at the first row past a limit.
"""

import codecs
import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from import_export import fields as ie_fields
from import_export import resources
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from audit.chain import chain_extend, lock_chain_head
from audit.models import AuditEntry
from audit.services import snapshot_changes
from common.fields import EncryptedCharField
from common.id_numbers import (
    birth_date_from_id_number,
    id_number_digest,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    sex_from_id_number,
)
from common.text import BIDI_CONTROLS, normalize_text
from offices.models import Office
from offices.scoping import offices_worked_in

from .case_workflow import CASE_WORKFLOW
from .models import (
    Applicant,
    CaseSequence,
    LossKind,
    LostItems,
    ReissueCase,
    validate_loss_date,
)
from .permissions import access_office_for_registration
from .services import format_case_reference

IMPORT_PERMISSION = "reissue.import_cases"
BATCH_SIZE = 1000
READABLE_ENCODINGS = ("utf-8-sig", "gb18030")

# Column -> how its cells are read. The column names are the model's field names; the
# field's label (in any of our languages) is accepted as a header too.
APPLICANT_COLUMNS = {
    "name": "text",
    "id_number": "id_number",
    "phone": "text",
    "hukou_address": "text",
    "hukou_police_station": "text",
}
CASE_COLUMNS = {
    "office": "office",
    "lost_items": LostItems,
    "loss_kind": LossKind,
    "loss_date": "date",
    "reported_at": "date",
    "presented_hukou_book": "bool",
    "presented_id_card": "bool",
    "presented_photo": "bool",
    "converts_ic_card": "bool",
    "agent_acts": "bool",
    "agent_name": "text",
    "agent_id_number": "id_number",
}
COLUMNS = {**APPLICANT_COLUMNS, **CASE_COLUMNS}
REQUIRED_COLUMNS = [*APPLICANT_COLUMNS, "office", "lost_items", "loss_kind", "loss_date"]
CONTACT_FIELDS = ["phone", "hukou_address", "hukou_police_station"]
# Set by registration or by a workflow step: an import must never set them.
WORKFLOW_COLUMNS = CASE_WORKFLOW.set_fields
MASKED_IN_PREVIEW = {
    "id_number": mask_id_number,
    "agent_id_number": mask_id_number,
    "phone": mask_phone,
}

TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否", "无", "×"}
DATE_TEXT = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# The preview and the error messages show a cell at most this long (a file's cells may be
# up to IMPORT_MAX_CELL_CHARS long: none of ours needs more than 200).
PREVIEW_CHARS = 200
SHOWN_CHARS = 60


class ImportRefused(ValueError):
    """The file as a whole cannot be imported; the message is written for the user."""


class UnreadableFile(ImportRefused):
    """The file cannot be read at all (its encoding, or not a workbook)."""


# Reading files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file is read: None is no limit. See `browser_limits` for the admin's."""

    max_cell_chars: int | None = None
    max_rows: int | None = None  # data rows, after the header
    max_xlsx_uncompressed_bytes: int | None = None  # all parts of the workbook together
    max_xlsx_shared_strings_bytes: int | None = None


def browser_limits() -> ReadLimits:
    """Return the limits of the admin's import (settings `IMPORT_MAX_*`)."""
    return ReadLimits(
        max_cell_chars=settings.IMPORT_MAX_CELL_CHARS,
        max_rows=settings.IMPORT_MAX_BROWSER_ROWS,
        max_xlsx_uncompressed_bytes=settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES,
        max_xlsx_shared_strings_bytes=settings.IMPORT_MAX_XLSX_SHARED_STRINGS_BYTES,
    )


def command_limits() -> ReadLimits:
    """Return the limits of `manage.py import_cases`: long cells only, any number of rows."""
    return ReadLimits(max_cell_chars=settings.IMPORT_MAX_CELL_CHARS)


# Columns past these are ignored (every column we read has a name); the bound keeps a row of
# a million empty cells from costing a million cells.
MAX_COLUMNS = 100
# Blank rows are skipped, not counted, but no more of them are read than this many times the
# row limit: a sheet can claim a million rows in a few bytes.
BLANK_ROWS_PER_ROW = 10
# A part that unpacks to more than this many times its packed size is a zip bomb, not a sheet
# (real sheets pack about 5 to 20 times); small parts are let through whatever their ratio.
MAX_XLSX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 1 << 20
DECODE_CHUNK = 1 << 20


def megabytes(size: int) -> str:
    """Return `size` in MB for a message: "20", "1.6"."""
    return f"{size / (1 << 20):,.1f}".removesuffix(".0")


def decode_text(data: bytes) -> str:
    """Return the text of a CSV file in UTF-8 (BOM or not) or GB18030/GBK, or raise."""
    return data.decode(text_encoding(data))


def text_encoding(data: bytes) -> str:
    """Return the encoding a CSV file is read in (UTF-8, BOM or not, or GB18030), or raise.

    Decoded a megabyte at a time and thrown away: the text is read again, row by row.
    """
    for encoding in READABLE_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), DECODE_CHUNK):
                if not _looks_like_text(decoder.decode(data[start : start + DECODE_CHUNK])):
                    break
            else:
                if _looks_like_text(decoder.decode(b"", final=True)):
                    return encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        _(
            "This file cannot be read: it is neither UTF-8 nor GBK/GB18030 text. Save it "
            "again as “CSV UTF-8” (or as an Excel .xlsx workbook) and import that."
        )
    )


def _looks_like_text(text: str) -> bool:
    # Control characters (NUL in UTF-16 and binary files), U+FFFD left by an earlier bad
    # conversion, and private-use characters (undefined GBK codes) mean the guess was wrong.
    for char in set(text):
        if char in "\t\r\n":
            continue
        if char == "\ufffd" or unicodedata.category(char) in ("Cc", "Co", "Cs"):
            return False
    return True


class _TableReader:
    """Read a header and rows, refusing a long cell or too many rows as soon as it is read."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.headers: list[str] = []

    def read(self, raw_rows: Iterable[Sequence[Any]]) -> tuple[list[str], list[list[Any]]]:
        raw_rows = iter(raw_rows)
        first = next(raw_rows, None)
        if first is None:
            return [], []
        self.headers = ["" if cell is None else str(cell) for cell in first[:MAX_COLUMNS]]
        self._check_cells(self.headers, 1)
        limits, table, read = self.limits, [], 0
        for number, row in enumerate(raw_rows, start=2):
            row = list(row[:MAX_COLUMNS])
            read += 1
            if not any(_text(cell) for cell in row):
                if limits.max_rows is not None and read > limits.max_rows * BLANK_ROWS_PER_ROW:
                    raise self._too_many_rows()
                continue
            if limits.max_rows is not None and len(table) >= limits.max_rows:
                raise self._too_many_rows()
            self._check_cells(row, number)
            table.append(row)
        return self.headers, table

    def _check_cells(self, row: Sequence[Any], number: int) -> None:
        most = self.limits.max_cell_chars
        if most is None:
            return
        for index, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > most:
                raise self.long_cell(number, index)

    def long_cell(self, number: int, index: int | None) -> ImportRefused:
        """Return the refusal of a cell longer than the limit, on row `number`."""
        if index is not None and index < len(self.headers) and self.headers[index].strip():
            column = _shown(self.headers[index].strip(), 40)
        else:
            column = _("column %(number)d") % {"number": (index or 0) + 1}
        return ImportRefused(
            _(
                "Nothing was imported: row %(row)d, %(column)s: a cell holds more than "
                "%(most)s characters, far more than any field needs. Check the file."
            )
            % {"row": number, "column": column, "most": f"{self.limits.max_cell_chars:,}"}
        )

    def _too_many_rows(self) -> ImportRefused:
        return ImportRefused(
            _(
                "This file has more than %(most)s rows, more than the browser imports at "
                "once. Split it, or ask an administrator to import it with "
                "“manage.py import_cases”, which takes files of any size."
            )
            % {"most": f"{self.limits.max_rows:,}"}
        )


def read_csv(data: bytes, *, limits: ReadLimits | None = None) -> tuple[list[str], list[list[str]]]:
    """Return the header and the rows of a CSV file in any encoding we read."""
    limits = limits or ReadLimits()
    text = io.TextIOWrapper(io.BytesIO(data), encoding=text_encoding(data), newline="")
    reader = _TableReader(limits)
    csv_rows = csv.reader(_bounded_lines(text, limits, reader))
    try:
        return reader.read(csv_rows)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            # The csv module's own limit on a cell (128 KB, for the whole process): a cell
            # far longer than ours, spread over lines.
            raise reader.long_cell(csv_rows.line_num, None) from exc
        raise UnreadableFile(
            _("This file cannot be read as CSV: %(error)s") % {"error": exc}
        ) from exc


def _bounded_lines(text: io.TextIOBase, limits: ReadLimits, reader: _TableReader):
    """Yield the lines of `text`, refusing one longer than a row of the longest cells can be.

    A line is read at most that long, so a file of one enormous line is not held whole.
    """
    if limits.max_cell_chars is None:
        yield from text
        return
    longest = MAX_COLUMNS * (limits.max_cell_chars + 3) + 2  # quotes, comma, line break
    for number, line in enumerate(iter(lambda: text.readline(longest + 1), ""), start=1):
        if len(line) > longest:
            raise reader.long_cell(number, None)
        yield line


def check_xlsx_archive(data: bytes, limits: ReadLimits) -> None:
    """Refuse a workbook whose parts would unpack too large, before anything is unpacked.

    The sizes come from the zip's directory. They could lie, but Python's zipfile (which
    openpyxl reads with) stops at the stated size and fails the checksum of a longer part.
    """
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile(
            _("This file is not an Excel .xlsx workbook that can be read.")
        ) from exc
    most, most_strings = limits.max_xlsx_uncompressed_bytes, limits.max_xlsx_shared_strings_bytes
    total = sum(part.file_size for part in parts)
    strings = sum(p.file_size for p in parts if "sharedstrings" in p.filename.lower())
    packed_too_tightly = any(
        part.file_size > XLSX_RATIO_FROM_BYTES
        and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if (most is not None and total > most) or (most_strings is not None and strings > most_strings):
        raise ImportRefused(
            _(
                "This workbook unpacks to more than the browser reads at once (at most "
                "%(most)s MB in all and %(strings)s MB of text). Split it, or ask an "
                "administrator to import it with “manage.py import_cases”."
            )
            % {"most": megabytes(most or total), "strings": megabytes(most_strings or strings)}
        )
    if most is not None and packed_too_tightly:
        raise ImportRefused(
            _(
                "This workbook is packed far more tightly than a spreadsheet can be, as a "
                "“zip bomb” is; it was not opened. Save the sheet again from Excel."
            )
        )


def read_xlsx(
    data: bytes, *, limits: ReadLimits | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and the rows of the first sheet of an XLSX workbook."""
    import openpyxl

    limits = limits or ReadLimits()
    check_xlsx_archive(data, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise UnreadableFile(
            _("This file is not an Excel .xlsx workbook that can be read.")
        ) from exc
    try:
        return _TableReader(limits).read(
            book.active.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        )
    finally:
        book.close()


def read_table(
    data: bytes, *, file_name: str, limits: ReadLimits | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and rows of a .csv or .xlsx file, chosen by its name."""
    if file_name.lower().endswith(".xlsx"):
        return read_xlsx(data, limits=limits)
    if file_name.lower().endswith(".csv"):
        return read_csv(data, limits=limits)
    raise UnreadableFile(_("Import a .csv or an .xlsx file."))


FILE_NAME_CHARS = 100


def clean_file_name(name: str) -> str:
    """Return an uploaded file's name as the audit trail may name it: short and plain.

    The last path component only, without control, bidirectional or invisible characters,
    in NFKC form, not starting like a spreadsheet formula, at most 100 characters.
    """
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if c not in BIDI_CONTROLS and unicodedata.category(c) != "Cc")
    name = normalize_text(name, fold=True).lstrip("=+-@ ")
    return _shown(name, FILE_NAME_CHARS)


# Reading cells ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a spreadsheet cell
    return str(value).strip()


def _shown(text: str, most: int) -> str:
    """Return `text` cut to `most` characters, with an ellipsis if it was cut."""
    return text if len(text) <= most else text[: most - 1] + "…"


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        return None
    match = DATE_TEXT.match(text) or DATE_DIGITS.match(text)
    if match is None:
        raise ValidationError(_("Enter the date as YYYY-MM-DD, for example 2024-03-05."))
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValidationError(_("“%(value)s” is not a real date.") % {"value": text}) from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationError(_("Enter yes or no (1 or 0)."))


def _normal_header(header: Any) -> str:
    return re.sub(r"[\s_\-]+", "_", _text(header).lstrip("\ufeff").lower())


def _in_every_language(make: Callable[[], Iterable[str]]) -> set[str]:
    names = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.update(str(name) for name in make())
    return names


def _field_label(name: str) -> Iterable[str]:
    for model in (Applicant, ReissueCase):
        try:
            yield model._meta.get_field(name).verbose_name
        except Exception:  # not a field of this model
            continue


def header_aliases() -> dict[str, str]:
    """Return {normalized header: column} for every column name and field label."""
    aliases = {}
    for column in [*COLUMNS, *WORKFLOW_COLUMNS]:
        for label in _in_every_language(lambda column=column: _field_label(column)):
            aliases[_normal_header(label)] = column
    aliases.update({_normal_header(column): column for column in [*COLUMNS, *WORKFLOW_COLUMNS]})
    aliases[_normal_header(_("office code"))] = "office"
    return aliases


def column_label(column: str) -> str:
    """Return a column's label in the user's language, with its name as the file has it."""
    model = Applicant if column in APPLICANT_COLUMNS else ReissueCase
    label = capfirst(model._meta.get_field(column).verbose_name)
    return _("%(label)s (%(column)s)") % {"label": label, "column": column}


def import_columns() -> list[tuple[str, str, bool]]:
    """Return (column, label, required) for each column a legacy file may hold."""
    return [(column, column_label(column), column in REQUIRED_COLUMNS) for column in COLUMNS]


def labelled_errors(errors: dict) -> dict:
    """Return a row's errors keyed by the column's label, as the import page shows them."""
    return {
        (column_label(column) if column in COLUMNS else column): messages
        for column, messages in errors.items()
    }


def choice_lookup(choices) -> dict[str, str]:
    """Return {lower-case value or label, in any language: stored value}."""
    lookup = {value.lower(): value for value in choices.values}
    for value in choices.values:
        for label in _in_every_language(lambda value=value: [choices(value).label]):
            lookup[label.lower()] = value
    return lookup


# Checking and writing ---------------------------------------------------------------------


@dataclass
class RowProblem:
    """A row that cannot be imported: its number in the sheet (the header is row 1)."""

    number: int
    errors: dict[str, list[str]]
    values: dict[str, Any]


@dataclass
class ImportOutcome:
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0
    references: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class _CheckedRow:
    """A row ready to write. Every row of the file is held so until the inserts: keep it small."""

    number: int
    applicant: Applicant
    case: ReissueCase
    contact_changes: dict[str, list[str]]


class _RollBack(Exception):
    """Raised inside the transaction to undo what a failed import has written so far."""


# progress(stage, rows done, rows in all): every row is checked, then (unless a dry run) written.
CHECKING, WRITING = "checking", "writing"
Progress = Callable[[str, int, int], None]


def _may_register_in(user, office: Office) -> bool:
    try:
        access_office_for_registration(user, office)
    except PermissionDenied:
        return False
    return True


def access_import(user) -> None:
    """Raise PermissionDenied unless `user` may import legacy cases."""
    if not (user.is_active and user.has_perm(IMPORT_PERMISSION)):
        raise PermissionDenied(_("You may not import cases."))


class LegacyCaseImport:
    """Check and import the rows of one file for `acting_user`.

    `office_code` narrows the offices the rows may name to one (the command's --office).
    """

    def __init__(self, *, acting_user, office_code: str = "", source_name: str = "") -> None:
        access_import(acting_user)
        self.acting_user = acting_user
        self.source_name = clean_file_name(source_name)
        self.offices = {office.code: office for office in Office.objects.all()}
        self.allowed_office_ids = {
            office.pk
            for office in offices_worked_in(acting_user)
            if not office_code or office.code == office_code.strip().upper()
            if _may_register_in(acting_user, office)
        }
        self.choices = {
            "lost_items": choice_lookup(LostItems),
            "loss_kind": choice_lookup(LossKind),
        }
        self.aliases = header_aliases()
        self.today = timezone.localdate()
        self.now = timezone.now()  # every case of the file is registered at this moment

    # The whole run ------------------------------------------------------------------------

    def run(
        self,
        headers: Sequence[Any],
        rows: Sequence[Sequence[Any]],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportOutcome:
        """Check every row; unless `dry_run` and if all are good, import them, atomically."""
        outcome = ImportOutcome(rows=len(rows), dry_run=dry_run)
        columns = self.map_headers(headers)
        seen_numbers: dict[str, int] = {}
        try:
            with transaction.atomic():
                # Every row is checked before anything is locked: the writer's locks (the
                # audit chain's head, the offices' sequences) hold up every clerk's writes,
                # so they are taken only for the inserts.
                checked_batches = []
                for start in range(0, len(rows), BATCH_SIZE):
                    batch = rows[start : start + BATCH_SIZE]
                    checked = self._check_batch(batch, start, columns, seen_numbers, outcome)
                    if not dry_run and outcome.ok:
                        checked_batches.append(checked)
                    if progress:
                        progress(CHECKING, start + len(batch), len(rows))
                if not outcome.ok:
                    raise _RollBack
                if not dry_run:
                    # Not re-checked under the locks: a case or an applicant registered
                    # since the check breaks the database's unique constraints (one open
                    # case per applicant, one applicant per ID number) and the
                    # IntegrityError below refuses the file whole.
                    writer = _BulkWriter(self)
                    for checked in checked_batches:
                        outcome.references += writer.write(checked)
                        if progress:
                            progress(WRITING, len(outcome.references), len(rows))
                    writer.finish()
        except _RollBack:
            outcome.references = []
        except IntegrityError as exc:
            # Someone registered a case or an applicant of this file meanwhile.
            raise ImportRefused(
                _(
                    "The cases changed while the file was being imported, so nothing was "
                    "imported. Import the file again."
                )
            ) from exc
        outcome.created = len(outcome.references)
        return outcome

    def map_headers(self, headers: Sequence[Any]) -> dict[str, int]:
        """Return {column: index in the row} for the columns we know."""
        columns = {}
        for index, header in enumerate(headers):
            column = self.aliases.get(_normal_header(header))
            if column is not None and column not in columns:
                columns[column] = index
        return columns

    # Checking one batch -------------------------------------------------------------------

    def _check_batch(self, batch, start, columns, seen_numbers, outcome) -> list[_CheckedRow]:
        parsed = []
        for offset, row in enumerate(batch):
            number = start + offset + 2  # the header is row 1
            values, cleaned, errors = self._read_row(row, columns)
            parsed.append((number, values, cleaned, errors))
        known = self._known_applicants([cleaned for _n, _v, cleaned, _e in parsed])
        checked = []
        for number, values, cleaned, errors in parsed:
            row = self._check_row(number, values, cleaned, errors, known, seen_numbers)
            if errors:
                outcome.problems.append(RowProblem(number, errors, preview_values(values)))
            elif row is not None:
                checked.append(row)
        return checked

    def _read_row(self, row, columns):
        """Return the row's raw values, its cleaned values and the errors of reading it."""
        values, cleaned, errors = {}, {}, {}
        for column in WORKFLOW_COLUMNS:
            if column in columns and _text(_cell(row, columns[column])):
                errors[column] = [
                    _(
                        "Imported cases start at “reported”; the column “%(column)s” is set "
                        "by the workflow and cannot be imported."
                    )
                    % {"column": column}
                ]
        for column, kind in COLUMNS.items():
            if column not in columns:
                if column in REQUIRED_COLUMNS:
                    errors[column] = [
                        _("The column “%(column)s” is missing from the file.") % {"column": column}
                    ]
                continue
            value = values[column] = _cell(row, columns[column])
            try:
                cleaned[column] = self._read_cell(column, kind, value)
            except ValidationError as exc:
                errors[column] = exc.messages
        return values, cleaned, errors

    def _read_cell(self, column: str, kind, value: Any) -> Any:
        if kind == "date":
            return _date(value)
        if kind == "bool":
            return _bool(value)
        if kind == "id_number":
            return normalize_id_number(_text(value))
        if kind == "office":
            return self._office(_text(value).upper())
        if kind in (LostItems, LossKind):
            text = _text(value)
            if text and text.lower() not in self.choices[column]:
                labels = pgettext("list", ", ").join(str(label) for label in kind.labels)
                raise ValidationError(
                    _("“%(value)s” is not one of: %(choices)s.")
                    % {"value": _shown(text, SHOWN_CHARS), "choices": labels}
                )
            return self.choices[column].get(text.lower(), "")
        return _text(value)

    def _office(self, code: str) -> Office:
        office = self.offices.get(code)
        if office is None:
            raise ValidationError(
                _("No office has the code “%(code)s”.") % {"code": _shown(code, SHOWN_CHARS)}
            )
        if office.pk not in self.allowed_office_ids:
            raise ValidationError(
                _("You may not import cases for the office “%(code)s”.") % {"code": code}
            )
        return office

    def _known_applicants(self, cleaned_rows) -> dict[str, tuple[Applicant, bool]]:
        """Return {ID-number hash: (applicant, has an open case)} for the batch, in 2 queries."""
        hashes = {
            id_number_digest(row["id_number"]) for row in cleaned_rows if row.get("id_number")
        }
        applicants = Applicant.objects.filter(id_number_hash__in=hashes)
        open_ids = set(
            ReissueCase.objects.filter(
                applicant__id_number_hash__in=hashes, state__in=CASE_WORKFLOW.open_states
            ).values_list("applicant_id", flat=True)
        )
        return {a.id_number_hash: (a, a.pk in open_ids) for a in applicants}

    def _check_row(self, number, values, cleaned, errors, known, seen_numbers):
        applicant = self._applicant(cleaned, errors)
        case = self._case(cleaned, errors, applicant)
        if "id_number" in errors:
            return None
        digest = applicant.id_number_hash
        if digest in seen_numbers:
            errors.setdefault("id_number", []).append(
                _(
                    "This ID number is on row %(row)d of this file too; an applicant can "
                    "have only one open case."
                )
                % {"row": seen_numbers[digest]}
            )
            return None
        seen_numbers[digest] = number
        existing, has_open_case = known.get(digest, (None, False))
        if has_open_case:
            errors.setdefault("id_number", []).append(
                _("This applicant already has an open case; continue that case instead.")
            )
        if existing is None:
            return None if errors else _CheckedRow(number, applicant, case, {})
        try:
            existing.validate_name(applicant.name)
        except ValidationError as exc:
            _merge(errors, exc)
        if errors:
            return None
        before = {name: getattr(existing, name) for name in CONTACT_FIELDS}
        for name in CONTACT_FIELDS:
            setattr(existing, name, getattr(applicant, name))
        changes = snapshot_changes(before, {name: getattr(existing, name) for name in before})
        return _CheckedRow(number, existing, case, changes)

    def _applicant(self, cleaned, errors) -> Applicant:
        """Return the row's applicant, unsaved, checked as `Applicant.full_clean` checks."""
        applicant = Applicant(**{k: cleaned.get(k, "") for k in APPLICANT_COLUMNS})
        exclude = [c for c in APPLICANT_COLUMNS if c in errors]
        try:
            applicant.full_clean(
                exclude=[*exclude, "birth_date", "sex"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            _merge(errors, exc)
        if "id_number" not in errors:
            # What Applicant.save() derives from the number; bulk inserts skip save().
            applicant.birth_date = birth_date_from_id_number(applicant.id_number)
            applicant.sex = sex_from_id_number(applicant.id_number)
        return applicant

    def _case(self, cleaned, errors, applicant: Applicant) -> ReissueCase:
        """Return the row's case, unsaved, checked as `case_register` checks it."""
        given = {k: v for k, v in cleaned.items() if k in CASE_COLUMNS}
        office = given.pop("office", None)
        reported_on = given.pop("reported_at", None)
        case = ReissueCase(office=office, handled_by=self.acting_user, **given)
        case.reported_at = self._reported_at(reported_on, case.loss_date, errors)
        if case.ss_card_lost:
            case.ss_card_suspended_at = case.reported_at  # as registration does
        # Only the imported fields: the others keep their (valid) defaults.
        exclude = {f.name for f in ReissueCase._meta.fields} - set(given) | set(errors)
        try:
            case.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            _merge(errors, exc)
        if "loss_date" not in errors and case.loss_date and "id_number" not in errors:
            # The case's clean() sees no birth date while its applicant is unsaved.
            try:
                validate_loss_date(case.loss_date, birth_date=applicant.birth_date)
            except ValidationError as exc:
                errors["loss_date"] = exc.messages
        return case

    def _reported_at(self, reported_on, loss_date, errors) -> datetime.datetime:
        if reported_on is None:
            return self.now
        if reported_on > self.today:
            errors.setdefault("reported_at", []).append(
                _("The date of the report cannot be in the future.")
            )
        elif loss_date and reported_on < loss_date:
            errors.setdefault("reported_at", []).append(
                _("The loss cannot have been reported before it happened.")
            )
        return timezone.make_aware(datetime.datetime.combine(reported_on, datetime.time()))


def preview_values(values: dict[str, Any]) -> dict[str, str]:
    """Return a row's values as the preview shows them: personal numbers masked, cut short."""
    return {
        column: MASKED_IN_PREVIEW[column](_text(value))
        if column in MASKED_IN_PREVIEW and _text(value)
        else _shown(_text(value), PREVIEW_CHARS)
        for column, value in values.items()
    }


def _cell(row: Sequence[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for name, messages in exc.message_dict.items():
        errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))


# Fields with these get_prep_value methods take a clean Python value to the driver unchanged.
PLAIN_PREP_VALUE = {
    models.Field.get_prep_value,
    models.CharField.get_prep_value,
    models.TextField.get_prep_value,
    models.BooleanField.get_prep_value,
    models.IntegerField.get_prep_value,
}


def _passes_values_as_they_are(model_field) -> bool:
    """Return whether the field hands its (already clean) Python value to the driver as is."""
    kind = type(model_field)
    if isinstance(model_field, models.ForeignKey):
        return True  # the attname's value: the related primary key
    return (
        kind.get_db_prep_save is models.Field.get_db_prep_save
        and kind.get_db_prep_value is models.Field.get_db_prep_value
        and kind.get_prep_value in PLAIN_PREP_VALUE
    )


def _value_preparer(model_field, db) -> Callable[[Any], Any]:
    if _passes_values_as_they_are(model_field):
        return lambda value: value
    prepare = model_field.get_db_prep_save
    if isinstance(model_field, EncryptedCharField):
        return lambda value: None if value is None else prepare(value, db)
    # Dates, times and JSON, as the field prepares them for a save; the same value as the
    # row before (the import's moment, an empty change list) is prepared once.
    last = [object(), None]

    def prepare_repeated(value):
        if value is None:
            return None
        if value != last[0]:
            last[0], last[1] = value, prepare(value, db)
        return last[1]

    return prepare_repeated


def insert_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT unsaved objects in multi-row statements and set their primary keys.

    What `bulk_create` does, without its per-value query compiling (most of its time): the
    values are prepared by each field itself (so personal numbers are encrypted), and the
    database's constraints apply as they do to any insert.
    """
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    if not db.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = db.ops.quote_name
    prepared = [(f.attname, _value_preparer(f, db)) for f in fields]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = "INSERT INTO {} ({}) VALUES ".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    )
    tail = " RETURNING " + quote(model._meta.pk.column)
    per_statement = max(db.ops.bulk_batch_size(fields, objs), 1)
    with db.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [prepare(getattr(obj, name)) for obj in chunk for name, prepare in prepared]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding, obj._state.db = False, db.alias


class _BulkWriter:
    """Write checked rows in bulk, as `case_register` would one by one.

    Holds the office sequences and the audit chain's head locked until the transaction ends,
    so references and chain links are handed out in one unbroken run.
    """

    def __init__(self, importer: LegacyCaseImport) -> None:
        self.user = importer.acting_user
        self.source_name = importer.source_name or "-"
        self.comment = _("Imported from the legacy file “%(file)s”, row %(row)d.")
        self.year = timezone.localdate().year
        self.now = importer.now
        self.sequences: dict[int, CaseSequence] = {}
        self.head = lock_chain_head(AuditEntry.CHAIN)
        self.case_type = ContentType.objects.get_for_model(ReissueCase)
        self.applicant_type = ContentType.objects.get_for_model(Applicant)

    def write(self, rows: list[_CheckedRow]) -> list[str]:
        """Write one batch and return the references of its cases."""
        insert_rows(Applicant, [r.applicant for r in rows if r.applicant.pk is None])
        changed = [r for r in rows if r.contact_changes]
        if changed:
            Applicant.objects.bulk_update([r.applicant for r in changed], CONTACT_FIELDS)
        for row in rows:
            row.case.applicant = row.applicant
            row.case.reference = self._next_reference(row.case.office)
        insert_rows(ReissueCase, [row.case for row in rows])
        entries = [self._edited(row) for row in changed]
        entries += [self._registered(row) for row in rows]
        insert_rows(AuditEntry, chain_extend(self.head, entries))
        return [row.case.reference for row in rows]

    def finish(self) -> None:
        for sequence in self.sequences.values():
            sequence.save(update_fields=["last_number"])
        self.head.save(update_fields=["sequence", "last_hash"])

    def _next_reference(self, office: Office) -> str:
        sequence = self.sequences.get(office.pk)
        if sequence is None:
            sequence = CaseSequence.objects.select_for_update().get_or_create(
                office=office, year=self.year
            )[0]
            self.sequences[office.pk] = sequence
        sequence.last_number += 1
        return format_case_reference(office.code, self.year, sequence.last_number)

    def _registered(self, row: _CheckedRow) -> AuditEntry:
        return AuditEntry(
            case=row.case,
            content_type=self.case_type,
            object_id=row.case.pk,
            action="registered",
            target_state=row.case.state,
            actor=self.user,
            at=self.now,
            comment=self.comment % {"file": self.source_name, "row": row.number},
        )

    def _edited(self, row: _CheckedRow) -> AuditEntry:
        return AuditEntry(
            case=None,
            content_type=self.applicant_type,
            object_id=row.applicant.pk,
            action="edited",
            actor=self.user,
            at=self.now,
            comment=self.comment % {"file": self.source_name, "row": row.number},
            changes=row.contact_changes,
        )


# The admin's import (django-import-export) ------------------------------------------------


class LegacyCSV(base_formats.CSV):
    """CSV read as bytes, so that we choose the encoding (UTF-8 or GB18030), not the page."""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        data = in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8")
        headers, rows = read_csv(data, limits=browser_limits())
        return _dataset(headers, rows)


class LegacyXLSX(base_formats.XLSX):
    """XLSX read by our reader: blank rows skipped, unreadable files explained."""

    def create_dataset(self, in_stream) -> tablib.Dataset:
        headers, rows = read_xlsx(in_stream, limits=browser_limits())
        return _dataset(headers, rows)


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
            outcome = importer.run(headers, rows, dry_run=dry_run)
        except ImportRefused as exc:
            result.append_base_error(_Refusal(exc))
            return result
        listed = settings.IMPORT_MAX_ERRORS_LISTED
        for problem in outcome.problems[:listed]:
            result.append_invalid_row(
                problem.number, problem.values, ValidationError(labelled_errors(problem.errors))
            )
        result.unlisted_problems = max(len(outcome.problems) - listed, 0)
        if outcome.ok:
            self._append_new_rows(result, importer, headers, rows, outcome.references)
        return result

    @staticmethod
    def _append_new_rows(result, importer, headers, rows, references) -> None:
        columns = importer.map_headers(headers)
        for index, row in enumerate(rows):
            preview = preview_values({c: _cell(row, i) for c, i in columns.items()})
            row_result = RowResult()
            row_result.import_type = RowResult.IMPORT_TYPE_NEW
            row_result.diff = [preview.get(column, "") for column in COLUMNS]
            if references:
                row_result.object_repr = references[index]
            result.append_row_result(row_result)
            result.increment_row_result_total(row_result)
