"""Two clerks on the claim screens at once, on PostgreSQL: the loser reads why, never a 500."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from claims import services
from claims.models import ClaimItem, ExpenseClaim
from tests.claims.test_admin import change_url, item_rows, receipt, step_url
from tests.factories import PolicyFactory, UserFactory, reissued_case
from tests.reissue.test_admin_concurrency import logged_in, messages_on
from tests.reissue.test_concurrency import winner_then_loser

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ADD_URL = reverse("admin:claims_expenseclaim_add")


@pytest.fixture
def case(clerk, office):
    PolicyFactory(office=office)
    return reissued_case(clerk=clerk, office=office)


def test_a_receipt_added_while_the_claim_is_submitted_tells_the_clerk(clerk, office, case):
    claim = services.claim_start(case=case, acting_user=clerk)
    services.claim_add_item(
        claim=claim, acting_user=clerk, **{**receipt("R-1"), "visit_date": case.loss_date}
    )
    adder, submitter = logged_in(clerk), logged_in(UserFactory(role="Clerk", offices=[office]))
    new_receipt = item_rows(receipt("R-2", day=case.loss_date.isoformat()))

    submitted, added = winner_then_loser(
        lambda: submitter.post(step_url(claim, "submit"), {"expected_state": "draft"}),
        lambda: adder.post(change_url(claim), new_receipt),
    )

    assert submitted.status_code == 302
    assert added.status_code == 302 and added.url == change_url(claim)  # was a 500
    page = messages_on(adder, added.url)
    assert "Receipts can be changed only while the claim is a draft." in page
    assert ExpenseClaim.objects.get(pk=claim.pk).state == "submitted"
    assert list(ClaimItem.objects.values_list("receipt_number", flat=True)) == ["R-1"]


def test_two_clerks_opening_the_claim_of_one_case_land_on_the_same_claim(clerk, supervisor, case):
    first, second = logged_in(clerk), logged_in(supervisor)

    opened, lost = winner_then_loser(
        lambda: first.post(ADD_URL, {"case": case.pk, **item_rows()}),
        lambda: second.post(ADD_URL, {"case": case.pk, **item_rows()}),
    )

    claim = ExpenseClaim.objects.get(case=case)  # one claim, was an IntegrityError or a 500
    assert opened.status_code == 302
    assert lost.status_code == 302 and lost.url == change_url(claim)
    page = messages_on(second, lost.url)
    assert f"A claim was opened for case {case.reference} a moment ago; here it is." in page
    assert claim.entered_by == clerk
    assert AuditEntry.objects.filter(action="registered", case=case).count() == 2  # case, claim


def test_the_same_receipt_in_two_claims_at_once_names_the_case_that_claimed_it(clerk, case):
    other_case = reissued_case(clerk=clerk, office=case.office)
    claims = [services.claim_start(case=c, acting_user=clerk) for c in (case, other_case)]
    one, other = logged_in(clerk), logged_in(clerk)
    same = item_rows(receipt("R-SAME", day=case.loss_date.isoformat()))

    won, lost = winner_then_loser(
        lambda: one.post(change_url(claims[0]), same),
        lambda: other.post(change_url(claims[1]), same),
    )

    assert won.status_code == 302
    assert lost.status_code == 200  # the page again, the error by the receipt (was a 500)
    assert f"This receipt was already claimed in case {case.reference}." in lost.content.decode()
    assert list(ClaimItem.objects.values_list("claim", flat=True)) == [claims[0].pk]
