"""manage.py import_cases: the same checks as the admin, all or nothing, a progress bar."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from reissue.models import Applicant, CaseState, ReissueCase

from .conftest import FILES


def run(name: str, *args: str, user: str = "supervisor") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", str(FILES / name), "--user", user, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_the_file_with_a_progress_bar(supervisor):
    out, err = run("utf8.csv")
    assert "Imported 2 cases" in out
    assert "2/2 (100%)" in err
    assert "Checking [" in err and "Importing [" in err and "rows/s" in err
    assert set(ReissueCase.objects.values_list("state", flat=True)) == {CaseState.REPORTED}
    assert AuditEntry.objects.filter(action="registered").count() == 2


def test_command_writes_nothing_when_one_row_is_bad_and_names_it(supervisor):
    with pytest.raises(CommandError, match="Nothing was imported: 1 of 2 rows"):
        run("good_then_bad.csv")
    assert not Applicant.objects.exists() and not AuditEntry.objects.exists()


def test_command_prints_each_bad_row_with_its_column(supervisor):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_cases", str(FILES / "good_then_bad.csv"), "--user", "supervisor", stderr=err
        )
    assert "row 3, loss_date: The date of loss cannot be in the future." in err.getvalue()


def test_dry_run_writes_nothing(supervisor):
    out, _err = run("utf8.csv", "--dry-run")
    assert "All 2 rows can be imported" in out
    assert not ReissueCase.objects.exists()


def test_office_option_refuses_rows_of_other_offices(supervisor, other_office):
    other_office.staff.add(supervisor)
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("utf8.csv", "--office", "PD")
    assert not ReissueCase.objects.exists()


def test_command_refuses_a_user_without_the_import_permission(clerk):
    with pytest.raises(CommandError, match="You may not import cases"):
        run("utf8.csv", user="clerk")


def test_command_refuses_an_unreadable_file(supervisor):
    with pytest.raises(CommandError, match="neither UTF-8 nor GBK/GB18030"):
        run("latin1.csv")


def test_verify_audit_passes_after_an_import(supervisor):
    run("utf8.csv")
    run("gb18030.csv")
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit trail: 3 entries, chain intact" in out.getvalue()


def test_command_takes_more_rows_and_bigger_workbooks_than_the_browser(supervisor, settings):
    settings.IMPORT_MAX_BROWSER_ROWS = 1
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    out, _err = run("utf8.csv")
    assert "Imported 2 cases" in out


def test_command_refuses_a_cell_over_the_limit_naming_its_row(supervisor, tmp_path):
    path = tmp_path / "long.csv"
    text = (FILES / "utf8.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("李娜", "李" * 1001), encoding="utf-8")
    with pytest.raises(CommandError, match="row 3, name: a cell holds more than 1,000"):
        call_command("import_cases", str(path), "--user", "supervisor", stderr=io.StringIO())
    assert not ReissueCase.objects.exists()


def test_command_lists_at_most_the_configured_number_of_bad_rows(supervisor, settings):
    settings.IMPORT_MAX_ERRORS_LISTED = 0
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_cases", str(FILES / "good_then_bad.csv"), "--user", "supervisor", stderr=err
        )
    assert "row 3" not in err.getvalue() and "... and 1 more rows with errors." in err.getvalue()
