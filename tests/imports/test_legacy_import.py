"""Checking and importing legacy files: each bad kind of row, the encodings, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from audit.chain import verify_chain
from audit.models import AuditEntry
from common.id_numbers import birth_date_from_id_number, compose_id_number, id_number_digest
from reissue import services
from reissue.legacy_import import ImportRefused, LegacyCaseImport, UnreadableFile, read_table
from reissue.models import Applicant, CaseState, ReissueCase
from reissue.registration import MESSAGES, OPEN_CASE
from tests.factories import ApplicantFactory, register_case, reissued_case

from .conftest import UTF8_HEADER, errors_of, file_bytes, import_file, xlsx_bytes

ZHANG_WEI = "110101198005171233"


@pytest.mark.parametrize(
    ("name", "column", "message"),
    [
        ("bad_check_character.csv", "id_number", "The check character of this ID number"),
        ("unknown_office.csv", "office", "No office has the code “ZZ”."),
        ("future_date.csv", "loss_date", "The date of loss cannot be in the future."),
        ("missing_column.csv", "loss_date", "The column “loss_date” is missing from the file."),
        ("state_column.csv", "state", "Imported cases start at “reported”"),
        ("same_person_twice.csv", "id_number", "This ID number is on row 2 of this file too"),
    ],
)
def test_bad_row_is_reported_with_its_reason_and_nothing_is_imported(
    importer_user, name, column, message
):
    outcome = import_file(name, user=importer_user)
    bad_row = max(errors_of(outcome))
    assert any(message in text for text in errors_of(outcome)[bad_row][column])
    assert outcome.created == 0
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()


def test_open_case_of_the_applicant_is_reported(importer_user, clerk, office):
    register_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="张伟", id_number=ZHANG_WEI),
    )
    outcome = import_file("open_case_exists.csv", user=importer_user)
    assert errors_of(outcome) == {
        2: {"id_number": ["This applicant already has an open case; continue that case instead."]}
    }
    assert ReissueCase.objects.count() == 1


def test_applicant_whose_case_is_finished_gets_a_new_case(importer_user, clerk, office):
    reissued = reissued_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="张伟", id_number=ZHANG_WEI, phone="13000000000"),
    )
    finished = services.case_close(case=reissued, acting_user=clerk)
    outcome = import_file("open_case_exists.csv", user=importer_user)
    assert outcome.ok and outcome.created == 1
    new_case = ReissueCase.objects.exclude(pk=finished.pk).get()
    assert new_case.applicant_id == finished.applicant_id
    assert new_case.applicant.phone == "13800138000"
    edited = AuditEntry.objects.get(action="edited", object_id=finished.applicant_id)
    assert edited.changes == {"phone": ["*******0000", "*******8000"]}


def test_office_the_user_does_not_work_in_is_refused(importer_user, other_office):
    rows = [
        UTF8_HEADER,
        [
            "PD",
            "张伟",
            ZHANG_WEI,
            "13800138000",
            "地址",
            "派出所",
            "both",
            "lost",
            "2024-03-05",
            "1",
        ],
    ]
    outcome = LegacyCaseImport(acting_user=importer_user).run(rows[0], rows[1:])
    assert errors_of(outcome) == {2: {"office": ["You may not import cases for the office “PD”."]}}


def test_clerk_may_not_import(clerk):
    with pytest.raises(PermissionDenied):
        LegacyCaseImport(acting_user=clerk)


def test_one_bad_row_leaves_the_good_rows_unwritten(importer_user):
    outcome = import_file("good_then_bad.csv", user=importer_user)
    assert list(errors_of(outcome)) == [3]
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("utf8.csv", ["张伟", "李娜"]),
        ("utf8_bom.csv", ["王芳"]),
        ("gbk.csv", ["欧阳娜娜"]),
        ("gb18030.csv", ["刘䶮"]),
    ],
)
def test_chinese_names_survive_every_encoding_we_read(importer_user, name, names):
    outcome = import_file(name, user=importer_user)
    assert outcome.ok, outcome.problems
    assert sorted(Applicant.objects.values_list("name", flat=True)) == sorted(names)


@pytest.mark.parametrize("name", ["latin1.csv", "binary.csv"])
def test_file_in_an_encoding_we_cannot_read_is_refused_with_a_clear_error(name):
    with pytest.raises(UnreadableFile, match="neither UTF-8 nor GBK/GB18030"):
        read_table(file_bytes(name), file_name=name)


def test_xlsx_with_dates_and_numbers_as_excel_keeps_them(importer_user):
    data = xlsx_bytes(
        [
            [
                "经办网点",
                "姓名",
                "居民身份证号码",
                "联系电话",
                "户籍地址",
                "户籍所在地派出所",
                "遗失证件",
                "遗失方式",
                "遗失日期",
            ],
            [
                "DC",
                "赵敏",
                "440305200107090883",
                13700001111,
                "深圳市南山区1号",
                "南山派出所",
                "仅身份证",
                "遗失",
                datetime.datetime(2024, 5, 6),
            ],
        ]
    )
    headers, rows = read_table(data, file_name="legacy.xlsx")
    outcome = LegacyCaseImport(acting_user=importer_user).run(headers, rows)
    assert outcome.ok, outcome.problems
    case = ReissueCase.objects.get()
    assert (case.applicant.name, case.applicant.phone) == ("赵敏", "13700001111")
    assert case.loss_date == datetime.date(2024, 5, 6) and case.lost_items == "id_card"


def test_imported_cases_start_reported_with_a_reference_and_an_audit_entry(importer_user):
    outcome = import_file("utf8.csv", user=importer_user)
    cases = ReissueCase.objects.order_by("reference")
    assert [c.state for c in cases] == [CaseState.REPORTED] * 2
    assert [c.reference for c in cases] == sorted(outcome.references)
    assert cases[0].reference.startswith("DC-") and cases[0].handled_by == importer_user
    assert cases.get(lost_items="both").ss_card_suspended_at is not None
    registered = AuditEntry.objects.filter(action="registered", target_state="reported")
    assert registered.count() == 2
    assert "utf8.csv" in registered.first().comment
    assert verify_chain(AuditEntry) is None


def test_import_continues_the_reference_sequence_and_the_audit_chain(importer_user, clerk, office):
    first = register_case(clerk=clerk, office=office)
    import_file("utf8.csv", user=importer_user)
    after = register_case(clerk=clerk, office=office)
    numbers = sorted(int(c.reference[-6:]) for c in ReissueCase.objects.all())
    assert (
        numbers == [1, 2, 3, 4] and first.reference.endswith("1") and after.reference.endswith("4")
    )
    assert verify_chain(AuditEntry) is None


def test_imported_id_and_phone_numbers_are_stored_encrypted(importer_user):
    import_file("utf8.csv", user=importer_user)
    stored = Applicant.objects.filter(id_number_hash=id_number_digest(ZHANG_WEI))
    raw = stored.values_list("id_number", "phone").query
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(*raw.sql_with_params())
        id_number, phone = cursor.fetchone()
    assert ZHANG_WEI not in id_number and "13800138000" not in phone


def test_dry_run_checks_everything_and_writes_nothing(importer_user):
    outcome = import_file("utf8.csv", user=importer_user, dry_run=True)
    assert outcome.ok and outcome.rows == 2
    assert not ReissueCase.objects.exists() and not AuditEntry.objects.exists()


def test_known_id_number_under_another_name_is_refused(importer_user, clerk, office):
    reissued = reissued_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="张大伟", id_number=ZHANG_WEI),
    )
    services.case_close(case=reissued, acting_user=clerk)
    outcome = import_file("open_case_exists.csv", user=importer_user)
    assert errors_of(outcome) == {
        2: {"name": ["This ID number is registered under another name. Check the card."]}
    }


def test_agent_who_acts_needs_name_and_number_as_at_the_counter(importer_user):
    header = [*UTF8_HEADER, "agent_acts", "agent_name"]
    row = ["DC", "张伟", ZHANG_WEI, "13800138000", "地址", "派出所", "both", "lost", "2024-03-05"]
    outcome = LegacyCaseImport(acting_user=importer_user).run(header, [[*row, "1", "1", "李四"]])
    assert errors_of(outcome)[2] == {
        "agent_id_number": ["An agent acts for the applicant: give the agent's ID number."]
    }


def run_recording_locks(monkeypatch, name: str, user):
    """Import a file in batches of one row; return what happened, in order."""
    from reissue.legacy_import import importer as import_run
    from reissue.legacy_import import writer

    events = []
    lock = writer.lock_chain_head

    def recording_lock(chain_name):
        events.append(("locked", chain_name))
        return lock(chain_name)

    monkeypatch.setattr(import_run, "BATCH_SIZE", 1)
    monkeypatch.setattr(writer, "lock_chain_head", recording_lock)
    headers, rows = read_table(file_bytes(name), file_name=name)
    importer = LegacyCaseImport(acting_user=user, source_name=name)
    outcome = importer.run(
        headers, rows, progress=lambda stage, done, total: events.append((stage, done))
    )
    return outcome, events


def test_the_file_is_checked_whole_then_written_a_batch_at_a_time_the_chain_locked_last(
    monkeypatch, importer_user
):
    # Constant memory in both passes; the audit chain's head (which every office's steps
    # wait for) is held only for the audit entries, at the end.
    outcome, events = run_recording_locks(monkeypatch, "utf8.csv", importer_user)
    assert outcome.created == 2
    assert events == [
        ("checking", 1),
        ("checking", 2),
        ("writing", 1),
        ("writing", 2),
        ("locked", AuditEntry.CHAIN),
    ]
    assert verify_chain(AuditEntry) is None


def test_bad_row_anywhere_is_found_before_anything_is_written(monkeypatch, importer_user):
    outcome, events = run_recording_locks(monkeypatch, "good_then_bad.csv", importer_user)
    assert not outcome.ok and outcome.created == 0
    assert [stage for stage, _done in events] == ["checking", "checking"]
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()
    assert not AuditEntry.objects.exists()
    assert verify_chain(AuditEntry) is None


def advisory_locks_held() -> int:
    """Return how many advisory locks this connection holds (none but on PostgreSQL)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_person_registered_between_the_writes_check_and_its_insert_refuses_the_file(
    monkeypatch, importer_user
):
    # The unique ID number stops the insert: the user is told the cases changed, nothing is
    # written, and no claim stays on the connection (they outlast the rollback).
    from reissue.legacy_import import writer

    write = writer.BulkWriter.write

    def registered_meanwhile_then_write(self, rows):
        ApplicantFactory(id_number=rows[0].applicant.id_number)
        return write(self, rows)

    monkeypatch.setattr(writer.BulkWriter, "write", registered_meanwhile_then_write)
    with pytest.raises(ImportRefused, match="changed while the file was being imported"):
        import_file("utf8.csv", user=importer_user)
    assert not Applicant.objects.exists() and not ReissueCase.objects.exists()
    assert not AuditEntry.objects.exists()
    assert advisory_locks_held() == 0


