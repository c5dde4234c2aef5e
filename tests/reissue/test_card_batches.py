"""Card production through the card bank: the production file out, the return file in (all or
nothing), the cards' arrival, and the batch counts."""

import base64
import csv
import datetime
import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from audit.models import AccessKind, AuditEntry, PersonalDataAccess
from common.exceptions import ObjectNotFound, Refusal
from reissue import card_batches, services
from reissue.card_batches import ReturnFileRefused
from reissue.models import LostItems, ReissueCase
from tests.factories import register_case

TODAY = timezone.localdate


def ordered_case(clerk, office, **fields) -> ReissueCase:
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True, **fields
    )
    return services.case_order_card(case=case, acting_user=clerk, ordered_on=TODAY())


@pytest.fixture
def cases(clerk, office):
    return [ordered_case(clerk, office) for _ in range(3)]


@pytest.fixture
def batch(cases):
    return cases[0].card_batch


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def return_file(
    batch, production: bytes, *, numbers=None, skip=(), checksum=True, trailer=None, edit=None
) -> bytes:
    """Build the card bank's answer to a production file, as the bank's system writes it."""
    details = [row for row in rows_of(production) if row[0] == "D"]
    lines = [["H", "RDCARD-RET", "1", batch.reference]]
    if checksum:
        lines[0].append(hashlib.sha256(production).hexdigest())
    for index, row in enumerate(details):
        if index in skip:
            continue
        number = (numbers or {}).get(index, f"A{index + 1:08d}")
        lines.append(["D", row[1], row[3][-6:], number, TODAY().isoformat()])
    if edit:
        edit(lines)
    lines.append(["T", str(len(lines) - 1 if trailer is None else trailer)])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode("utf-8")


def export(batch, supervisor):
    return card_batches.batch_production_file(batch=batch, acting_user=supervisor)


# The production file -----------------------------------------------------------------------


def test_the_production_file_holds_every_ordered_case_in_full_with_header_and_trailer(
    supervisor, batch, cases
):
    content, sha256 = export(batch, supervisor)
    assert not content.startswith(b"\xef\xbb\xbf")  # UTF-8 without a BOM
    assert content.endswith(b"\r\n")
    rows = rows_of(content)
    assert rows[0][:5] == ["H", "RDCARD-PROD", "1", batch.reference, "DC"]
    assert rows[-1] == ["T", "3"]
    details = rows[1:-1]
    assert [row[1] for row in details] == sorted(case.reference for case in cases)
    first = next(case for case in cases if case.reference == details[0][1])
    person = first.applicant
    assert details[0] == [
        "D",
        first.reference,
        person.name,
        person.id_number,
        person.sex,
        person.birth_date.isoformat(),
        "N",
        "DC",
    ]
    assert sha256 == hashlib.sha256(content).hexdigest()
    batch.refresh_from_db()
    assert batch.file_sha256 == sha256 and batch.sent_at is not None


def test_an_ic_card_conversion_asks_the_bank_for_the_photo(clerk, supervisor, office):
    case = ordered_case(clerk, office, converts_ic_card=True, presented_photo=True)
    content, _sha = export(case.card_batch, supervisor)
    assert rows_of(content)[1][6] == "Y"


def test_sending_closes_the_batch_and_the_next_order_opens_a_new_one(
    clerk, supervisor, office, batch
):
    export(batch, supervisor)
    later = ordered_case(clerk, office)
    assert later.card_batch != batch and later.card_batch.is_open
    assert later.card_batch.reference.endswith("-0002")


def test_a_download_again_gives_the_same_bytes_even_after_a_name_was_corrected(
    supervisor, batch, cases
):
    first, sha256 = export(batch, supervisor)
    person = cases[0].applicant
    services.applicant_update(applicant=person, acting_user=supervisor, data={"name": "改名"})
    again, sha_again = export(batch, supervisor)
    assert (again, sha_again) == (first, sha256)
    assert "改名".encode() not in again


