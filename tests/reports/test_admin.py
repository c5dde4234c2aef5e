"""The dashboard page, its downloads and who may open them."""

import csv
import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.downloads import Table, dashboard_csv, dashboard_xlsx
from tests.factories import register_case, reissued_case
from tests.reports.conftest import local, set_dates

PAGE = "admin:reports_supervisordashboard_changelist"
CSV = "admin:reports_supervisordashboard_csv"
XLSX = "admin:reports_supervisordashboard_xlsx"
KNOWN_PERIOD = {"date_from": "2025-09-29", "date_to": "2025-10-26"}


def page(client, user, name=PAGE, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def csv_sections(response) -> dict[str, list[list[str]]]:
    """Return the CSV's tables by title, each as its header row and data rows."""
    text = response.content.decode("utf-8-sig")
    sections, current = {}, None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


@pytest.mark.parametrize("name", [PAGE, CSV, XLSX])
def test_clerks_and_reviewers_are_refused(client, clerk, reviewer, name):
    assert page(client, clerk, name).status_code == 403
    assert page(client, reviewer, name).status_code == 403


def test_supervisors_find_the_dashboard_on_the_admin_home(client, supervisor, clerk):
    url = reverse(PAGE)
    assert url in page(client, supervisor, "admin:index").content.decode()
    assert url not in page(client, clerk, "admin:index").content.decode()


def test_page_shows_charts_and_numbers_without_inline_style_or_script(client, history, supervisor):
    response = page(client, supervisor, **KNOWN_PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="chart"') == 4
    assert 'style="' not in html and "<script>" not in html
    assert "reports/dashboard.css" in html
    weeks = response.context["tables"]["weeks"]
    assert [row[1:] for row in weeks.rows] == [[3, 1], [1, 2], [2, 0], [0, 1]]


def test_overdue_count_links_to_the_case_list_filtered_to_the_overdue(client, history, supervisor):
    response = page(client, supervisor, **KNOWN_PERIOD)
    # Today (long after 2025): D, G and H still wait for their card; X is another office's.
    assert response.context["dashboard"].overdue_count == 3
    overdue_url = response.context["overdue_url"]
    assert overdue_url in response.content.decode()
    listed = client.get(overdue_url).content.decode()
    for name in "DGH":
        assert history[name].reference in listed
    for name in "ABCEFX":
        assert history[name].reference not in listed


def test_overdue_is_explained_as_the_rule_counts_it(client, history, supervisor, settings):
    # Overdue from the day after the Nth working day: on that day N working days have passed,
    # not "more than N".
    settings.SERVICE_DEADLINE_WORKING_DAYS = 15
    html = page(client, supervisor, **KNOWN_PERIOD).content.decode()
    assert "past their deadline, working day 15 after the report" in html
    assert "more than 15 working days" not in html
    case_list = client.get(page(client, supervisor).context["overdue_url"]).content.decode()
    assert "service deadline: working day 15 after the report" in case_list


def test_supervisor_of_one_office_sees_only_its_cases(client, history, other_supervisor):
    response = page(client, other_supervisor, **KNOWN_PERIOD)
    assert [row.opened for row in response.context["dashboard"].weeks] == [1, 0, 0, 0]
    assert response.context["dashboard"].overdue_count == 1  # X


def test_office_filter_offers_only_the_users_offices(
    client, history, supervisor, office, other_office
):
    response = page(client, supervisor, **KNOWN_PERIOD, office=other_office.pk)
    form = response.context["form"]
    assert list(form.fields["office"].queryset) == [office]
    assert "office" in form.errors
    assert history["X"].reference not in response.content.decode()
    assert response.context["dashboard"].overdue_count == 3


def test_auditor_may_choose_any_office(client, history, auditor, other_office):
    response = page(client, auditor, **KNOWN_PERIOD, office=other_office.pk)
    assert [row.opened for row in response.context["dashboard"].weeks] == [1, 0, 0, 0]


def test_csv_download_holds_the_same_tables(client, history, supervisor):
    response = page(client, supervisor, CSV, **KNOWN_PERIOD)
    assert response["Content-Disposition"] == (
        'attachment; filename="DC-dashboard-20250929-20251026.csv"; '
        "filename*=UTF-8''DC-supervisor%20dashboard-2025-09-29%20to%202025-10-26.csv"
    )
    sections = csv_sections(response)
    assert sections["Cases opened and finished per week"] == [
        ["week (Monday)", "opened", "finished"],
        ["2025-09-29", "3", "1"],
        ["2025-10-06", "1", "2"],
        ["2025-10-13", "2", "0"],
        ["2025-10-20", "0", "1"],
    ]
    assert sections["Expense claims per month (yuan)"][1:] == [
        ["2025-09", "200.00", "0.00", "0.00"],
        ["2025-10", "350.00", "245.00", "175.00"],
    ]
    assert sections["Days from report to new SS card"][1:] == [
        ["cases finished in the period", "4"],
        ["median (days)", "12.0"],
        ["90th percentile (days)", "15.4"],
    ]


@pytest.mark.parametrize("name", [CSV, XLSX])
def test_downloads_are_not_kept_in_caches(client, history, supervisor, name):
    response = page(client, supervisor, name, **KNOWN_PERIOD)
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))


