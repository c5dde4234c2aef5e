"""The citizen's acknowledgement slip: what it says, how it prints, who may open it."""

import datetime
import re

import pytest
import segno
from django.urls import reverse
from django.utils import timezone

from reissue import services
from reissue.models import LostItems
from reissue.slip import reference_qr_svg
from tests.factories import register_case, reissued_case

TODAY = timezone.localdate


def slip_url(case):
    return reverse("admin:reissue_reissuecase_slip", args=[case.pk])


def slip_of(client, user, case) -> str:
    client.force_login(user)
    response = client.get(slip_url(case))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


def test_case_page_links_to_its_slip(client, clerk, case):
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk])).content
    assert f'id="print-slip" href="{slip_url(case)}"'.encode() in page


@pytest.mark.parametrize("role", ["clerk", "supervisor", "auditor"])
def test_slip_shows_the_id_number_masked_whatever_the_users_rights(client, case, role, request):
    page = slip_of(client, request.getfixturevalue(role), case)
    number = case.applicant.id_number
    assert f'id="slip-id-number">{number[:6]}***********{number[-1]}<' in page
    assert number not in page


def test_slip_names_office_reference_loss_and_documents_received(client, clerk, office):
    case = register_case(
        clerk=clerk,
        office=office,
        presented_hukou_book=True,
        presented_photo=True,
        agent_acts=True,
        agent_name="李四",
        agent_id_number="11010519491231002X",
    )
    page = slip_of(client, clerk, case)
    assert "Dongcheng (DC)" in page and f'id="slip-reference">{case.reference}<' in page
    assert "ID card and SS card" in page
    for document in ("Household registration (hukou) book", "One-inch colour photo", "李四"):
        assert document in page
    assert "11010519491231002X" not in page  # the agent's number is never printed


def test_reported_slip_sends_the_citizen_to_the_police_then_back_for_the_ss_card(
    client, clerk, case
):
    page = slip_of(client, clerk, case)
    assert (
        f"police station of your household registration ({case.applicant.hukou_police_station})"
        in page
    )
    assert "Come back to this office with the new ID card" in page
    assert "ask at this office for a temporary card" in page
    assert "Keep the receipts of medical expenses" in page


def test_slip_shows_the_temporary_card_number_once_issued(client, clerk, case):
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0042", issued_on=TODAY()
    )
    page = slip_of(client, clerk, case)
    assert 'id="slip-temp-card">TMP-0042' in page
    assert "ask at this office for a temporary card" not in page


def test_slip_asks_for_a_photo_for_an_ic_card_conversion_and_both_ids_for_an_agent(
    client, clerk, office
):
    case = register_case(
        clerk=clerk,
        office=office,
        lost_items=LostItems.SS_CARD,
        converts_ic_card=True,
        agent_acts=True,
        agent_name="李四",
        agent_id_number="11010519491231002X",
    )
    page = slip_of(client, clerk, case)
    assert "Bring a one-inch colour photo" in page
    assert "the agent&#x27;s own ID card" in page
    assert "police station" not in page  # only the SS card was lost


def test_slip_after_the_new_id_card_asks_only_for_the_ss_card(client, clerk, case):
    case = services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
    page = slip_of(client, clerk, case)
    assert "police station of your household registration" not in page
    assert "Have the SS card reissued at this office" in page


