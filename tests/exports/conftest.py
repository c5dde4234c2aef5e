"""Helpers to export through the admin's export page, as a browser would, and read the file."""

import csv
import io
import json

import openpyxl
import pytest
from django.urls import reverse

FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}
BOM = b"\xef\xbb\xbf"


def export(client, admin_name: str, resource_class, fmt: str = "csv", query: str = ""):
    """POST the export form of `admin_name` (e.g. "reissue_reissuecase") with every column."""
    fields = {
        f"{resource_class.__name__.lower()}_{name}": "on"
        for name in resource_class().get_export_order()
    }
    url = reverse(f"admin:{admin_name}_export") + query
    return client.post(url, {"format": FORMATS[fmt], "resource": "0", **fields})


def read_rows(response) -> list[dict]:
    """Return the rows of a CSV, XLSX or JSON download as dicts keyed by header."""
    kind = response["Content-Type"]
    if kind.startswith("text/csv"):
        streamed = response.streaming  # on the page; a background export's file is whole
        content = b"".join(response.streaming_content) if streamed else response.content
        assert content.startswith(BOM)
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    if kind.startswith("application/json"):
        return json.loads(response.content)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(headers, row, strict=True)) for row in rows]


@pytest.fixture
def exporter(client):
    """Log in as `user` and export; return the rows and the response."""

    def run(user, admin_name, resource_class, fmt="csv", query=""):
        client.force_login(user)
        response = export(client, admin_name, resource_class, fmt, query)
        assert response.status_code == 200, response.content[:500]
        return read_rows(response), response

    return run
