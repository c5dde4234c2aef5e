"""Who may open a slip or a notice: every role in its own office, only auditors elsewhere."""

import pytest
from django.urls import reverse

from claims import services as claim_services
from tests.factories import (
    OfficeFactory,
    PolicyFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
)

ROLES = ["Clerk", "Reviewer", "Supervisor", "Auditor"]


def slip_url(office, clerk, reviewer):
    case = register_case(clerk=clerk, office=office)
    return reverse("admin:reissue_reissuecase_slip", args=[case.pk]), case.reference


def notice_url(office, clerk, reviewer):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, submit=True)
    claim = claim_services.claim_approve(claim=claim, acting_user=reviewer)
    return reverse("admin:claims_expenseclaim_notice", args=[claim.pk]), case.reference


@pytest.mark.parametrize("make", [slip_url, notice_url], ids=["slip", "notice"])
@pytest.mark.parametrize("where", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_slip_and_notice_are_scoped_to_the_users_offices(db, client, make, where, role):
    own, other = OfficeFactory(code="DC"), OfficeFactory(code="PD")
    target = own if where == "own" else other
    clerk = UserFactory(username=f"clerk-{target.code}", role="Clerk", offices=[target])
    reviewer = UserFactory(username=f"reviewer-{target.code}", role="Reviewer", offices=[target])
    url, reference = make(target, clerk, reviewer)
    client.force_login(UserFactory(username=f"acting-{role}", role=role, offices=[own]))
    response = client.get(url)
    if where == "own" or role == "Auditor":  # auditors read every office
        assert response.status_code == 200 and reference in response.content.decode()
    else:
        assert response.status_code == 404
