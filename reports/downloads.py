"""The dashboard's tables, as shown beside the charts and as CSV and XLSX downloads."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from reissue.exports import UTF8_BOM, escape_formula

from .selectors import Dashboard

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Like the case exports: the overdue table names cases and offices; keep no copy on the way.
NO_STORE = "no-store, private"


@dataclass(frozen=True)
class Table:
    key: str  # sheet and anchor name
    title: str
    headers: list[str]
    rows: list[list[Any]]


def _days(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def dashboard_tables(dashboard: Dashboard) -> list[Table]:
    """Return the dashboard's figures as titled tables, the same on the page and in files."""
    days = dashboard.days_to_card
    return [
        Table(
            "weeks",
            _("Cases opened and finished per week"),
            [_("week (Monday)"), _("opened"), _("finished")],
            [[row.week, row.opened, row.finished] for row in dashboard.weeks],
        ),
        Table(
            "states",
            _("Cases reported in the period, by state now"),
            [_("state"), _("cases")],
            [[row.label, row.count] for row in dashboard.states],
        ),
        Table(
            "days",
            _("Days from report to new SS card"),
            [_("figure"), _("value")],
            [
                [_("cases finished in the period"), days.cases],
                [_("median (days)"), _days(days.median)],
                [_("90th percentile (days)"), _days(days.p90)],
            ],
        ),
        Table(
            "overdue",
            _("Cases past the service deadline: %(count)s (the oldest are listed)")
            % {"count": dashboard.overdue_count},
            [_("reference"), _("office"), _("state"), _("reported on"), _("working days since")],
            [
                [case.reference, case.office, case.state_label, case.reported_on, case.working_days]
                for case in dashboard.overdue_oldest
            ],
        ),
        Table(
            "money",
            _("Expense claims per month (yuan)"),
            [_("month"), _("amount claimed"), _("amount approved"), _("amount paid")],
            [[row.month, row.claimed, row.approved, row.paid] for row in dashboard.months],
        ),
    ]


def _cell(value: Any) -> Any:
    """Return a value as a spreadsheet should hold it; text that looks like a formula escaped."""
    if isinstance(value, str):
        return escape_formula(value)
    return value


def _csv_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(_cell(value))


def dashboard_csv(tables: list[Table], filename: str) -> HttpResponse:
    """Return the tables one after the other in one CSV file, a blank line between them."""
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)  # Excel reads UTF-8 (Chinese text) only with the BOM
    writer = csv.writer(buffer)
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([_csv_text(table.title)])
        writer.writerow([_csv_text(header) for header in table.headers])
        writer.writerows([_csv_text(value) for value in row] for row in table.rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = NO_STORE
    return response


def dashboard_xlsx(tables: list[Table], filename: str) -> HttpResponse:
    """Return the tables as a workbook, one sheet per table, its title in the first row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.key)
        sheet.append([_cell(table.title)])
        sheet.append([_cell(header) for header in table.headers])
        for row in table.rows:
            sheet.append([_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    response["Cache-Control"] = NO_STORE
    return response
