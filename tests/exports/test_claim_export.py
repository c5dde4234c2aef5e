"""The claim list's export: one row per receipt with its claim and case, for those who may."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.models import PersonalDataAccess
from claims import services
from claims.models import ExpenseClaim
from claims.resources import ExpenseClaimResource
from tests.exports.conftest import export
from tests.factories import (
    ApplicantFactory,
    PolicyFactory,
    UserFactory,
    claim_with_items,
    reissued_case,
)

CHANGELIST = reverse("admin:claims_expenseclaim_changelist")
EXPORT = reverse("admin:claims_expenseclaim_export")
ADMIN = "claims_expenseclaim"


def masked(number: str) -> str:
    return number[:6] + "*" * (len(number) - 7) + number[-1:]


def export_claims(exporter, user, fmt="csv", query=""):
    return exporter(user, ADMIN, ExpenseClaimResource, fmt, query)


@pytest.fixture
def approved_claim(clerk, reviewer, office):
    """A claim of two receipts, approved by the office's policy (deductible 100, 70 %)."""
    PolicyFactory(office=office)
    case = reissued_case(
        clerk=clerk, office=office, applicant=ApplicantFactory.build(name="王小明")
    )
    claim = claim_with_items(case=case, clerk=clerk, amounts=("200.00", "50.50"), submit=True)
    return services.claim_approve(claim=claim, acting_user=reviewer)


@pytest.fixture
def empty_claim(clerk, office):
    """A claim opened without receipts yet."""
    case = reissued_case(clerk=clerk, office=office)
    return services.claim_start(case=case, acting_user=clerk)


@pytest.fixture
def foreign_claim(other_clerk, other_office):
    case = reissued_case(clerk=other_clerk, office=other_office)
    return claim_with_items(case=case, clerk=other_clerk)


@pytest.fixture
def masked_exporter(office):
    """A user who may export the claims of DC but not see full ID numbers."""
    user = UserFactory(username="claim.exporter", offices=[office])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_expenseclaim", "export_claims"])
    )
    return user


def receipt_rows(rows, claim: ExpenseClaim) -> list[dict]:
    return [row for row in rows if row["reference"] == claim.case.reference]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_each_receipt_is_a_row_with_its_claim_and_case(
    exporter, supervisor, approved_claim, empty_claim, fmt
):
    rows, _response = export_claims(exporter, supervisor, fmt)
    receipts = receipt_rows(rows, approved_claim)
    numbers = sorted(item.receipt_number for item in approved_claim.items.all())
    assert sorted(row["receipt number"] for row in receipts) == numbers
    for row in receipts:
        assert row["applicant"] == "王小明"
        assert row["office"] == "DC"
        assert row["claim state"] == "approved"
        assert row["case state"] == "SS card reissued"
        assert row["hospital or pharmacy"] == "北京协和医院"
    # A claim without receipts still has its one row, with the receipt columns empty.
    [empty] = receipt_rows(rows, empty_claim)
    assert empty["claim state"] == "draft"
    assert empty["receipt number"] in ("", None)
    assert len(rows) == 3


def test_the_spreadsheet_holds_amounts_as_numbers(exporter, supervisor, approved_claim):
    rows, _response = export_claims(exporter, supervisor, "xlsx")
    amounts = sorted(row["amount paid (yuan)"] for row in receipt_rows(rows, approved_claim))
    assert amounts == [50.5, 200]
    assert all(isinstance(amount, int | float) for amount in amounts)
    total = receipt_rows(rows, approved_claim)[0]["reimbursable total"]
    assert isinstance(total, int | float)
    assert Decimal(str(total)) == approved_claim.reimbursable_total


def test_the_csv_holds_amounts_a_spreadsheet_reads_as_numbers(exporter, supervisor, approved_claim):
    rows, _response = export_claims(exporter, supervisor)
    assert sorted(row["amount paid (yuan)"] for row in rows) == ["200.00", "50.50"]
    assert {row["reimbursable total"] for row in rows} == {str(approved_claim.reimbursable_total)}


def test_the_json_holds_amounts_as_exact_decimals(exporter, supervisor, approved_claim):
    rows, _response = export_claims(exporter, supervisor, "json")
    amounts = sorted(Decimal(str(row["amount paid (yuan)"])) for row in rows)
    assert amounts == [Decimal("50.50"), Decimal("200.00")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_a_user_without_the_full_number_right_gets_numbers_masked(
    exporter, masked_exporter, approved_claim, fmt
):
    rows, _response = export_claims(exporter, masked_exporter, fmt)
    applicant = approved_claim.case.applicant
    for row in rows:
        assert row["ID number"] == masked(applicant.id_number)
        assert row["phone"] == "*" * 7 + applicant.phone[-4:]
    assert not PersonalDataAccess.objects.exists()


def test_a_supervisor_gets_full_numbers_and_the_export_is_logged(
    exporter, supervisor, approved_claim
):
    rows, _response = export_claims(exporter, supervisor)
    assert {row["ID number"] for row in rows} == {approved_claim.case.applicant.id_number}
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.field) == (supervisor, "export")
    assert access.content_type == ContentType.objects.get_for_model(ExpenseClaim)
    assert access.reason == "export of 1 expense claims (CSV, no filters)"


def test_an_export_holds_only_the_claims_of_the_users_offices(
    exporter, supervisor, other_supervisor, auditor, approved_claim, foreign_claim
):
    rows, _response = export_claims(exporter, supervisor)
    assert {row["reference"] for row in rows} == {approved_claim.case.reference}
    rows, _response = export_claims(exporter, other_supervisor)
    assert {row["reference"] for row in rows} == {foreign_claim.case.reference}
    query = f"?office__id__exact={foreign_claim.office_id}"
    rows, _response = export_claims(exporter, supervisor, query=query)
    assert foreign_claim.case.reference not in {row["reference"] for row in rows}
    rows, _response = export_claims(exporter, auditor)
    assert {row["office"] for row in rows} == {"DC", "PD"}


def test_an_export_follows_the_lists_filter(exporter, supervisor, approved_claim, empty_claim):
    rows, _response = export_claims(exporter, supervisor, query="?state__exact=draft")
    assert [row["reference"] for row in rows] == [empty_claim.case.reference]


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_clerks_and_reviewers_get_no_claim_export(client, request, role, approved_claim):
    client.force_login(request.getfixturevalue(role))
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and EXPORT not in page.content.decode()
    assert client.get(EXPORT).status_code == 403
    assert export(client, ADMIN, ExpenseClaimResource).status_code == 403
    assert not PersonalDataAccess.objects.exists()