def test_the_file_is_kept_encrypted_never_in_plain(supervisor, batch, cases):
    export(batch, supervisor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT production_file FROM reissue_cardbatch WHERE id = %s", [batch.pk])
        (stored,) = cursor.fetchone()
    number = cases[0].applicant.id_number
    assert stored and number not in stored
    plain = base64.b64encode(b"H,RDCARD-PROD,1,").decode()[:20]  # how the file would begin
    assert plain not in stored


def test_each_download_of_full_numbers_is_in_the_access_log(supervisor, batch):
    export(batch, supervisor)
    export(batch, supervisor)
    records = PersonalDataAccess.objects.filter(kind=AccessKind.EXPORT, actor=supervisor)
    assert records.count() == 2
    assert batch.reference in records.first().reason and "3" in records.first().reason


def test_sending_is_in_the_batch_and_the_cases_audit_trails(supervisor, batch, cases):
    export(batch, supervisor)
    assert AuditEntry.objects.filter(action="batch_sent", object_id=batch.pk).count() == 1
    entry = cases[0].audit_entries.get(action="card_batch_sent")
    assert entry.comment == batch.reference and entry.action_display() != "card_batch_sent"


def test_a_clerk_may_not_export_full_numbers(clerk, batch):
    with pytest.raises(PermissionDenied):
        export(batch, clerk)
    batch.refresh_from_db()
    assert batch.is_open and not PersonalDataAccess.objects.exists()


def test_a_supervisor_of_another_office_finds_no_such_batch(other_supervisor, batch):
    with pytest.raises(ObjectNotFound):
        export(batch, other_supervisor)
    batch.refresh_from_db()
    assert batch.is_open


def test_a_batch_without_orders_is_not_sent(supervisor, office, clerk, batch, cases):
    for case in cases:
        services.case_cancel(case=case, acting_user=supervisor, reason="卡已找到")
    with pytest.raises(Refusal):
        export(batch, supervisor)
    batch.refresh_from_db()
    assert batch.is_open


# The return file ---------------------------------------------------------------------------


def test_the_return_file_round_trip_records_every_card_produced(supervisor, clerk, batch, cases):
    production, _sha = export(batch, supervisor)
    result = card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production), acting_user=clerk
    )
    assert (result.produced, result.missing) == (3, 0)
    by_reference = {row[1]: index for index, row in enumerate(rows_of(production)[1:-1])}
    for case in cases:
        case.refresh_from_db()
        assert case.state == "card_produced"
        assert case.ss_card_number == f"A{by_reference[case.reference] + 1:08d}"
        assert case.card_produced_on == TODAY()
        entry = case.audit_entries.get(action="record_card_produced")
        assert entry.actor == clerk and batch.reference in entry.comment
    batch.refresh_from_db()
    assert batch.returned_at is not None


def test_a_return_file_saved_by_a_spreadsheet_with_a_bom_is_read(supervisor, batch):
    production, _sha = export(batch, supervisor)
    content = b"\xef\xbb\xbf" + return_file(batch, production, checksum=False)
    result = card_batches.batch_return_file_import(
        batch=batch, file=io.BytesIO(content), acting_user=supervisor
    )
    assert result.produced == 3


def test_cases_the_bank_left_out_stay_ordered_and_count_as_missing(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    result = card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production, skip={1}), acting_user=supervisor
    )
    assert (result.produced, result.missing) == (2, 1)
    tracked = card_batches.batches_visible_to(user=supervisor).get(pk=batch.pk)
    assert (tracked.ordered, tracked.returned, card_batches.batch_missing(tracked)) == (3, 2, 1)


def refused(batch, content, user):
    with pytest.raises(ReturnFileRefused) as refusal:
        card_batches.batch_return_file_import(batch=batch, file=content, acting_user=user)
    return refusal.value.problems


