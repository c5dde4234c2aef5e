"""The work queue on the admin home: counts for the user's own work, each linking to its list."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reissue import services, work_queue
from reissue.deadlines import service_due_on
from reissue.models import LostItems, ReissueCase
from tests.factories import (
    PolicyFactory,
    UserFactory,
    claim_with_items,
    register_case,
    reissued_case,
)

TODAY = timezone.localdate
INDEX = reverse("admin:index")


def queue_of(client, user) -> dict[str, tuple[int, str]]:
    """Return key -> (count, link) of the work queue on the admin home."""
    client.force_login(user)
    page = client.get(INDEX).content.decode()
    items = re.findall(r'data-queue="(\w+)" data-count="(\d+)">\s*<a href="([^"]+)"', page)
    return {key: (int(count), link.replace("&amp;", "&")) for key, count, link in items}


def listed(client, link: str, cases) -> set[str]:
    """Return which of `cases` the list at `link` shows."""
    page = client.get(link).content.decode()
    return {case.reference for case in cases if f">{case.reference}</a>" in page}


@pytest.fixture
def cases(clerk, supervisor, office, other_clerk, other_office):
    """One case in each situation; names say whose and where it stands."""
    mine_reported = register_case(clerk=clerk, office=office)
    colleagues_reported = register_case(clerk=supervisor, office=office)
    mine_temp_card = services.case_issue_temp_card(
        case=register_case(clerk=clerk, office=office),
        acting_user=clerk,
        card_number="T-1",
        issued_on=TODAY(),
    )  # the ID card was lost: waits for the citizen at the police station
    mine_ss_only = services.case_issue_temp_card(
        case=register_case(
            clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
        ),
        acting_user=clerk,
        card_number="T-2",
        issued_on=TODAY(),
    )  # only the SS card was lost: its reissue is the office's
    PolicyFactory(office=office)
    with_open_claim = reissued_case(clerk=clerk, office=office)
    claim_with_items(case=with_open_claim, clerk=clerk, submit=True)
    to_close = reissued_case(clerk=clerk, office=office)
    other_office_case = register_case(clerk=other_clerk, office=other_office)
    overdue = register_case(clerk=supervisor, office=office)
    long_ago = timezone.now() - datetime.timedelta(days=60)
    ReissueCase.objects.filter(pk=overdue.pk).update(
        reported_at=long_ago,  # and its deadline, counted from then, is past
        service_due_on=service_due_on(timezone.localdate(long_ago), overdue.rules),
    )
    return {name: case for name, case in locals().items() if isinstance(case, ReissueCase)}


def test_clerk_sees_my_open_cases_waiting_for_me_and_overdue(client, clerk, cases):
    queue = queue_of(client, clerk)
    clocks = {"temp_card_expiring", "temp_card_expired", "cover_gap", "lapsing", "collection"}
    assert set(queue) == {"mine", "waiting", "overdue", *clocks}  # clocks: test_clock_queue.py
    expected = {
        "mine": {"mine_reported", "mine_temp_card", "mine_ss_only", "with_open_claim", "to_close"},
        "waiting": {"mine_reported", "colleagues_reported", "mine_ss_only", "to_close", "overdue"},
        "overdue": {"overdue"},
    }
    for key, names in expected.items():
        count, link = queue[key]
        assert count == len(names), key
        shown = listed(client, link, cases.values())
        assert shown == {cases[name].reference for name in names}, key


def test_a_step_taken_leaves_the_queue(client, clerk, cases):
    before = queue_of(client, clerk)["waiting"][0]
    services.case_issue_temp_card(
        case=cases["mine_reported"], acting_user=clerk, card_number="T-9", issued_on=TODAY()
    )
    assert queue_of(client, clerk)["waiting"][0] == before - 1


def test_reviewer_sees_the_claims_waiting_for_examination(client, reviewer, clerk, cases):
    queue = queue_of(client, reviewer)
    assert set(queue) == {"review"}
    count, link = queue["review"]
    assert count == 1
    page = client.get(link).content.decode()
    assert cases["with_open_claim"].reference in page
    assert cases["to_close"].reference not in page


def test_reviewer_does_not_count_a_claim_they_entered(client, office, cases):
    examiner = UserFactory(username="examiner", role="Reviewer", offices=[office])
    examiner.groups.add(*UserFactory(username="c2", role="Clerk").groups.all())
    claim_with_items(case=cases["to_close"], clerk=examiner, submit=True)
    assert queue_of(client, examiner)["review"][0] == 1  # only the clerk's claim


def test_supervisor_also_sees_approved_claims_to_pay(client, supervisor, reviewer, cases):
    from claims import services as claim_services

    claim = cases["with_open_claim"].expense_claim
    claim_services.claim_approve(claim=claim, acting_user=reviewer)
    count, link = queue_of(client, supervisor)["pay"]
    assert count == 1
    assert cases["with_open_claim"].reference in client.get(link).content.decode()


def test_other_offices_cases_are_not_counted(client, other_clerk, cases):
    queue = queue_of(client, other_clerk)
    assert queue["mine"][0] == 1 and queue["waiting"][0] == 1 and queue["overdue"][0] == 0


def test_an_auditor_who_acts_nowhere_has_no_case_queue(client, cases):
    auditor = UserFactory(username="roaming-auditor", role="Auditor")
    # Only the appeals of ratings an auditor decides (ratings/work_queue.py), no case counts.
    assert set(queue_of(client, auditor)) == {"appeals"}


def test_a_long_queue_is_shown_capped(client, clerk, cases, monkeypatch):
    monkeypatch.setattr(work_queue, "COUNT_CAP", 2)
    client.force_login(clerk)
    page = client.get(INDEX).content.decode()
    mine = page[page.index('data-queue="mine"') :]
    assert 'data-count="3"' in mine[:40]  # counted no further than the cap + 1
    assert '<span class="queue-count">2+</span>' in mine[: mine.index("</li>")]