def test_file_whose_first_batch_is_bad_never_locks_the_audit_chain(monkeypatch, importer_user):
    outcome, events = run_recording_locks(monkeypatch, "bad_check_character.csv", importer_user)
    assert not outcome.ok
    assert ("locked", AuditEntry.CHAIN) not in events
    assert not ReissueCase.objects.exists()


def import_with_between_the_passes(monkeypatch, name: str, user, meanwhile):
    """Import a fixture file, calling `meanwhile()` after its check pass, before its write."""
    from reissue.legacy_import import importer as import_run

    check = import_run.LegacyCaseImport._check

    def check_then(importer, *args):
        offices = check(importer, *args)
        meanwhile()
        return offices

    monkeypatch.setattr(import_run.LegacyCaseImport, "_check", check_then)
    return import_file(name, user=user)


def test_case_registered_between_check_and_write_refuses_the_whole_file_with_the_row(
    monkeypatch, importer_user, clerk, office
):
    # The check takes no lock: a clerk may register one of the file's people before the
    # write pass, whose own check refuses that row; nothing of the file is written.
    def register():
        register_case(
            clerk=clerk,
            office=office,
            applicant=ApplicantFactory.build(name="李娜", id_number="110105199211032461"),
        )

    outcome = import_with_between_the_passes(monkeypatch, "utf8.csv", importer_user, register)
    assert not outcome.ok and outcome.created == 0
    assert errors_of(outcome) == {3: {"id_number": [MESSAGES[OPEN_CASE]]}}
    assert not Applicant.objects.filter(name="张伟").exists()
    assert ReissueCase.objects.count() == 1  # the clerk's
    assert verify_chain(AuditEntry) is None


