"""An import and the clerks at the same moment, on PostgreSQL with real connections (threads).

The import checks the file with no lock, then writes it a batch at a time, holding the file's
offices' sequences and its people's ID numbers (claimed as registration claims them), and
the audit chain's head only at the end. So a clerk registering one of the file's people meets
a message, never a deadlock, and steps elsewhere go on while the batches are written.
"""

import contextlib
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.chain import lock_chain_head, verify_chain
from audit.models import AuditEntry
from reissue import services
from reissue.id_number_claims import BEING_REGISTERED
from reissue.legacy_import import WRITING, ImportRefused, LegacyCaseImport, writer
from reissue.legacy_import import importer as import_run
from reissue.models import Applicant, ReissueCase
from tests.factories import ApplicantFactory, register_case
from tests.reissue.test_concurrency import _waiting_on_a_lock

from .conftest import UTF8_HEADER
from .test_background_import import id_number, row

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROWS = 6  # three batches of two


def in_a_thread(action):
    """Start `action` on a connection of its own; return (thread, its outcome or error)."""
    outcome = {}

    def worker():
        try:
            outcome["result"] = action()
        except Exception as error:  # recorded for the test to inspect
            outcome["result"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    return thread, outcome


@contextlib.contextmanager
def held_elsewhere(take_lock):
    """Meanwhile, hold what `take_lock()` locks, in a transaction of another connection."""
    held, done = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            take_lock()
            held.set()
            done.wait(timeout=20)

    thread, _outcome = in_a_thread(hold)
    assert held.wait(timeout=20)
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=20)


def import_rows(user, *, after_first_batch, in_one_pass: bool = False):
    """Import ROWS rows in batches of two, calling `after_first_batch` once it is written;
    `in_one_pass` as the command does (`check_and_write`), else checked first (`run`)."""
    rows = [row(n).split(",") for n in range(ROWS)]

    def progress(stage, done, total):
        if stage == WRITING and done == 2:
            after_first_batch()

    importer = LegacyCaseImport(acting_user=user, source_name="f.csv")
    if in_one_pass:
        survey = importer.survey(UTF8_HEADER, rows)
        return importer.check_and_write(UTF8_HEADER, rows, survey=survey, progress=progress)
    return importer.run(UTF8_HEADER, rows, progress=progress)


def registering(clerk, office, n):
    person = ApplicantFactory.build(id_number=id_number(n), name=f"张{'伟芳娜敏静丽强磊'[n % 8]}")
    return lambda: register_case(clerk=clerk, office=office, applicant=person)


@pytest.fixture(autouse=True)
def batches_of_two(monkeypatch):
    monkeypatch.setattr(import_run, "BATCH_SIZE", 2)


@pytest.mark.parametrize("in_one_pass", [False, True], ids=["checked first", "in one pass"])
def test_clerk_registering_a_later_rows_person_mid_import_wins_and_the_file_is_refused(
    importer_user, clerk, office, in_one_pass
):
    # Before, the clerk held the new applicant and waited for the office's sequence while the
    # import, holding that sequence, came to insert the same person: a deadlock. Now the
    # import finds the number claimed and refuses the row (and so the file); the clerk's
    # registration goes through once the import has rolled back.
    clerk_run = {}

    def clerk_registers_row_5():
        clerk_run["thread"], clerk_run["outcome"] = in_a_thread(registering(clerk, office, 3))
        deadline = timezone.now() + timezone.timedelta(seconds=20)
        while not _waiting_on_a_lock() and timezone.now() < deadline:
            pass  # the clerk waits for the office's sequence, the number claimed
        assert _waiting_on_a_lock(), clerk_run["outcome"]

    outcome = import_rows(
        importer_user, after_first_batch=clerk_registers_row_5, in_one_pass=in_one_pass
    )
    clerk_run["thread"].join(timeout=20)

    assert not outcome.ok and outcome.created == 0
    assert {p.number: p.errors for p in outcome.problems} == {
        5: {"id_number": [str(BEING_REGISTERED)]}
    }
    assert isinstance(clerk_run["outcome"]["result"], ReissueCase), clerk_run["outcome"]
    assert Applicant.objects.count() == 1 and ReissueCase.objects.count() == 1
    assert verify_chain(AuditEntry) is None


