"""Reads on expense claims: scoped lists, the reviewer's queue, policies and the assessment."""

import datetime
from dataclasses import dataclass

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from common.text import match_key
from offices.scoping import scope_to_offices
from reissue.models import ReissueCase
from reissue.permissions import scope_cases

from .calculation import Assessment, ItemInput, PolicyTerms, assess, ineligibility_reason
from .models import ClaimItem, ClaimState, ExpenseCategory, ExpenseClaim, ReimbursementPolicy

ZERO = Value(0, output_field=DecimalField(max_digits=12, decimal_places=2))


def claims_visible_to(*, user, by_case_office: bool = False) -> QuerySet[ExpenseClaim]:
    """Return the claims of cases `user` may see, with list columns joined and totalled.

    `by_case_office`: scoped by the cases' office instead of the claims' own (the same
    claims: a claim keeps its case's office, which never changes), for a list sorted by the
    case's reference.
    """
    # A subquery per row, not a join with GROUP BY: the database sums the receipts of the
    # rows it returns (a page of 100), not of every visible claim before the LIMIT.
    receipts = (
        ClaimItem.objects.filter(claim=OuterRef("pk"))
        .order_by()
        .values("claim")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    queryset = ExpenseClaim.objects.select_related(
        "case__applicant", "office", "entered_by"
    ).annotate(claimed_total=Coalesce(Subquery(receipts), ZERO))
    # By the claim's own office (its case's, kept on it): one office's claims read through
    # claim_office_newest_idx, not found among all through the case (bench/lists.py).
    # Sorted by the case's reference, by the case's office: told the claims' office alone,
    # PostgreSQL walked every office's cases in reference order and dropped the other
    # offices' claims (at 1M cases 788,024 cases walked for a page of the largest office's
    # 100, 1,461 ms; told both offices it misjudged their rows and did so still); told the
    # cases' office, it walks that office's references (case_office_reference_idx, 2 ms).
    office_path = "case__office" if by_case_office else "office"
    return scope_to_offices(queryset, user, office_path=office_path)


def claims_waiting_for_review(*, user, queryset=None) -> QuerySet[ExpenseClaim]:
    """Return submitted claims of the user's offices that someone else entered and submitted."""
    return (
        (claims_visible_to(user=user) if queryset is None else queryset)
        .filter(state=ClaimState.SUBMITTED)
        .exclude(entered_by=user)
        .exclude(submitted_by=user)
    )


def duplicate_receipt_message(*, item: ClaimItem, user) -> str | None:
    """Return a message naming the earlier claim's case if this receipt was claimed before.

    The case reference is named only to a user who may see that case.
    """
    earlier = (
        ClaimItem.objects.filter(
            provider_key=match_key(item.provider),
            receipt_number=item.receipt_number,
        )
        .exclude(pk=item.pk)
        .select_related("claim__case")
        .first()
    )
    if earlier is None:
        return None
    case = earlier.claim.case
    if user is not None and scope_cases(ReissueCase.objects.filter(pk=case.pk), user).exists():
        return _("This receipt was already claimed in case %(reference)s.") % {
            "reference": case.reference
        }
    return _("This receipt was already claimed in a case of another office.")


def policies_visible_to(*, user) -> QuerySet[ReimbursementPolicy]:
    return scope_to_offices(ReimbursementPolicy.objects.select_related("office"), user)


def policy_in_effect(*, office, on: datetime.date) -> ReimbursementPolicy | None:
    """Return the office's policy in effect on the given day: the latest one started by then."""
    return (
        ReimbursementPolicy.objects.filter(office=office, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def eligibility_window(claim: ExpenseClaim) -> tuple[datetime.date, datetime.date]:
    """Return the gap whose expenses count: from the loss to the new SS card (or today)."""
    case = claim.case
    return case.loss_date, case.ss_card_issued_on or timezone.localdate()


def claim_assessment(*, claim: ExpenseClaim, policy: ReimbursementPolicy) -> Assessment:
    """Return the claim's items assessed under `policy`, computed now."""
    return assess_items(list(claim.items.all()), policy.terms(), *eligibility_window(claim))


def assess_items(items: list[ClaimItem], terms: PolicyTerms, start, end) -> Assessment:
    return assess(
        [
            ItemInput(
                key=item.pk,
                visit_date=item.visit_date,
                category=item.category,
                amount=item.amount,
                order=item.receipt_number,
            )
            for item in items
        ],
        terms,
        start,
        end,
    )


@dataclass(frozen=True)
class ReviewLine:
    item: ClaimItem
    eligible: bool
    reason: str
    reimbursable: object


@dataclass(frozen=True)
class ClaimReview:
    """What the reviewer sees before deciding, or what was decided."""

    lines: list[ReviewLine]
    policy: ReimbursementPolicy | None
    policy_values: dict
    window: tuple[datetime.date, datetime.date]
    assessment: Assessment | None
    decided: bool

    @property
    def policy_rates(self) -> list[tuple[str, str]]:
        """(category label, rate) of the policy used, in the user's language."""
        # In the categories' own order: PostgreSQL's JSON keeps the keys sorted.
        rates = self.policy_values.get("rates", {})
        return [
            (str(label), rates[category])
            for category, label in ExpenseCategory.choices
            if category in rates
        ]


def claim_review(*, claim: ExpenseClaim) -> ClaimReview:
    """Return each receipt's eligibility and amount, the policy and the total for the page.

    A decided claim shows what was kept with the decision; an open one is assessed now.
    """
    items = list(claim.items.all())
    window = eligibility_window(claim)
    if claim.state in (ClaimState.APPROVED, ClaimState.PAID):
        start, end = window
        lines = [
            ReviewLine(
                item,
                bool(item.eligible),
                ineligibility_reason(item.visit_date, start, end),
                item.reimbursable_amount,
            )
            for item in items
        ]
        return ClaimReview(lines, claim.policy, claim.policy_snapshot, window, None, True)
    policy = policy_in_effect(office=claim.case.office, on=claim.case.loss_date)
    if policy is None:
        lines = [ReviewLine(item, False, "", None) for item in items]
        return ClaimReview(lines, None, {}, window, None, False)
    assessment = assess_items(items, policy.terms(), *window)
    lines = [
        ReviewLine(item, result.eligible, result.reason, result.reimbursable)
        for item, result in zip(items, assessment.items, strict=True)
    ]
    return ClaimReview(lines, policy, policy.snapshot(), window, assessment, False)