@pytest.mark.parametrize("build", [dashboard_csv, dashboard_xlsx])
def test_download_files_say_no_store_whatever_view_serves_them(build):
    # The admin's never_cache adds it too; the files must not depend on being served there.
    response = build([Table("t", "title", ["a"], [[1]])], "x")
    assert {"no-store", "private"} <= set(response["Cache-Control"].split(", "))


def test_days_to_card_show_a_dash_not_a_zero_bar_when_no_case_finished(client, supervisor):
    response = page(client, supervisor, **KNOWN_PERIOD)  # no cases at all
    days_chart = str(response.context["charts"]["days"])
    assert '<rect class="bar days' not in days_chart
    assert days_chart.count(">\u2014</text>") == 2
    assert response.context["tables"]["days"].rows[1:] == [
        ["median (days)", ""],
        ["90th percentile (days)", ""],
    ]
    assert '<td class="number">\u2014</td>' in response.content.decode()


def test_xlsx_download_has_a_sheet_per_table(client, history, supervisor):
    response = page(client, supervisor, XLSX, **KNOWN_PERIOD)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Per week",
        "By state",
        "Days to new SS card",
        "Overdue cases",
        "Claims per month",
    ]
    money = list(workbook["Claims per month"].iter_rows(min_row=3, values_only=True))
    assert [(row[0].date().isoformat(), *map(float, row[1:])) for row in money] == [
        ("2025-09-01", 200.0, 0.0, 0.0),
        ("2025-10-01", 350.0, 245.0, 175.0),
    ]
    overdue = list(workbook["Overdue cases"].iter_rows(min_row=3, values_only=True))
    assert [row[0] for row in overdue] == [history[name].reference for name in "GHD"]


def test_text_a_spreadsheet_would_run_stays_text():
    table = Table("t", "=cmd|' /C calc'!A0", ["@SUM(1)"], [["+1", "-2", 3]])
    csv_text = dashboard_csv([table], "x").content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_text))) == [
        ["'=cmd|' /C calc'!A0"],
        ["'@SUM(1)"],
        ["'+1", "'-2", "3"],
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(dashboard_xlsx([table], "x").content))["t"]
    assert [cell.value for cell in sheet[3]] == ["'+1", "'-2", 3]
    assert sheet["A1"].data_type == "s"


def test_query_count_does_not_grow_with_the_cases(client, history, supervisor, clerk, office):
    client.force_login(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(PAGE), KNOWN_PERIOD).status_code == 200
        return len(captured)

    before = queries()
    for day in range(1, 21):
        case = register_case(clerk=clerk, office=office)
        set_dates(case, reported_at=local(2025, 10, day, 9))
        served = reissued_case(clerk=clerk, office=office)
        set_dates(served, reported_at=local(2025, 9, day, 9), card_on=local(2025, 10, day).date())
    assert queries() == before


def test_the_dashboard_shows_money_as_yuan_and_months_as_people_write_them(
    client, history, supervisor
):
    client.force_login(supervisor)
    response = client.get(reverse(PAGE), KNOWN_PERIOD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    money = response.content.decode()
    money = money[money.index('id="money"') :]
    assert "¥350.00" in money and "¥245.00" in money and "2025年10月" in money
    assert "350.0000" not in money and "2025-10-01" not in money


def test_the_xlsx_download_keeps_money_numeric_with_a_yuan_format(client, history, supervisor):
    response = page(client, supervisor, XLSX, **KNOWN_PERIOD)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Claims per month"]
    october = list(sheet[4])
    assert october[0].value.strftime("%Y-%m") == "2025-10"
    assert october[1].value == 350 and "¥" in october[1].number_format


def test_a_chinese_download_is_named_by_office_dashboard_and_period(client, history, auditor):
    client.force_login(auditor)
    response = client.get(reverse(XLSX), KNOWN_PERIOD, HTTP_ACCEPT_LANGUAGE="zh-CN")
    name = unquote(response["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == "全部-主管统计看板-2025-09-29至2025-10-26.xlsx"
    sheets = openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames
    assert sheets[0] == "按周统计" and all(len(sheet) <= 31 for sheet in sheets)