def assert_nothing_written(batch, cases):
    batch.refresh_from_db()
    assert batch.returned_at is None
    for case in cases:
        case.refresh_from_db()
        assert case.state == "card_ordered" and case.ss_card_number == ""
    assert not AuditEntry.objects.filter(action="record_card_produced").exists()


def test_an_unknown_reference_refuses_the_whole_file(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    content = return_file(
        batch,
        production,
        edit=lambda lines: lines.append(
            ["D", "DC-2026-999999", "000000", "B00000001", TODAY().isoformat()]
        ),
    )
    problems = refused(batch, content, supervisor)
    assert problems == [(5, "No case DC-2026-999999 in this batch.")]
    assert_nothing_written(batch, cases)


def test_a_wrong_id_tail_refuses_the_file_without_showing_the_number_on_file(
    supervisor, batch, cases
):
    production, _sha = export(batch, supervisor)

    def wrong_tail(lines):
        lines[2][2] = "12345Y"

    problems = refused(batch, return_file(batch, production, edit=wrong_tail), supervisor)
    assert [line for line, _reason in problems] == [3]
    tail = next(c for c in cases if c.reference == rows_of(production)[2][1]).applicant.id_number
    assert tail[-6:] not in problems[0][1]
    assert_nothing_written(batch, cases)


def test_a_card_number_twice_in_the_file_refuses_it(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    content = return_file(batch, production, numbers={0: "A00000009", 2: "A00000009"})
    problems = refused(batch, content, supervisor)
    assert problems == [(4, "Card number A00000009 is already on line 2.")]
    assert_nothing_written(batch, cases)


def test_a_card_number_another_case_holds_refuses_the_file(clerk, supervisor, office, batch, cases):
    other = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    services.case_reissue_ss_card(
        case=other, acting_user=clerk, card_number="A00000002", issued_on=TODAY()
    )
    production, _sha = export(batch, supervisor)
    problems = refused(batch, return_file(batch, production), supervisor)
    assert problems == [(3, "Card number A00000002 is already another case's.")]
    assert_nothing_written(batch, cases)


def test_a_wrong_trailer_count_refuses_the_file(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    problems = refused(batch, return_file(batch, production, trailer=4), supervisor)
    assert problems == [(5, "The trailer counts 4 card lines; the file has 3.")]
    assert_nothing_written(batch, cases)


def test_a_case_no_longer_waiting_for_its_card_refuses_the_file(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    services.case_cancel(case=cases[1], acting_user=supervisor, reason="本人要求撤销")
    problems = refused(batch, return_file(batch, production), supervisor)
    line = 1 + [row[1] for row in rows_of(production)].index(cases[1].reference)
    assert [number for number, _reason in problems] == [line]
    assert "not waiting for its card" in problems[0][1]
    assert_nothing_written(batch, [c for c in cases if c != cases[1]])


def test_every_bad_line_is_listed_at_once(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)

    def spoil(lines):
        lines[1][3] = "卡号?"
        lines[2][4] = "2026/01/01"
        lines[3][1] = lines[1][1]
        lines[0][3] = "PD-P2026-0001"

    problems = refused(batch, return_file(batch, production, edit=spoil), supervisor)
    assert [line for line, _reason in problems] == [1, 2, 3, 4]
    assert_nothing_written(batch, cases)


def test_a_checksum_of_another_file_refuses_it(supervisor, batch, cases):
    production, _sha = export(batch, supervisor)

    def other_checksum(lines):
        lines[0][4] = "0" * 64

    problems = refused(batch, return_file(batch, production, edit=other_checksum), supervisor)
    assert problems == [(1, "The checksum does not match this batch's production file.")]


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00H", b"D,DC-2026-000001,000000,A1,2026-01-01\r\n"],
    ids=["empty", "not-utf8", "no-header-no-trailer"],
)
def test_a_file_that_is_no_return_file_is_refused(supervisor, batch, cases, content):
    export(batch, supervisor)
    assert refused(batch, content, supervisor)
    assert_nothing_written(batch, cases)


def test_a_batch_not_sent_takes_no_return_file(supervisor, batch):
    with pytest.raises(Refusal):
        card_batches.batch_return_file_import(
            batch=batch, file=b"H,RDCARD-RET,1\r\nT,0\r\n", acting_user=supervisor
        )


def test_a_clerk_of_another_office_cannot_import_for_the_batch(
    supervisor, other_clerk, batch, cases
):
    production, _sha = export(batch, supervisor)
    with pytest.raises(ObjectNotFound):
        card_batches.batch_return_file_import(
            batch=batch, file=return_file(batch, production), acting_user=other_clerk
        )
    assert_nothing_written(batch, cases)


def test_a_reviewer_cannot_import_a_return_file(supervisor, reviewer, batch, cases):
    production, _sha = export(batch, supervisor)
    with pytest.raises(PermissionDenied):
        card_batches.batch_return_file_import(
            batch=batch, file=return_file(batch, production), acting_user=reviewer
        )
    assert_nothing_written(batch, cases)


# Arrival and the counts --------------------------------------------------------------------


def test_arrival_moves_the_produced_cases_only(clerk, supervisor, batch, cases):
    production, _sha = export(batch, supervisor)
    card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production, skip={0}), acting_user=clerk
    )
    moved = card_batches.batch_record_arrived(batch=batch, arrived_on=TODAY(), acting_user=clerk)
    assert moved == 2
    states = sorted(ReissueCase.objects.filter(card_batch=batch).values_list("state", flat=True))
    assert states == ["card_arrived", "card_arrived", "card_ordered"]
    batch.refresh_from_db()
    assert batch.arrived_on == TODAY()


def test_arrival_before_any_card_is_produced_is_refused(clerk, supervisor, batch, cases):
    export(batch, supervisor)
    with pytest.raises(Refusal):
        card_batches.batch_record_arrived(batch=batch, arrived_on=TODAY(), acting_user=clerk)


def test_a_clerk_of_another_office_cannot_record_the_arrival(other_clerk, batch):
    with pytest.raises(ObjectNotFound):
        card_batches.batch_record_arrived(batch=batch, arrived_on=TODAY(), acting_user=other_clerk)


def test_the_batch_counts_follow_the_cards(clerk, supervisor, batch, cases):
    tracked = card_batches.batches_visible_to(user=clerk).get(pk=batch.pk)
    assert (tracked.ordered, tracked.returned, tracked.arrived, tracked.collected) == (3, 0, 0, 0)
    assert card_batches.batch_age_days(tracked) is None
    assert card_batches.batch_missing(tracked) is None
    production, _sha = export(batch, supervisor)
    card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production, skip={2}), acting_user=clerk
    )
    card_batches.batch_record_arrived(batch=batch, arrived_on=TODAY(), acting_user=clerk)
    arrived = ReissueCase.objects.filter(card_batch=batch, state="card_arrived").first()
    services.case_collect_card(
        case=arrived,
        acting_user=clerk,
        collected_by="applicant",
        collector_name=arrived.applicant.name,
        collector_id_checked=True,
        collected_on=TODAY(),
    )
    tracked = card_batches.batches_visible_to(user=clerk).get(pk=batch.pk)
    assert (tracked.ordered, tracked.returned, tracked.arrived, tracked.collected) == (3, 2, 2, 1)
    assert card_batches.batch_missing(tracked) == 1
    later = TODAY() + datetime.timedelta(days=9)
    assert card_batches.batch_age_days(tracked, later) == 9


def test_the_batch_list_shows_only_the_users_offices(clerk, other_clerk, batch):
    assert list(card_batches.batches_visible_to(user=clerk)) == [batch]
    assert not card_batches.batches_visible_to(user=other_clerk).exists()