def test_slip_once_the_ss_card_is_reissued_asks_for_receipts(client, clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    page = slip_of(client, clerk, case)
    assert f'id="slip-ss-card">{case.ss_card_number}' in page
    assert "for the one-time reimbursement" in page


def test_slip_of_a_cancelled_case_asks_for_nothing(client, clerk, supervisor, case):
    services.case_cancel(case=case, acting_user=supervisor, reason="Card found again")
    page = slip_of(client, clerk, case)
    assert "the case was cancelled (Card found again)" in page
    assert "police station" not in page


def test_slip_carries_a_qr_code_of_the_reference_without_inline_style(client, clerk, case):
    page = slip_of(client, clerk, case)
    qr = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox') :]
    qr = qr[: qr.index("</svg>")]
    assert 'class="slip-qr"' in qr and f"<title>{case.reference}</title>" in qr
    assert "style=" not in page and "<script>" not in page


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """Return the (row, column) of every dark module a segno SVG path draws."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command in "Mm":
            x, y = (values[0], values[1]) if command == "M" else (x + values[0], y + values[1])
        else:
            dark |= {(int(y), int(x) + i) for i in range(int(values[0]))}
            x += values[0]
    return dark


def test_slip_qr_code_draws_exactly_the_code_of_the_reference():
    svg = reference_qr_svg("DC-2026-00001")
    code = segno.make("DC-2026-00001", error="m", micro=False)
    expected = {
        (row + 4, column + 4)  # the quiet zone of 4 modules
        for row, line in enumerate(code.matrix)
        for column, module in enumerate(line)
        if module
    }
    assert dark_modules(svg) == expected
    assert dark_modules(reference_qr_svg("DC-2026-00002")) != expected


def test_slip_links_the_a5_print_stylesheet_and_script_only(client, clerk, case):
    page = slip_of(client, clerk, case)
    assert 'href="/static/reissue/print.css"' in page
    assert '<script src="/static/reissue/print.js" defer></script>' in page
    from django.contrib.staticfiles import finders

    with open(finders.find("reissue/print.css"), encoding="utf-8") as stylesheet:
        css = stylesheet.read()
    assert "@page {\n  size: A5" in css and "@media print" in css


def test_slip_is_not_cached(client, clerk, case):
    client.force_login(clerk)
    assert "no-store" in client.get(slip_url(case))["Cache-Control"]


def test_another_offices_slip_is_not_found(client, other_clerk, case):
    client.force_login(other_clerk)
    assert client.get(slip_url(case)).status_code == 404


def test_a_user_without_view_permission_cannot_open_a_slip(client, office, case):
    from tests.factories import UserFactory

    nobody = UserFactory(username="no-role", offices=[office])
    client.force_login(nobody)
    assert client.get(slip_url(case)).status_code in (403, 404)


def test_a_case_registered_yesterday_shows_its_report_date(client, clerk, office):
    case = register_case(clerk=clerk, office=office, loss_date=TODAY() - datetime.timedelta(days=1))
    page = slip_of(client, clerk, case)
    assert (TODAY() - datetime.timedelta(days=1)).isoformat() in page


@pytest.mark.parametrize(
    ("claim_state", "says"),
    [
        ("draft", "Bring any receipts still missing"),
        ("submitted", "your expense claim is being examined"),
        ("approved", "the approved amount will be paid to you"),
        ("rejected", "the case will be closed"),
    ],
)
def test_slip_after_the_ss_card_follows_the_claim(
    client, clerk, reviewer, office, claim_state, says
):
    from claims import services as claim_services
    from tests.factories import PolicyFactory, claim_with_items

    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, submit=claim_state != "draft")
    if claim_state == "approved":
        claim_services.claim_approve(claim=claim, acting_user=reviewer)
    if claim_state == "rejected":
        claim_services.claim_reject(claim=claim, acting_user=reviewer, reason="copies only")
    page = slip_of(client, clerk, case)
    assert says in page
    assert "for the one-time reimbursement" not in page


def test_slip_prints_the_offices_phone_and_hours_beside_the_reference(client, clerk, office, case):
    office.phone, office.opening_hours = "010-6512 3456", "Mon–Fri 8:30–17:00"
    office.save()
    page = slip_of(client, clerk, case)
    assert f"call 010-6512 3456 and give the case reference {case.reference}" in page
    assert "Opening hours: Mon–Fri 8:30–17:00<" in page


def test_slip_of_an_office_without_a_phone_says_to_ask_at_the_office(client, clerk, case):
    assert "Questions: ask at the office" in slip_of(client, clerk, case)
