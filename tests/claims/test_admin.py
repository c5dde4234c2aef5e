"""The claim screens: entering receipts, the reviewer's queue and page, decisions by button."""

import re
from urllib.parse import urlencode

import pytest
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse

from claims import services
from claims.models import ClaimItem, ExpenseClaim
from tests.factories import PolicyFactory, UserFactory, claim_with_items, reissued_case
from tests.steps import offers_step

CHANGELIST = reverse("admin:claims_expenseclaim_changelist")


def change_url(claim):
    return reverse("admin:claims_expenseclaim_change", args=[claim.pk])


def step_url(claim, name):
    return reverse("admin:claims_expenseclaim_step", args=[claim.pk, name])


def item_rows(*rows, initial=0):
    """Return the POST data of the receipts inline: existing rows first, then new ones."""
    data = {
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"items-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def case(clerk, office):
    PolicyFactory(office=office)
    return reissued_case(clerk=clerk, office=office)


def receipt(number, amount="120.00", day=None, provider="朝阳医院"):
    return {
        "provider": provider,
        "visit_date": day,
        "receipt_number": number,
        "category": "outpatient",
        "amount": amount,
    }


def test_clerk_opens_a_claim_and_enters_receipts(client, clerk, case):
    client.force_login(clerk)
    response = client.post(
        reverse("admin:claims_expenseclaim_add"),
        {"case": case.pk, **item_rows(receipt("R-1", day=case.loss_date.isoformat()))},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    claim = ExpenseClaim.objects.get(case=case)
    assert claim.entered_by == clerk and claim.items.get().receipt_number == "R-1"
    assert response["Location"] == change_url(claim)  # on with the claim, not to the list


def test_a_duplicate_receipt_is_refused_on_the_form_naming_the_earlier_case(client, clerk, case):
    earlier = claim_with_items(case=case, clerk=clerk).items.get()
    other = reissued_case(clerk=clerk, office=case.office)
    claim = services.claim_start(case=other, acting_user=clerk)
    client.force_login(clerk)
    response = client.post(
        change_url(claim),
        item_rows(
            receipt(
                earlier.receipt_number, day=other.loss_date.isoformat(), provider=earlier.provider
            )
        ),
    )
    assert response.status_code == 200
    assert f"already claimed in case {case.reference}" in response.content.decode()
    assert not claim.items.exists()


@pytest.mark.parametrize("amount", ["0", "-3", "1e12", "abc", "12.345"])
def test_a_bad_amount_is_a_form_error(client, clerk, case, amount):
    claim = services.claim_start(case=case, acting_user=clerk)
    client.force_login(clerk)
    response = client.post(
        change_url(claim), item_rows(receipt("R-9", amount, day=case.loss_date.isoformat()))
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not ClaimItem.objects.exists()


def test_review_page_shows_eligibility_amounts_policy_and_total(client, clerk, reviewer, case):
    claim = claim_with_items(case=case, clerk=clerk, amounts=["300.00"], submit=True)
    client.force_login(reviewer)
    page = client.get(change_url(claim)).content.decode()
    review = page[page.index('id="claim-review"') :]
    assert "deductible ¥100.00" in review and "cap ¥5,000.00" in review
    assert "outpatient 70 %" in review and "0.700" not in review
    assert "¥140.00" in review  # (300 - 100) x 0.7
    assert offers_step(page, step_url(claim, "approve"))


def test_reviewers_queue_lists_only_claims_waiting_for_them(
    client, clerk, reviewer, case, other_clerk, other_office
):
    waiting = claim_with_items(case=case, clerk=clerk, submit=True)
    PolicyFactory(office=other_office)
    elsewhere = claim_with_items(
        case=reissued_case(clerk=other_clerk, office=other_office), clerk=other_clerk, submit=True
    )
    own_case = reissued_case(clerk=clerk, office=case.office)
    reviewer.groups.add(*clerk.groups.all())  # a reviewer who also entered one claim
    own = claim_with_items(case=own_case, clerk=reviewer, submit=True)
    client.force_login(reviewer)
    page = client.get(CHANGELIST, {"queue": "waiting_for_me"}).content.decode()
    assert waiting.case.reference in page
    assert elsewhere.case.reference not in page and own.case.reference not in page


def test_reviewer_approves_with_the_button(client, clerk, reviewer, case):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    client.force_login(reviewer)
    response = client.post(step_url(claim, "approve"), {"expected_state": "submitted"})
    assert response.status_code == 302
    assert ExpenseClaim.objects.get(pk=claim.pk).state == "approved"


def test_a_clerk_cannot_approve_even_by_a_forged_post(client, clerk, case):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    client.force_login(UserFactory(role="Clerk", offices=[case.office]))
    assert client.post(step_url(claim, "approve"), {}).status_code == 403
    assert ExpenseClaim.objects.get(pk=claim.pk).state == "submitted"


def test_another_offices_claim_is_not_found(client, clerk, case, other_supervisor):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    client.force_login(other_supervisor)
    assert client.get(change_url(claim)).status_code == 302  # admin: "does not exist"
    assert client.post(step_url(claim, "submit"), {}).status_code == 404


def test_supervisor_pays_and_the_case_is_reimbursed(client, clerk, reviewer, supervisor, case):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    services.claim_approve(claim=claim, acting_user=reviewer)
    client.force_login(supervisor)
    response = client.post(step_url(claim, "pay"), {"payment_reference": "PAY-77"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "reimbursed"
    again = client.post(step_url(claim, "pay"), {"payment_reference": "PAY-78"}, follow=True)
    # A paid claim offers no "pay" step any more: the second payer reads who paid it.
    assert "This step was already taken by supervisor at" in again.content.decode()
    assert ExpenseClaim.objects.get(pk=claim.pk).payment_reference == "PAY-77"


def test_a_paid_claims_receipts_cannot_be_changed(client, clerk, reviewer, supervisor, case):
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    claim = services.claim_approve(claim=claim, acting_user=reviewer)
    services.claim_pay(claim=claim, acting_user=supervisor, payment_reference="PAY-79")
    item = claim.items.get()
    client.force_login(supervisor)
    client.post(
        change_url(claim),
        item_rows(
            {"id": item.pk, "claim": claim.pk, **receipt("R-X", "1.00", case.loss_date)}, initial=1
        ),
    )
    item.refresh_from_db()
    assert item.amount != 1 and item.receipt_number != "R-X"


def test_a_claim_page_reads_the_users_offices_once(client, clerk, case):
    """Each inline, receipt and step link asks whether the user works in the case's office;
    the answer is read once per request (besides the list scoping of the page's own query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    claim = services.claim_start(case=case, acting_user=clerk)
    client.force_login(clerk)
    day = case.loss_date.isoformat()
    rows = [receipt(f"Q-{n}", day=day) for n in range(3)]
    rows.append(receipt("Q-bad", amount="-1", day=day))  # keeps the page from saving
    with CaptureQueriesContext(connection) as captured:
        response = client.post(change_url(claim), {"case": case.pk, **item_rows(*rows)})
    assert response.status_code == 200  # shown again with the error
    office_reads = [q for q in captured.captured_queries if 'FROM "offices_office"' in q["sql"]]
    assert len(office_reads) <= 3  # 18 when every check asked the database


def test_a_searched_and_filtered_claims_list_links_each_row_back_to_both(client, clerk, office):
    # The links Django's own add_preserved_filters makes a row at a time, made once a page.
    claims = [
        claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)
        for _ in range(3)
    ]
    client.force_login(clerk)
    query = {"q": claims[0].case.applicant_name, "state__exact": claims[0].state}
    page = client.get(reverse("admin:claims_expenseclaim_changelist"), query).content.decode()
    links = re.findall(r'<th class="field-case_reference"><a href="([^"]+)"', page)
    context = {
        "preserved_filters": urlencode({"_changelist_filters": urlencode(query)}),
        "opts": ExpenseClaim._meta,
    }
    assert sorted(links) == sorted(
        add_preserved_filters(
            context, reverse("admin:claims_expenseclaim_change", args=[claim.pk])
        ).replace("&", "&amp;")
        for claim in claims
        if claim.case.applicant_name == claims[0].case.applicant_name
    )
