"""manage.py import_cases: the same checks as the admin, all or nothing, a progress bar."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from common import id_numbers
from reissue.legacy_import import importer as import_run
from reissue.models import Applicant, CaseSequence, CaseState, ReissueCase

from .conftest import FILES
from .test_background_import import csv_of, row


def run(name: str, *args: str, user: str = "supervisor") -> tuple[str, str]:
    return run_file(FILES / name, *args, user=user)


def run_file(path, *args: str, user: str = "supervisor") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", str(path), "--user", user, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_the_file_with_a_progress_bar(supervisor):
    out, err = run("utf8.csv")
    assert "Imported 2 cases" in out
    assert "Importing [" in err and "2/2 (100%)" in err and "rows/s" in err
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


def write_rows(tmp_path, rows: list[str]):
    path = tmp_path / "legacy.csv"
    path.write_bytes(csv_of(rows))
    return path


def test_command_checks_each_row_once_and_writes_it_in_the_same_pass(
    monkeypatch, supervisor, tmp_path
):
    # The operator's import has no preview to keep a check for: each row's own rules (here
    # the ID number's) run once, just before its batch is written.
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    validated, writes = [], []
    validate = id_numbers.validate_id_number
    monkeypatch.setattr(
        Applicant._meta.get_field("id_number"),
        "validators",
        [lambda value: validated.append(value) or validate(value)],
    )
    write = import_run.BulkWriter.write
    monkeypatch.setattr(
        import_run.BulkWriter,
        "write",
        lambda self, rows: writes.append(len(validated)) or write(self, rows),
    )
    out, _err = run_file(write_rows(tmp_path, [row(n) for n in range(5)]))
    assert "Imported 5 cases" in out
    assert len(validated) == 5
    assert writes == [2, 4, 5]  # each batch written once checked, before the next is
    assert ReissueCase.objects.count() == 5


def test_a_bad_row_rolls_back_what_was_written_and_the_rest_is_checked_unlocked(
    monkeypatch, supervisor, tmp_path
):
    # Past the first bad row nothing more is written and nothing is held: the rows written
    # before it are rolled back, the office's sequence let go; every later bad row is still
    # reported.
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)
    writing = []
    check_batch = import_run.RowChecker.check_batch

    def recording(self, batch, **kwargs):
        writing.append(self.for_writing)
        return check_batch(self, batch, **kwargs)

    monkeypatch.setattr(import_run.RowChecker, "check_batch", recording)
    rows = [row(n) for n in range(7)]
    rows[3] = row(3, loss_date="2999-01-01")  # the second batch's
    rows[6] = row(6, loss_date="2999-01-01")  # the fourth's
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 2 of 7 rows"):
        call_command(
            "import_cases", str(write_rows(tmp_path, rows)), "--user", "supervisor", stderr=err
        )
    assert writing == [True, True, False, False]
    assert "row 5, loss_date" in err.getvalue() and "row 8, loss_date" in err.getvalue()
    assert "Checking [" in err.getvalue()  # the bar says what goes on from the bad row
    assert not Applicant.objects.exists() and not ReissueCase.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not CaseSequence.objects.filter(last_number__gt=0).exists()