def test_clerk_registering_a_person_the_import_has_written_is_told_after_it(
    importer_user, clerk, office
):
    # The clerk waits for the import's commit (holding nothing the import needs) and is told.
    clerk_run = {}

    def clerk_registers_row_3():
        clerk_run["thread"], clerk_run["outcome"] = in_a_thread(registering(clerk, office, 1))

    outcome = import_rows(importer_user, after_first_batch=clerk_registers_row_3)
    clerk_run["thread"].join(timeout=20)

    assert outcome.ok and outcome.created == ROWS
    refusal = clerk_run["outcome"]["result"]
    assert isinstance(refusal, ValidationError), refusal
    assert "just registered this person" in " ".join(refusal.messages)
    assert ReissueCase.objects.count() == ROWS
    assert verify_chain(AuditEntry) is None


def test_a_step_in_the_imports_office_is_not_held_up_by_its_batches(importer_user, clerk, office):
    case = register_case(clerk=clerk, office=office)
    step = {}

    def clerk_takes_a_step():
        thread, step["outcome"] = in_a_thread(
            lambda: services.case_issue_temp_card(
                case=ReissueCase.objects.get(pk=case.pk),
                acting_user=clerk,
                card_number="TMP-A001",
                issued_on=timezone.localdate(),
            )
        )
        thread.join(timeout=10)
        step["waited"] = thread.is_alive()

    outcome = import_rows(importer_user, after_first_batch=clerk_takes_a_step)

    assert step["waited"] is False, "the step waited for the import's batches"
    assert isinstance(step["outcome"]["result"], ReissueCase), step["outcome"]
    assert outcome.ok and outcome.created == ROWS
    assert verify_chain(AuditEntry) is None


def wait_for_a_lock(outcome, seconds: float = 20) -> None:
    deadline = timezone.now() + timezone.timedelta(seconds=seconds)
    while not _waiting_on_a_lock() and timezone.now() < deadline:
        time.sleep(0.01)
    assert _waiting_on_a_lock(), outcome


def started_midway(action):
    """Return (start, run): `start()` runs `action` on a connection of its own and returns once
    it waits on a lock (an import's `after_first_batch`); `run` then holds its thread and its
    outcome."""
    run = {}

    def start():
        run["thread"], run["outcome"] = in_a_thread(action)
        wait_for_a_lock(run["outcome"])

    return start, run


def returning_person(supervisor, office, n, **contact):
    """Return the applicant of row `n + 2`'s person, their earlier case cancelled."""
    person = ApplicantFactory.build(id_number=id_number(n), name=f"张{'伟芳娜敏静丽强磊'[n % 8]}")
    case = register_case(clerk=supervisor, office=office, applicant=person)
    services.case_cancel(case=case, acting_user=supervisor, reason="card found")
    applicant = Applicant.objects.get(pk=case.applicant_id)
    for name, value in contact.items():
        setattr(applicant, name, value)
    return applicant


def test_clerk_registering_a_returning_person_of_a_later_row_mid_import_wins(
    importer_user, clerk, office
):
    # The clerk claims the number, row-locks the known applicant and waits for the office's
    # sequence, which the import holds. Before, the import row-locked that applicant too,
    # though it had failed to claim the number: a deadlock. Now it refuses the row.
    applicant = returning_person(importer_user, office, 3)
    clerk_registers_row_5, clerk_run = started_midway(
        lambda: register_case(clerk=clerk, office=office, applicant=applicant)
    )
    outcome = import_rows(importer_user, after_first_batch=clerk_registers_row_5)
    clerk_run["thread"].join(timeout=20)

    assert {p.number: p.errors for p in outcome.problems} == {
        5: {"id_number": [str(BEING_REGISTERED)]}
    }
    assert outcome.created == 0
    assert isinstance(clerk_run["outcome"]["result"], ReissueCase), clerk_run["outcome"]
    assert ReissueCase.objects.filter(applicant=applicant).count() == 2
    assert verify_chain(AuditEntry) is None