def test_imported_values_read_back_and_match_as_the_orms_own(importer_user, clerk, office):
    # The writer prepares each value by its field, as a save does: an exact lookup on the
    # moment of the import, the dates and the audit entry's changes find what was written.
    reissued = reissued_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="张伟", id_number=ZHANG_WEI, phone="13000000000"),
    )
    services.case_close(case=reissued, acting_user=clerk)
    importer = LegacyCaseImport(acting_user=importer_user, source_name="open_case_exists.csv")
    headers, rows = read_table(file_bytes("open_case_exists.csv"), file_name="x.csv")
    assert importer.run(headers, rows).created == 1
    case = ReissueCase.objects.get(reported_at=importer.now, ss_card_suspended_at=importer.now)
    assert case.loss_date == datetime.date(2024, 3, 5) and case.presented_hukou_book
    assert (case.applicant.id_number, case.applicant.phone) == (ZHANG_WEI, "13800138000")
    assert AuditEntry.objects.filter(at=importer.now).count() == 2
    assert AuditEntry.objects.get(action="edited", changes__has_key="phone").changes == {
        "phone": ["*******0000", "*******8000"]
    }


def reported_row(person, *, lost, reported, lost_items="both") -> list:
    """Return a sheet row of `person`'s report (UTF8_HEADER, then `reported_at`)."""
    return [
        "DC", person.name, person.id_number, person.phone, person.hukou_address,
        person.hukou_police_station, lost_items, "lost", lost.isoformat(), "yes",
        reported.isoformat(),
    ]  # fmt: skip


