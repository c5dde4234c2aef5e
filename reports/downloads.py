"""The dashboard's tables, as shown beside the charts and as CSV and XLSX downloads."""

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from common.display import NO_VALUE, format_month, format_yuan
from exports.files import UTF8_BOM, attachment_header, escape_formula, sheet_name

from .selectors import Dashboard

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Like the case exports: the overdue table names cases and offices; keep no copy on the way.
NO_STORE = "no-store, private"


# What a column holds, so the page shows it as people read it (¥1,234.56, 2026年12月) and
# the files keep it numeric, with a number format in XLSX.
TEXT, COUNT, DAYS, DAY, MONTH, MONEY = "text", "count", "days", "day", "month", "money"
XLSX_FORMATS = {MONEY: '"¥"#,##0.00', MONTH: "yyyy-mm", DAY: "yyyy-mm-dd", DAYS: "0.0"}


# The sheets of the XLSX download, named for people (Excel allows 31 characters).
SHEET_NAMES = {
    "weeks": gettext_lazy("Per week"),
    "states": gettext_lazy("By state"),
    "days": gettext_lazy("Days to new SS card"),
    "overdue": gettext_lazy("Overdue cases"),
    "money": gettext_lazy("Claims per month"),
}


@dataclass(frozen=True)
class Table:
    key: str  # sheet and anchor name
    title: str
    headers: list[str]
    rows: list[list[Any]]
    kinds: tuple[str, ...] = ()

    def kind_of(self, column: int) -> str:
        return self.kinds[column] if column < len(self.kinds) else TEXT

    def display_rows(self) -> list[list[str]]:
        """Return the rows as the page shows them."""
        return [
            [_display(value, self.kind_of(column)) for column, value in enumerate(row)]
            for row in self.rows
        ]


def _display(value: Any, kind: str) -> str:
    if value is None or value == "":
        return NO_VALUE
    if kind == MONEY:
        return format_yuan(value)
    if kind == MONTH:
        return format_month(value)
    if kind == DAY:
        return formats.date_format(value, "DATE_FORMAT")
    if kind in (COUNT, DAYS):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


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
            (DAY, COUNT, COUNT),
        ),
        Table(
            "states",
            _("Cases reported in the period, by state now"),
            [_("state"), _("cases")],
            [[row.label, row.count] for row in dashboard.states],
            (TEXT, COUNT),
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
            (TEXT, DAYS),
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
            (TEXT, TEXT, TEXT, DAY, COUNT),
        ),
        Table(
            "money",
            _("Expense claims per month (yuan)"),
            [_("month"), _("amount claimed"), _("amount approved"), _("amount paid")],
            [
                [row.month, _fen(row.claimed), _fen(row.approved), _fen(row.paid)]
                for row in dashboard.months
            ],
            (MONTH, MONEY, MONEY, MONEY),
        ),
    ]


def _cell(value: Any) -> Any:
    """Return a value as a spreadsheet should hold it; text that looks like a formula escaped."""
    if isinstance(value, str):
        return escape_formula(value)
    return value


def _fen(value) -> Decimal:
    # SQLite sums decimals as floats ("16113.4700000000"): money is kept to the fen.
    return Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _csv_text(value: Any, kind: str = TEXT) -> str:
    if kind == MONTH:
        return f"{value:%Y-%m}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(_cell(value))


def dashboard_csv(tables: list[Table], filename: str, ascii_filename: str = "") -> HttpResponse:
    """Return the tables one after the other in one CSV file, a blank line between them."""
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)  # Excel reads UTF-8 (Chinese text) only with the BOM
    writer = csv.writer(buffer)
    for number, table in enumerate(tables):
        if number:
            writer.writerow([])
        writer.writerow([_csv_text(table.title)])
        writer.writerow([_csv_text(header) for header in table.headers])
        writer.writerows(
            [_csv_text(value, table.kind_of(column)) for column, value in enumerate(row)]
            for row in table.rows
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_header(
        f"{filename}.csv", ascii_filename and f"{ascii_filename}.csv"
    )
    response["Cache-Control"] = NO_STORE
    return response


def dashboard_xlsx(tables: list[Table], filename: str, ascii_filename: str = "") -> HttpResponse:
    """Return the tables as a workbook, one sheet per table, its title in the first row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(sheet_name(str(SHEET_NAMES.get(table.key, table.key))))
        sheet.append([_cell(table.title)])
        sheet.append([_cell(header) for header in table.headers])
        for row in table.rows:
            sheet.append([_cell(value) for value in row])
            for column, cell in enumerate(sheet[sheet.max_row]):
                number_format = XLSX_FORMATS.get(table.kind_of(column))
                if number_format and cell.value is not None:
                    cell.number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = attachment_header(
        f"{filename}.xlsx", ascii_filename and f"{ascii_filename}.xlsx"
    )
    response["Cache-Control"] = NO_STORE
    return response
