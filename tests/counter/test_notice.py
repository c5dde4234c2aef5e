"""The printable notice of a reimbursement decision: only once decided, amounts as decided."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from claims import services
from claims.models import ClaimItem
from tests.factories import PolicyFactory, claim_with_items, reissued_case


def notice_url(claim):
    return reverse("admin:claims_expenseclaim_notice", args=[claim.pk])


def change_url(claim):
    return reverse("admin:claims_expenseclaim_change", args=[claim.pk])


@pytest.fixture
def case(clerk, office):
    PolicyFactory(office=office)  # deductible 100, outpatient 70 %, cap 5000
    return reissued_case(clerk=clerk, office=office)


@pytest.fixture
def submitted(case, clerk):
    return claim_with_items(case=case, clerk=clerk, amounts=("300.00", "50.00"), submit=True)


def notice_of(client, user, claim) -> str:
    client.force_login(user)
    response = client.get(notice_url(claim))
    assert response.status_code == 200
    return response.content.decode()


def test_an_undecided_claim_has_no_notice(client, clerk, submitted):
    client.force_login(clerk)
    assert client.get(notice_url(submitted)).status_code == 404
    assert notice_url(submitted) not in client.get(change_url(submitted)).content.decode()


def test_approved_notice_shows_each_amount_the_policy_total_and_reviewer(
    client, clerk, reviewer, submitted
):
    reviewer.first_name = ""
    reviewer.save()
    claim = services.claim_approve(claim=submitted, acting_user=reviewer, reason="Receipts ok")
    page = notice_of(client, clerk, claim)
    # 300 first: 100 deductible, 200 x 0.7 = 140.00; then 50 x 0.7 = 35.00.
    items = claim.items.order_by("receipt_number")
    for item, expected in zip(items, ["140.00", "35.00"], strict=True):
        row = page[page.index(f'data-receipt="{item.receipt_number}"') :]
        row = row[: row.index("</tr>")]
        assert f"¥{item.amount}" in row and f'<td class="money">¥{expected}</td>' in row
    assert 'id="notice-total"><strong>¥175.00<' in page
    assert "deductible ¥100.00, cap ¥5,000.00 per case" in page
    assert "Rates: outpatient 70 %," in page
    # A citizen's document names the staff member, never the log-in name.
    assert 'id="notice-reviewer">staff member no. ' in page and ">reviewer<" not in page
    assert "Receipts ok" in page
    assert "Decision: approved" in page


def test_the_notice_keeps_the_decided_amounts_after_the_policy_changes(
    client, clerk, reviewer, submitted, office
):
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    PolicyFactory(office=office, effective_from=datetime.date(2021, 1, 1), deductible=0)
    assert 'id="notice-total"><strong>¥175.00<' in notice_of(client, clerk, claim)


def test_an_ineligible_receipt_is_listed_with_its_reason(client, clerk, reviewer, case):
    claim = claim_with_items(case=case, clerk=clerk, amounts=("300.00",))
    services.claim_add_item(
        claim=claim,
        acting_user=clerk,
        provider="朝阳医院",
        visit_date=case.ss_card_issued_on + datetime.timedelta(days=1),
        receipt_number="LATE-1",
        category="outpatient",
        amount=Decimal("80.00"),
    )
    claim = services.claim_submit(claim=claim, acting_user=clerk)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    page = notice_of(client, clerk, claim)
    row = page[page.index('data-receipt="LATE-1"') :]
    assert "no: The visit was after the new SS card was issued" in row[: row.index("</tr>")]
    assert ClaimItem.objects.get(receipt_number="LATE-1").reimbursable_amount == 0


def test_rejected_notice_gives_the_reason_and_pays_nothing(client, clerk, reviewer, submitted):
    claim = services.claim_reject(claim=submitted, acting_user=reviewer, reason="Not our patient")
    page = notice_of(client, clerk, claim)
    assert 'id="notice-reason">Not our patient<' in page
    assert 'id="notice-total"><strong>¥0.00<' in page
    assert "None: the claim was rejected." in page


def test_paid_notice_shows_the_payment_reference(client, clerk, reviewer, supervisor, submitted):
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    claim = services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-9")
    page = notice_of(client, clerk, claim)
    assert 'id="notice-payment">PAY-9<' in page
    # Paid is what happened next; the decision was to approve.
    assert "Decision: approved" in page and "Decision: paid" not in page


def test_decided_claim_page_links_to_the_notice(client, clerk, reviewer, submitted):
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    client.force_login(clerk)
    page = client.get(change_url(claim)).content.decode()
    assert f'id="print-notice" href="{notice_url(claim)}"' in page


def test_notice_shows_the_id_number_masked_even_to_a_supervisor(
    client, reviewer, supervisor, submitted
):
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    page = notice_of(client, supervisor, claim)
    number = claim.case.applicant.id_number
    assert f"{number[:6]}***********{number[-1:]}" in page and number not in page
    assert "/static/reissue/print.css" in page and "style=" not in page


def test_another_offices_notice_is_not_found(client, reviewer, other_clerk, submitted):
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    client.force_login(other_clerk)
    assert client.get(notice_url(claim)).status_code == 404


def test_chinese_punctuation_in_a_reason_and_a_pharmacy_is_printed_as_typed(
    client, clerk, reviewer, case
):
    claim = claim_with_items(case=case, clerk=clerk, amounts=())
    services.claim_add_item(
        claim=claim,
        acting_user=clerk,
        provider="同仁堂（和平里店）",
        visit_date=case.loss_date,
        receipt_number="ＲＸ-１",
        category="pharmacy",
        amount=Decimal("80.00"),
    )
    services.claim_submit(claim=claim, acting_user=clerk)
    claim = services.claim_approve(claim=claim, acting_user=reviewer, reason="票据齐全，同意报销。")
    page = notice_of(client, clerk, claim)
    assert "票据齐全，同意报销。" in page and "同仁堂（和平里店）" in page
    # A receipt number is a code: its fullwidth forms are folded.
    assert ClaimItem.objects.get(claim=claim).receipt_number == "RX-1"


def test_the_notice_names_the_reviewer_by_name_in_chinese_with_money_and_rates(
    client, clerk, reviewer, submitted
):
    reviewer.first_name, reviewer.last_name = "李芳", ""
    reviewer.save()
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    client.force_login(clerk)
    page = client.get(notice_url(claim), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="notice-reviewer">李芳<' in page
    assert "¥5,000.00" in page and "70%" in page and "0.700" not in page


def test_notice_footer_gives_the_offices_phone(client, clerk, reviewer, submitted, office):
    office.phone = "010-6512 3456"
    office.save()
    claim = services.claim_approve(claim=submitted, acting_user=reviewer)
    page = notice_of(client, clerk, claim)
    assert f"call 010-6512 3456 and give the case reference {claim.case.reference}" in page
