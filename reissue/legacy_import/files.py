"""Reading legacy files: CSV in UTF-8 or GB18030, the first sheet of an XLSX workbook, within
limits, row by row.

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
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from common.text import BIDI_CONTROLS, normalize_text

from .cells import cell_text, shown

READABLE_ENCODINGS = ("utf-8-sig", "gb18030")


class ImportRefused(ValueError):
    """The file as a whole cannot be imported; the message is written for the user."""


class UnreadableFile(ImportRefused):
    """The file cannot be read at all (its encoding, or not a workbook)."""


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file is read: None is no limit. See `browser_limits` for the admin's."""

    max_cell_chars: int | None = None
    max_rows: int | None = None  # data rows, after the header
    max_xlsx_uncompressed_bytes: int | None = None  # all parts of the workbook together
    max_xlsx_shared_strings_bytes: int | None = None
    # Makes the refusal of a file past max_rows, if not the browser's (`TooManyRows`).
    too_many_rows: Callable[[int], Exception] | None = None


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
        headers, rows = self.stream(raw_rows)
        return headers, list(rows)

    def stream(self, raw_rows: Iterable[Sequence[Any]]) -> tuple[list[str], Iterator[list[Any]]]:
        """Read the header now; return it and the data rows, read as they are asked for."""
        raw_rows = iter(raw_rows)
        first = next(raw_rows, None)
        if first is None:
            return [], iter(())
        self.headers = ["" if cell is None else str(cell) for cell in first[:MAX_COLUMNS]]
        self._check_cells(self.headers, 1)
        return self.headers, self._data_rows(raw_rows)

    def _data_rows(self, raw_rows: Iterator[Sequence[Any]]) -> Iterator[list[Any]]:
        limits, kept, read = self.limits, 0, 0
        for number, row in enumerate(raw_rows, start=2):
            row = list(row[:MAX_COLUMNS])
            read += 1
            if not any(cell_text(cell) for cell in row):
                if limits.max_rows is not None and read > limits.max_rows * BLANK_ROWS_PER_ROW:
                    raise self._too_many_rows()
                continue
            if limits.max_rows is not None and kept >= limits.max_rows:
                raise self._too_many_rows()
            self._check_cells(row, number)
            kept += 1
            yield row

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
            column = shown(self.headers[index].strip(), 40)
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
        if self.limits.too_many_rows is not None:
            return self.limits.too_many_rows(self.limits.max_rows)
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
    headers, rows = stream_csv(data, limits=limits)
    return headers, list(rows)


def stream_csv(
    data: bytes, *, limits: ReadLimits | None = None
) -> tuple[list[str], Iterator[list[str]]]:
    """Return the header of a CSV file and its rows, read one by one as they are asked for."""
    limits = limits or ReadLimits()
    text = io.TextIOWrapper(io.BytesIO(data), encoding=text_encoding(data), newline="")
    reader = _TableReader(limits)
    csv_rows = csv.reader(_bounded_lines(text, limits, reader))

    def explained(rows: Iterator) -> Iterator:
        try:
            yield from rows
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                # The csv module's own limit on a cell (128 KB, for the whole process): a
                # cell far longer than ours, spread over lines.
                raise reader.long_cell(csv_rows.line_num, None) from exc
            raise UnreadableFile(
                _("This file cannot be read as CSV: %(error)s") % {"error": exc}
            ) from exc

    return reader.stream(explained(csv_rows))


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
    _check_unpacked_sizes(parts, limits)
    if limits.max_xlsx_uncompressed_bytes is not None and any(
        part.file_size > XLSX_RATIO_FROM_BYTES
        and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1)
        for part in parts
    ):
        raise ImportRefused(
            _(
                "This workbook is packed far more tightly than a spreadsheet can be, as a "
                "“zip bomb” is; it was not opened. Save the sheet again from Excel."
            )
        )


def _check_unpacked_sizes(parts: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    most, most_strings = limits.max_xlsx_uncompressed_bytes, limits.max_xlsx_shared_strings_bytes
    total = sum(part.file_size for part in parts)
    strings = sum(p.file_size for p in parts if "sharedstrings" in p.filename.lower())
    if (most is not None and total > most) or (most_strings is not None and strings > most_strings):
        raise ImportRefused(
            _(
                "This workbook unpacks to more than the browser reads at once (at most "
                "%(most)s MB in all and %(strings)s MB of text). Split it, or ask an "
                "administrator to import it with “manage.py import_cases”."
            )
            % {"most": megabytes(most or total), "strings": megabytes(most_strings or strings)}
        )


# What reading a damaged sheet raises as its rows are read: a part that does not unpack
# (bad deflate data, CRC, cut short) or XML that does not parse (ParseError is a SyntaxError,
# lxml's too).
XLSX_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError)


def _unreadable_xlsx() -> UnreadableFile:
    return UnreadableFile(_("This file is not an Excel .xlsx workbook that can be read."))


def read_xlsx(
    data: bytes, *, limits: ReadLimits | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and the rows of the first sheet of an XLSX workbook."""
    headers, rows = stream_xlsx(data, limits=limits)
    return headers, list(rows)


def stream_xlsx(
    data: bytes, *, limits: ReadLimits | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """Return the header of an XLSX workbook's first sheet and its rows, read one by one."""
    import openpyxl

    limits = limits or ReadLimits()
    check_xlsx_archive(data, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise UnreadableFile(
            _("This file is not an Excel .xlsx workbook that can be read.")
        ) from exc

    def closing(rows: Iterator) -> Iterator:
        try:
            yield from rows
        except XLSX_READ_ERRORS as exc:  # damaged past the rows read so far
            raise _unreadable_xlsx() from exc
        finally:
            book.close()

    try:
        headers, rows = _TableReader(limits).stream(
            book.active.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        )
    except XLSX_READ_ERRORS as exc:
        book.close()
        raise _unreadable_xlsx() from exc
    except BaseException:
        book.close()
        raise
    return headers, closing(rows)


def read_table(
    data: bytes, *, file_name: str, limits: ReadLimits | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and rows of a .csv or .xlsx file, chosen by its name."""
    headers, rows = stream_table(data, file_name=file_name, limits=limits)
    return headers, list(rows)


def stream_table(
    data: bytes, *, file_name: str, limits: ReadLimits | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """Return the header of a .csv or .xlsx file and its rows, read one by one."""
    if file_name.lower().endswith(".xlsx"):
        return stream_xlsx(data, limits=limits)
    if file_name.lower().endswith(".csv"):
        return stream_csv(data, limits=limits)
    raise UnreadableFile(_("Import a .csv or an .xlsx file."))


def count_rows(data: bytes, *, file_name: str, limits: ReadLimits | None = None) -> int:
    """Return how many data rows a file has (read through once, nothing kept)."""
    return sum(1 for _row in stream_table(data, file_name=file_name, limits=limits)[1])


FILE_NAME_CHARS = 100


def clean_file_name(name: str) -> str:
    """Return an uploaded file's name as the audit trail may name it: short and plain.

    The last path component only, without control, bidirectional or invisible characters,
    in NFKC form, not starting like a spreadsheet formula, at most 100 characters.
    """
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if c not in BIDI_CONTROLS and unicodedata.category(c) != "Cc")
    name = normalize_text(name, fold=True).lstrip("=+-@ ")
    return shown(name, FILE_NAME_CHARS)