def test_an_imported_case_is_overdue_exactly_when_one_registered_the_same_day_would_be(
    importer_user, clerk, office, monkeypatch
):
    """The bulk insert skips ReissueCase.save: the import keeps the rules and starts the
    clocks itself, reading the policy and the calendar once per report day."""
    import time_machine
    from django.utils import timezone

    from reissue import models as case_models
    from reissue.case_policy import CasePolicy
    from reissue.deadlines import is_overdue

    CasePolicy.objects.create(
        office=office,
        effective_from=datetime.date(2020, 1, 1),
        service_deadline_working_days=10,
        old_card_cancelled_after_days=30,
    )
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in (20, 40)]
    people = [ApplicantFactory.build() for _ in range(4)]
    rows = [
        reported_row(p, lost=day, reported=day)
        for p, day in zip(people, [days[0], days[0], days[1], days[1]], strict=True)
    ]
    reads = []
    rules_in_force = case_models.rules_in_force
    monkeypatch.setattr(
        case_models, "rules_in_force", lambda *a: reads.append(a) or rules_in_force(*a)
    )
    data = xlsx_bytes([[*UTF8_HEADER, "reported_at"], *rows])
    outcome = LegacyCaseImport(acting_user=importer_user).run(
        *read_table(data, file_name="legacy.xlsx")
    )
    assert outcome.ok, outcome.problems
    assert len(reads) == 2  # one per report day, not per row
    monkeypatch.undo()
    for day in days:
        with time_machine.travel(
            timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        ):
            registered = register_case(clerk=clerk, office=office, loss_date=day)
        imported = ReissueCase.objects.filter(reported_at__date=day, handled_by=importer_user)
        assert imported.count() == 2
        for case in imported:
            assert case.policy_values == registered.policy_values
            assert case.service_due_on == registered.service_due_on is not None
            assert (
                case.old_card_cancel_on
                == registered.old_card_cancel_on
                == day + datetime.timedelta(30)
            )
            assert timezone.localdate(case.formal_reported_at) == day
            for on in (
                registered.service_due_on,
                registered.service_due_on + datetime.timedelta(1),
            ):
                assert is_overdue(case, today=on) == is_overdue(registered, today=on)
        assert not is_overdue(registered, today=registered.service_due_on)
        assert is_overdue(registered, today=registered.service_due_on + datetime.timedelta(1))


