"""Legacy-import helpers: the committed fixture files and an XLSX built on the spot."""

import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl
import pytest

from reissue.legacy_import import LegacyCaseImport, read_table

FILES = Path(__file__).parent / "files"
UTF8_HEADER = [
    "office",
    "name",
    "id_number",
    "phone",
    "hukou_address",
    "hukou_police_station",
    "lost_items",
    "loss_kind",
    "loss_date",
    "presented_hukou_book",
]


def file_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def import_file(name: str, *, user, dry_run: bool = False, office_code: str = ""):
    """Import a fixture file as the command does, and return the outcome."""
    headers, rows = read_table(file_bytes(name), file_name=name)
    importer = LegacyCaseImport(acting_user=user, office_code=office_code, source_name=name)
    return importer.run(headers, rows, dry_run=dry_run)


def xlsx_bytes(rows: list[list]) -> bytes:
    """Return an XLSX workbook with the given rows on its first sheet."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def errors_of(outcome) -> dict[int, dict[str, list[str]]]:
    return {problem.number: problem.errors for problem in outcome.problems}


@pytest.fixture
def importer_user(supervisor):
    """A supervisor of DC: the Supervisor group holds reissue.import_cases."""
    return supervisor


def handmade_xlsx(
    rows: Iterable[Sequence[int]], *, strings: Sequence[str], huge_string: int = 0
) -> bytes:
    """Return an XLSX workbook written by hand, its cells all shared strings.

    Each row lists indexes into `strings`; `huge_string` > 0 adds one more string of that
    many letters (index `len(strings)`), written in pieces, so the archive stays tiny.
    `rows` is read as it is written, so a sheet of a million rows costs no memory here.
    """
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, text in XLSX_PARTS.items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet xmlns="%s"><sheetData>' % MAIN_NS)
            for number, row in enumerate(rows, start=1):
                cells = "".join(
                    f'<c r="{_column_letter(i)}{number}" t="s"><v>{index}</v></c>'
                    for i, index in enumerate(row)
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as shared:
            shared.write(b'<sst xmlns="%s">' % MAIN_NS)
            for text in strings:
                shared.write(f"<si><t>{text}</t></si>".encode())
            if huge_string:
                shared.write(b"<si><t>")
                piece = b"A" * (1 << 20)
                for start in range(0, huge_string, len(piece)):
                    shared.write(piece[: huge_string - start])
                shared.write(b"</t></si>")
            shared.write(b"</sst>")
    return output.getvalue()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN_NS.decode()}" xmlns:r="{_RELS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}
