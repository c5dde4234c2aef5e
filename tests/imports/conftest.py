"""Legacy-import helpers: the committed fixture files and an XLSX built on the spot."""

import io
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