def test_each_imported_case_keeps_its_own_dates_where_rows_share_some(importer_user):
    # The writer prepares each distinct date and moment once a batch, not once a row, and
    # starts the clocks once per report (office, moment, kind, what was lost).
    from django.utils import timezone

    days = [datetime.date(2024, 3, n) for n in (1, 2, 3)]
    rows_given = [  # lost on, reported on, what was lost
        (days[0], days[1], "both"),
        (days[0], days[2], "id_card"),
        (days[1], days[2], "both"),
        (days[2], days[2], "id_card"),
    ]
    people = [ApplicantFactory.build() for _ in rows_given]
    rows = [
        reported_row(p, lost=lost, reported=reported, lost_items=lost_items)
        for p, (lost, reported, lost_items) in zip(people, rows_given, strict=True)
    ]
    data = xlsx_bytes([[*UTF8_HEADER, "reported_at"], *rows])
    outcome = LegacyCaseImport(acting_user=importer_user).run(
        *read_table(data, file_name="legacy.xlsx")
    )
    assert outcome.ok, outcome.problems
    stored = {
        case.applicant_name: (
            case.loss_date,
            case.reported_at,
            case.ss_card_suspended_at,
            case.old_card_cancel_on
            and case.old_card_cancel_on - timezone.localdate(case.reported_at),
        )
        for case in ReissueCase.objects.all()
    }
    after = datetime.timedelta(days=ReissueCase().rules.old_card_cancelled_after_days)

    def expected(lost, reported, lost_items):
        at = timezone.make_aware(datetime.datetime.combine(reported, datetime.time()))
        ss_card = lost_items == "both"
        return (lost, at, at if ss_card else None, after if ss_card else None)

    assert stored == {p.name: expected(*given) for p, given in zip(people, rows_given, strict=True)}
    assert {
        case.applicant_name: case.applicant.birth_date for case in ReissueCase.objects.all()
    } == {p.name: birth_date_from_id_number(p.id_number) for p in people}


