"""The long lists at a province's scale: what they sort and search by, and how they count.

Each offers only the sorts and searches an index answers (bench/lists.py times them at a
million cases); these tests pin what a user sees of that.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from common.pagination import CappedCountPaginator
from reissue import services
from reissue.models import ReissueCase
from tests.factories import (
    ApplicantFactory,
    PolicyFactory,
    claim_with_items,
    register_case,
    reissued_case,
)


def sortable_headers(page: str) -> set[str]:
    """Return the class names of the column headers that are sort links."""
    return set(re.findall(r'<th scope="col" class="sortable column-([a-z_]+)', page))


def shows_case(page: str, case) -> bool:
    """Return whether a list of records filed under cases shows one of `case`."""
    return f'<td class="field-case nowrap">{case.reference}</td>' in page


@pytest.mark.parametrize(
    ("url_name", "sortable"),
    [
        ("admin:reissue_reissuecase_changelist", {"reference", "applicant_name"}),
        ("admin:reissue_applicant_changelist", {"name"}),
        ("admin:audit_auditentry_changelist", {"at"}),
        ("admin:claims_expenseclaim_changelist", {"case_reference"}),
    ],
)
def test_long_lists_offer_only_the_sorts_an_index_serves(
    client, supervisor, office, url_name, sortable
):
    case = reissued_case(clerk=supervisor, office=office)
    PolicyFactory(office=office)
    claim_with_items(case=case, clerk=supervisor)
    client.force_login(supervisor)
    page = client.get(reverse(url_name)).content.decode()
    assert sortable_headers(page) == sortable


def test_the_case_list_sorted_by_reference_reads_in_reference_order(client, clerk, office):
    cases = [register_case(clerk=clerk, office=office) for _ in range(3)]
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_changelist"), {"o": "-0"})
    shown = re.findall(r">([A-Z]+-[0-9]{4}-[0-9]{6})</a>", page.content.decode())
    assert shown == sorted((case.reference for case in cases), reverse=True)


@pytest.mark.parametrize("order", ["0", "-0"])
def test_the_claims_sorted_by_case_reference_are_the_offices_own_in_reference_order(
    client, clerk, office, other_clerk, other_office, order
):
    # Sorted, the list is scoped by the cases' office instead of the claims' own
    # (claims_visible_to(by_case_office=True)): the same claims, in the case's order.
    for each_office, each_clerk in ((office, clerk), (other_office, other_clerk)):
        PolicyFactory(office=each_office)
        for _ in range(3):
            claim_with_items(
                case=reissued_case(clerk=each_clerk, office=each_office), clerk=each_clerk
            )
    own = ReissueCase.objects.filter(office=office).values_list("reference", flat=True)
    client.force_login(clerk)
    page = client.get(reverse("admin:claims_expenseclaim_changelist"), {"o": order})
    shown = re.findall(r">([A-Z0-9]+-[0-9]{4}-[0-9]{6,7})</a>", page.content.decode())
    assert shown == sorted(own, reverse=order.startswith("-"))
    assert page.context["cl"].result_count == 3  # counted in the same scope


def shown_applicants(page) -> list[int]:
    return [int(pk) for pk in re.findall(r"/admin/reissue/applicant/([0-9]+)/change/", page)]


@pytest.mark.parametrize("order", ["0", "-0"])
def test_one_offices_applicants_sorted_by_name_page_by_page(
    client, clerk, supervisor, office, other_clerk, other_office, monkeypatch, order
):
    # For a user of one office the pages come from the office's cases, which keep the name
    # (ApplicantChangeList): the same applicants, in the order the database sorts them.
    from reissue.admin import ApplicantAdmin
    from reissue.models import Applicant

    names = ["王芳", "李娜", "王芳", "张伟", "陈静", "李娜", "刘洋"]  # namesakes: newest first
    cases = [
        register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name=name))
        for name in names
    ]
    services.case_cancel(case=cases[0], acting_user=supervisor, reason="撤回")
    register_case(clerk=clerk, office=office, applicant=cases[0].applicant)  # two cases: once
    services.applicant_update(
        applicant=cases[3].applicant, acting_user=clerk, data={"name": "赵六"}
    )  # sorted by the name it has now
    register_case(clerk=other_clerk, office=other_office)  # another office's: never shown
    ours = [case.applicant_id for case in cases]
    expected = list(
        Applicant.objects.filter(pk__in=ours)
        .order_by("-name" if order.startswith("-") else "name", "-pk")
        .values_list("pk", flat=True)
    )
    monkeypatch.setattr(ApplicantAdmin, "list_per_page", 3)
    client.force_login(clerk)
    url = reverse("admin:reissue_applicant_changelist")
    shown = []
    for page_number in (1, 2, 3):
        page = client.get(url, {"o": order, "p": page_number})
        assert page.context["cl"].result_count == 7
        shown += shown_applicants(page.content.decode())
    assert shown == expected


@pytest.mark.parametrize(
    ("term", "found"),
    [
        (lambda case: case.reference[:8].lower(), True),  # the start of a reference
        (lambda case: case.applicant.name[:1], True),  # a surname
        (lambda case: case.applicant.name, True),  # a whole name
        (lambda case: case.applicant.name[1:], False),  # not the start of the name
        (lambda case: case.reference[5:], False),  # not the start of the reference
    ],
)
def test_the_claims_are_searched_by_the_start_of_a_reference_or_a_name(
    client, clerk, office, term, found
):
    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim_with_items(case=case, clerk=clerk)
    client.force_login(clerk)
    page = client.get(reverse("admin:claims_expenseclaim_changelist"), {"q": term(case)})
    assert (f">{case.reference}</a>" in page.content.decode()) is found


@pytest.mark.parametrize(
    ("sorted_up_to", "order", "expected"),
    [
        (10, None, "newest first"),  # few enough: read by the reference's index and sorted
        (3, None, "newest first"),  # too many: met walking the list newest first
        (10, "0", "by reference"),  # a sort the user chose is kept
    ],
)
def test_a_broad_reference_start_lists_its_cases_as_the_list_does(
    client, clerk, office, other_clerk, other_office, monkeypatch, sorted_up_to, order, expected
):
    import datetime

    from reissue import admin, admin_search

    cases = [register_case(clerk=clerk, office=office) for _ in range(5)]
    register_case(clerk=other_clerk, office=other_office)  # another office's: never shown
    hours = [3, 1, 4, 0, 2]  # reported out of reference order, as cases imported late are
    for case, hour in zip(cases, hours, strict=True):
        reported = case.reported_at - datetime.timedelta(hours=hour)
        ReissueCase.objects.filter(pk=case.pk).update(reported_at=reported)
    monkeypatch.setattr(admin_search, "ROWS_SEARCHED_BY_ID", 2)  # more match than are fetched
    monkeypatch.setattr(admin, "REFERENCE_MATCHES_SORTED", sorted_up_to)
    client.force_login(clerk)
    params = {"q": cases[0].reference[:8], **({"o": order} if order else {})}
    page = client.get(reverse("admin:reissue_reissuecase_changelist"), params)
    shown = re.findall(r">([A-Z0-9]+-[0-9]{4}-[0-9]{6})</a>", page.content.decode())
    if expected == "by reference":
        assert shown == sorted(case.reference for case in cases)
    else:
        by_time = sorted(zip(hours, cases, strict=True), key=lambda pair: pair[0])
        assert shown == [case.reference for _hour, case in by_time]
    assert page.context["cl"].result_count == 5


def test_the_claims_found_by_a_search_are_listed_newest_first(client, clerk, office):
    import datetime

    from claims.models import ExpenseClaim

    PolicyFactory(office=office)
    claims = [
        claim_with_items(case=reissued_case(clerk=clerk, office=office), clerk=clerk)
        for _ in range(3)
    ]
    hours = [1, 2, 0]  # entered out of reference order
    for claim, hour in zip(claims, hours, strict=True):
        entered = claim.created_at - datetime.timedelta(hours=hour)
        ExpenseClaim.objects.filter(pk=claim.pk).update(created_at=entered)
    client.force_login(clerk)
    term = claims[0].case.reference[:8]
    page = client.get(reverse("admin:claims_expenseclaim_changelist"), {"q": term})
    shown = re.findall(r">([A-Z0-9]+-[0-9]{4}-[0-9]{6})</a>", page.content.decode())
    by_time = sorted(zip(hours, claims, strict=True), key=lambda pair: pair[0])
    assert shown == [claim.case.reference for _hour, claim in by_time]


def test_the_claim_list_shows_the_receipts_total_as_they_change(client, clerk, office):
    from claims import services

    PolicyFactory(office=office)
    case = reissued_case(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk, amounts=("200.00", "34.50"))
    client.force_login(clerk)
    url = reverse("admin:claims_expenseclaim_changelist")
    assert "234.50" in client.get(url).content.decode()
    services.claim_remove_item(item=claim.items.order_by("amount").first(), acting_user=clerk)
    assert "200.00" in client.get(url).content.decode()
    assert "234.50" not in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("term", "found"),
    [
        (lambda applicant: applicant.name[:1], True),
        (lambda applicant: applicant.name, True),
        (lambda applicant: applicant.name[1:], False),  # not the start of the name
    ],
)
def test_the_applicants_are_searched_by_the_start_of_a_name(client, clerk, office, term, found):
    applicant = register_case(clerk=clerk, office=office).applicant
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_applicant_changelist"), {"q": term(applicant)})
    change_url = reverse("admin:reissue_applicant_change", args=[applicant.pk])
    assert (change_url in page.content.decode()) is found


def test_the_audit_trail_is_searched_by_the_start_of_a_reference(client, supervisor, office):
    first, second = (register_case(clerk=supervisor, office=office) for _ in range(2))
    client.force_login(supervisor)
    url = reverse("admin:audit_auditentry_changelist")
    page = client.get(url, {"q": first.reference.lower()}).content.decode()
    assert shows_case(page, first) and not shows_case(page, second)
    broad = client.get(url, {"q": first.reference[:8]}).content.decode()
    assert shows_case(broad, first) and shows_case(broad, second)


def test_the_audit_trail_search_stays_in_the_users_offices(
    client, other_supervisor, supervisor, office
):
    case = register_case(clerk=supervisor, office=office)
    client.force_login(other_supervisor)
    page = client.get(reverse("admin:audit_auditentry_changelist"), {"q": case.reference})
    assert not shows_case(page.content.decode(), case)


def test_the_access_log_is_searched_by_a_user_name_or_a_reference(client, auditor, clerk, office):
    from reissue import services

    case = register_case(clerk=clerk, office=office)
    services.personal_data_reveal(
        case=case,
        number=services.RevealedNumber.APPLICANT_ID_NUMBER,
        acting_user=auditor,
        reason="核对身份",
    )
    client.force_login(auditor)
    url = reverse("admin:audit_personaldataaccess_changelist")
    assert "核对身份" in client.get(url, {"q": auditor.username}).content.decode()
    assert "核对身份" in client.get(url, {"q": case.reference[:8]}).content.decode()
    assert "核对身份" not in client.get(url, {"q": clerk.username}).content.decode()
    assert sortable_headers(client.get(url).content.decode()) == {"at"}


def test_a_capped_count_counts_no_further_than_the_cap_and_orders_nothing(clerk, office):
    for _ in range(4):
        register_case(clerk=clerk, office=office)
    paginator = CappedCountPaginator(AuditEntry.objects.order_by("-at", "-id"), 100)
    paginator.cap = 2
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 3
        assert paginator.count_is_capped
    # Sorting the rows before counting them only costs time (PostgreSQL kept the sort: 1.9 s).
    assert "ORDER BY" not in queries.captured_queries[0]["sql"].upper()
    assert CappedCountPaginator(ReissueCase.objects.all(), 100).count == 4
