"""The card batches' screens and the collection receipt, through the test client."""

import hashlib
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from reissue import card_batches, services
from reissue.models import CardBatch, LostItems, ReissueCase
from tests.factories import register_case
from tests.reissue.test_admin import change_url
from tests.reissue.test_card_batches import ordered_case, return_file

TODAY = timezone.localdate
CHANGELIST = reverse("admin:reissue_cardbatch_changelist")


def batch_url(batch, what=None):
    if what is None:
        return reverse("admin:reissue_cardbatch_change", args=[batch.pk])
    return reverse(f"admin:reissue_cardbatch_{what}", args=[batch.pk])


@pytest.fixture
def cases(clerk, office):
    return [ordered_case(clerk, office) for _ in range(2)]


@pytest.fixture
def batch(cases):
    return cases[0].card_batch


def upload(client, batch, content: bytes):
    file = io.BytesIO(content)
    file.name = "return.csv"
    return client.post(batch_url(batch, "return_file"), {"return_file": file})


def test_the_list_shows_the_counts_and_the_short_checksum(client, supervisor, batch):
    content, sha256 = card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    client.force_login(supervisor)
    page = client.get(CHANGELIST).content.decode()
    assert batch.reference in page
    assert sha256[:12] in page and sha256 not in page
    assert '<td class="field-ordered_count">2</td>' in page
    assert '<td class="field-age_days">0</td>' in page


def test_a_clerk_of_another_office_sees_no_batch(client, other_clerk, batch):
    client.force_login(other_clerk)
    assert batch.reference not in client.get(CHANGELIST).content.decode()
    assert client.get(batch_url(batch)).status_code in (302, 404)
    assert client.post(batch_url(batch, "production_file")).status_code == 404