def test_two_moments_a_clock_change_apart_are_written_an_hour_apart(db):
    # They compare equal but for their fold; the writer prepares each distinct moment once.
    import zoneinfo

    from django.db import connection

    from reissue.legacy_import.writer import _values

    first = datetime.datetime(2024, 11, 3, 1, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    assert first == second and second.timestamp() - first.timestamp() == 3600
    values = _values(ReissueCase, connection)
    column = [f.attname for f in ReissueCase._meta.concrete_fields[1:]].index("reported_at")
    written = [values(ReissueCase(reported_at=moment))[column] for moment in (first, second)]

    def instant(value) -> float:
        # PostgreSQL takes the moment as it is, SQLite as text in UTC.
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
        return value.timestamp()

    assert instant(written[1]) - instant(written[0]) == 3600


def test_the_importer_holds_one_batch_of_rows_at_a_time(monkeypatch, importer_user):
    # Constant memory, structurally: in each pass the file's rows are read one batch ahead
    # of the check or the write at most, and what is kept across batches is the ID numbers'
    # hashes, not the rows.
    from reissue.legacy_import import importer as import_run

    from .test_background_import import row

    monkeypatch.setattr(import_run, "BATCH_SIZE", 3)
    read, writes = [0], []

    def file_rows():
        for n in range(10):
            read[0] += 1
            yield row(n).split(",")

    write = import_run.BulkWriter.write

    def recording_write(self, checked):
        writes.append((read[0], len(checked)))
        return write(self, checked)

    monkeypatch.setattr(import_run.BulkWriter, "write", recording_write)
    checked_batches = []
    check_batch = import_run.RowChecker.check_batch

    def recording_check(self, batch, **kwargs):
        checked_batches.append(len(batch))
        result = check_batch(self, batch, **kwargs)
        assert set(vars(self)) == {
            "acting_user", "for_writing", "offices", "allowed_office_ids", "now", "today",
            "choices", "seen_numbers",
        }  # fmt: skip
        return result

    monkeypatch.setattr(import_run.RowChecker, "check_batch", recording_check)
    outcome = LegacyCaseImport(acting_user=importer_user).run(
        UTF8_HEADER, file_rows(), keep_references=False, rows_again=file_rows
    )
    assert outcome.created == 10 and outcome.references == []
    assert checked_batches == [3, 3, 3, 1] * 2  # checked, then checked again and written
    # Each batch is written when it has been read, before the next row is read.
    assert writes == [(13, 3), (16, 3), (19, 3), (20, 1)]


# The write pass checks again only what the database may have changed of a batch whose cells
# it reads as the check read them; a batch read otherwise is checked again in full.


def test_a_batch_read_with_other_types_or_other_cells_has_another_digest():
    from reissue.legacy_import.importer import batch_digest

    day = datetime.date(2024, 1, 1)
    batches = [
        [["1"]], [[1]], [[1.0]], [[True]], [[None]], [[""]], [["1", ""]], [["1"], [""]],
        [["ab"]], [["a", "b"]], [[day]], [[datetime.datetime(2024, 1, 1)]], [["2024-01-01"]],
    ]  # fmt: skip
    assert len({batch_digest(batch) for batch in batches}) == len(batches)
    # A sheet's rows come as tuples, a CSV's as lists: the same cells, the same digest.
    assert batch_digest([("张伟", 1, day)]) == batch_digest([["张伟", 1, day]])


BORN_2020 = compose_id_number("110101", datetime.date(2020, 1, 1), 5)


@pytest.mark.parametrize(
    ("changed", "column", "message"),
    [
        ({"loss_date": "2999-01-01"}, "loss_date", "The date of loss cannot be in the future."),
        ({"loss_date": "1983-12-31"}, "loss_date", "The date of loss cannot be before 1984"),
        (
            {"id_number": BORN_2020, "loss_date": "2019-06-01"},
            "loss_date",
            "The date of loss cannot be before the applicant's birth date (2020-01-01).",
        ),
        ({"id_number": "110101198001051231"}, "id_number", "The check character"),
        ({"name": "张\u202e伟"}, "name", "Remove the hidden control character U+202E"),
        ({"lost_items": "wallet"}, "lost_items", "“wallet” is not one of"),
    ],
)
def test_a_row_the_write_reads_otherwise_is_checked_again_in_full_and_refuses_the_file(
    monkeypatch, importer_user, changed, column, message
):
    from reissue.legacy_import import importer as import_run

    from .test_background_import import row

    monkeypatch.setattr(import_run, "BATCH_SIZE", 3)
    rows = [row(n).split(",") for n in range(7)]
    again = [list(cells) for cells in rows]
    for name, value in changed.items():
        again[4][UTF8_HEADER.index(name)] = value  # the second batch's second row
    outcome = LegacyCaseImport(acting_user=importer_user).run(
        UTF8_HEADER, rows, rows_again=lambda: again
    )
    assert not outcome.ok and outcome.created == 0
    assert list(errors_of(outcome)) == [6]  # the header is row 1
    assert any(message in text for text in errors_of(outcome)[6][column])
    assert not ReissueCase.objects.exists() and not Applicant.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_bad_row_the_write_reads_past_the_checked_rows_refuses_the_file(importer_user):
    from .test_background_import import row

    rows = [row(n).split(",") for n in range(2)]
    extra = row(2, loss_date="2019-06-01").split(",")
    extra[UTF8_HEADER.index("id_number")] = BORN_2020
    outcome = LegacyCaseImport(acting_user=importer_user).run(
        UTF8_HEADER, rows, rows_again=lambda: [*rows, extra]
    )
    assert not outcome.ok and outcome.created == 0
    assert errors_of(outcome) == {
        4: {
            "loss_date": [
                "The date of loss cannot be before the applicant's birth date (2020-01-01)."
            ]
        }
    }
    assert not ReissueCase.objects.exists()


def test_a_person_registered_under_another_name_between_the_passes_is_refused(
    monkeypatch, importer_user, clerk, office
):
    # What the database knows is checked again, the typed name against the registered one.
    def register_and_close():
        reissued = reissued_case(
            clerk=clerk,
            office=office,
            applicant=ApplicantFactory.build(name="李四", id_number=ZHANG_WEI),
        )
        services.case_close(case=reissued, acting_user=clerk)

    outcome = import_with_between_the_passes(
        monkeypatch, "utf8.csv", importer_user, register_and_close
    )
    assert not outcome.ok and outcome.created == 0
    assert errors_of(outcome) == {
        2: {"name": ["This ID number is registered under another name. Check the card."]}
    }
    assert ReissueCase.objects.count() == 1  # the clerk's
    assert verify_chain(AuditEntry) is None


def test_the_cells_of_a_file_read_alike_twice_are_checked_once(monkeypatch, importer_user):
    # The speed of the write pass: a row's own rules (here the ID number's) run in the check
    # pass only; the write pass checks the number against what the database knows.
    from common import id_numbers

    from .test_background_import import row

    validated = []
    validate = id_numbers.validate_id_number

    def counting(value):
        validated.append(value)
        return validate(value)

    monkeypatch.setattr(Applicant._meta.get_field("id_number"), "validators", [counting])
    rows = [row(n).split(",") for n in range(5)]
    outcome = LegacyCaseImport(acting_user=importer_user).run(UTF8_HEADER, rows)
    assert outcome.created == 5
    assert len(validated) == 5