def test_clerk_registering_a_known_person_with_a_new_phone_waits_and_both_go_through(
    importer_user, clerk, office
):
    # The new phone is audited: the audit chain's head. Before, the clerk took it and then
    # waited for the office's sequence, while the import, holding the sequence, came to the
    # head for its own entries: a deadlock. Now the clerk takes the sequence first.
    applicant = returning_person(importer_user, office, 100, phone="13900000000")
    clerk_registers_the_person, clerk_run = started_midway(
        lambda: register_case(clerk=clerk, office=office, applicant=applicant)
    )
    outcome = import_rows(importer_user, after_first_batch=clerk_registers_the_person)
    clerk_run["thread"].join(timeout=20)

    assert outcome.ok and outcome.created == ROWS
    assert isinstance(clerk_run["outcome"]["result"], ReissueCase), clerk_run["outcome"]
    assert Applicant.objects.get(pk=applicant.pk).phone == "13900000000"
    assert verify_chain(AuditEntry) is None


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_two_imports_of_the_same_new_person_write_one_after_the_other(
    importer_user, other_supervisor, office, other_office
):
    # Before, the second import waited at its insert for the first's uncommitted applicant,
    # then failed on the unique number inside its aborted transaction: the release of its
    # claims failed too (an error page) and the claims stayed on the connection, refusing
    # the file's people to every clerk. Now the second waits for the first to commit, then
    # refuses the row, and holds no claim after.
    pudong_written = threading.Event()

    def pudong_progress(stage, done, total):
        if stage == WRITING and done == 2:
            pudong_written.set()
            wait_for_a_lock("the Dongcheng import did not wait")

    pudong_rows = [row(n).replace("DC,", "PD,", 1).split(",") for n in (3, 100)]
    pudong = LegacyCaseImport(acting_user=other_supervisor, source_name="pd.csv")
    thread, pudong_run = in_a_thread(
        lambda: pudong.run(UTF8_HEADER, pudong_rows, progress=pudong_progress)
    )
    assert pudong_written.wait(timeout=20)
    dongcheng_rows = [row(n).split(",") for n in range(ROWS)]
    outcome = LegacyCaseImport(acting_user=importer_user, source_name="dc.csv").run(
        UTF8_HEADER, dongcheng_rows
    )
    thread.join(timeout=20)

    assert pudong_run["result"].ok, pudong_run
    assert not outcome.ok and outcome.created == 0
    assert [p.number for p in outcome.problems] == [5]
    assert advisory_locks_held() == 0
    thread, clerk_run = in_a_thread(registering(other_supervisor, other_office, 2))
    thread.join(timeout=20)
    assert isinstance(clerk_run["result"], ReissueCase), clerk_run
    assert ReissueCase.objects.count() == 3
    assert verify_chain(AuditEntry) is None


def test_an_import_the_database_breaks_off_is_refused_with_a_message(
    monkeypatch, importer_user, clerk, office
):
    # A deadlock or a lock timeout in the write pass: the user reads why and that nothing was
    # imported (before, "current transaction is aborted" from the claims' release, a 500).
    lock = writer.lock_chain_head

    def lock_giving_up_soon(name):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '100ms'")
        return lock(name)

    monkeypatch.setattr(writer, "lock_chain_head", lock_giving_up_soon)
    refused = pytest.raises(ImportRefused, match="stopped by other work on the same cases")
    with held_elsewhere(lambda: lock_chain_head(AuditEntry.CHAIN)), refused:  # a clerk's step
        import_rows(importer_user, after_first_batch=lambda: None)
    assert advisory_locks_held() == 0
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()


def test_an_import_waiting_too_long_for_another_is_refused_with_a_message(
    settings, importer_user, office
):
    # Before, it waited with no limit: in the request, past gunicorn's timeout (an error page).
    settings.IMPORT_WAIT_SECONDS = 0.3

    def another_import_writing():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(-1)")  # what an import's write holds

    refused = pytest.raises(ImportRefused, match="Another file is being imported at this moment")
    with held_elsewhere(another_import_writing), refused:
        import_rows(importer_user, after_first_batch=lambda: None)
    assert advisory_locks_held() == 0
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()