def test_the_supervisor_downloads_the_file_and_the_page_shows_its_checksum(
    client, supervisor, batch, cases
):
    client.force_login(supervisor)
    response = client.post(batch_url(batch, "production_file"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{batch.reference}.csv"'
    sha256 = hashlib.sha256(response.content).hexdigest()
    assert response["X-Content-SHA256"] == sha256
    page = client.get(batch_url(batch)).content.decode()
    assert sha256 in page
    for case in cases:
        assert change_url(case) in page  # each case linked
        assert case.applicant.id_number not in page  # shown masked


def test_a_clerk_gets_no_download_button_and_a_forged_post_is_forbidden(client, clerk, batch):
    client.force_login(clerk)
    page = client.get(batch_url(batch)).content.decode()
    assert 'id="download-production-file"' not in page
    assert client.post(batch_url(batch, "production_file")).status_code == 403
    batch.refresh_from_db()
    assert batch.is_open


def test_a_refused_return_file_shows_every_bad_line_in_the_admin(client, clerk, supervisor, batch):
    production, _sha = card_batches.batch_production_file(batch=batch, acting_user=supervisor)

    def spoil(lines):
        lines[1][2] = "XXXXXX"
        lines[2][3] = "!"

    client.force_login(clerk)
    response = upload(client, batch, return_file(batch, production, edit=spoil))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>2</td>" in page and "<td>3</td>" in page
    assert not ReissueCase.objects.filter(state="card_produced").exists()


def test_a_refused_return_file_is_shown_in_chinese(client, clerk, supervisor, batch):
    card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    client.force_login(clerk)
    file = io.BytesIO(b"garbage")
    file.name = "x.csv"
    response = client.post(
        batch_url(batch, "return_file"), {"return_file": file}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    page = response.content.decode()
    assert response.status_code == 400 and "未导入" in page


def test_a_return_file_too_large_is_refused_before_reading(
    client, clerk, supervisor, batch, settings
):
    card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    client.force_login(clerk)
    response = upload(client, batch, b"H,RDCARD-RET,1," + b"x" * 200)
    assert response.status_code == 400
    assert 'id="return-file-error"' in response.content.decode()


def test_the_return_file_and_the_arrival_through_the_buttons(client, clerk, supervisor, batch):
    production, _sha = card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    client.force_login(clerk)
    response = upload(client, batch, return_file(batch, production))
    assert response.status_code == 302
    assert set(ReissueCase.objects.values_list("state", flat=True)) == {"card_produced"}
    page = client.get(batch_url(batch)).content.decode()
    assert 'id="record-arrival"' in page
    response = client.post(batch_url(batch, "arrived"), {"arrived_on": TODAY().isoformat()})
    assert response.status_code == 302
    assert set(ReissueCase.objects.values_list("state", flat=True)) == {"card_arrived"}
    assert CardBatch.objects.get(pk=batch.pk).arrived_on == TODAY()


def test_an_arrival_in_the_future_is_a_message_not_an_error(client, clerk, supervisor, batch):
    production, _sha = card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production), acting_user=clerk
    )
    client.force_login(clerk)
    future = TODAY() + timezone.timedelta(days=3)
    response = client.post(
        batch_url(batch, "arrived"), {"arrived_on": future.isoformat()}, follow=True
    )
    assert "The date cannot be in the future." in response.content.decode()
    assert set(ReissueCase.objects.values_list("state", flat=True)) == {"card_produced"}


# The collection receipt --------------------------------------------------------------------


def collected_case(clerk, supervisor, office, **collect):
    case = ordered_case(clerk, office)
    batch = case.card_batch
    production, _sha = card_batches.batch_production_file(batch=batch, acting_user=supervisor)
    card_batches.batch_return_file_import(
        batch=batch, file=return_file(batch, production), acting_user=clerk
    )
    card_batches.batch_record_arrived(batch=batch, arrived_on=TODAY(), acting_user=clerk)
    return services.case_collect_card(
        case=case,
        acting_user=clerk,
        collected_by=collect.get("collected_by", "applicant"),
        collector_name=collect.get("collector_name", case.applicant.name),
        collector_id_checked=True,
        collected_on=TODAY(),
    )


def receipt_url(case):
    return reverse("admin:reissue_reissuecase_receipt", args=[case.pk])


def test_the_receipt_says_who_took_which_card_and_how_to_activate_the_bank_side(
    client, clerk, supervisor, office
):
    case = collected_case(clerk, supervisor, office)
    client.force_login(clerk)
    assert receipt_url(case) in client.get(change_url(case)).content.decode()
    page = client.get(receipt_url(case)).content.decode()
    person = case.applicant
    assert case.reference in page and person.name in page
    assert case.ss_card_number in page
    assert person.id_number[:6] + "*" * 11 + person.id_number[-1:] in page
    assert person.id_number not in page
    assert "the applicant" in page and TODAY().strftime("%Y-%m-%d") in page
    assert "¥0.00" in page
    assert "none was issued" in page
    assert "Collector&#x27;s signature" in page or "Collector's signature" in page
    assert "activates it in person at a branch of the card" in page


def test_the_receipt_of_an_instant_issuance_with_a_fee_waived_and_the_temp_card_back(
    client, clerk, office
):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="LS-0001", issued_on=TODAY()
    )
    case.policy_values = {**case.policy_values, "card_fee": "20.00"}
    case.save(update_fields=["policy_values"])
    case = services.case_reissue_ss_card(
        case=case,
        acting_user=clerk,
        card_number="B12345678",
        issued_on=TODAY(),
        fee_charged=0,
        fee_waiver_reason="低保户",
        temp_card_returned=True,
    )
    client.force_login(clerk)
    page = client.get(receipt_url(case)).content.decode()
    assert "at the counter (instant issuance)" in page
    assert "¥0.00" in page and "低保户" in page
    assert "handed back (LS-0001)" in page
    assert case.applicant.id_number not in page


def test_no_receipt_before_the_card_is_handed_over(client, clerk, batch, cases):
    client.force_login(clerk)
    assert receipt_url(cases[0]) not in client.get(change_url(cases[0])).content.decode()
    assert client.get(receipt_url(cases[0])).status_code == 404


def test_no_receipt_of_another_offices_case(client, clerk, supervisor, office, other_clerk):
    case = collected_case(clerk, supervisor, office)
    client.force_login(other_clerk)
    assert client.get(receipt_url(case)).status_code == 404
