"""The reimbursement arithmetic, free of the database: eligibility, deductible, rates, cap.

All money is Decimal yuan with two places, rounded half-up to the fen. The deductible is the
citizen's own share of the first eligible expenses, taken in visit order; each item's remaining
amount is reimbursed at its category's rate; the claim's total is capped per case.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PolicyTerms:
    deductible: Decimal
    rates: dict[str, Decimal]  # category -> share reimbursed, 0..1
    cap: Decimal


@dataclass(frozen=True)
class ItemInput:
    key: object  # the caller's handle (an item's pk)
    visit_date: datetime.date
    category: str
    amount: Decimal
    order: str = ""  # tie-breaker within a day, such as the receipt number


@dataclass(frozen=True)
class ItemAssessment:
    key: object
    eligible: bool
    reason: str
    deductible_share: Decimal
    reimbursable: Decimal


@dataclass(frozen=True)
class Assessment:
    items: list[ItemAssessment]
    claimed_total: Decimal
    eligible_total: Decimal
    before_cap: Decimal
    reimbursable_total: Decimal

    @property
    def cap_applied(self) -> bool:
        return self.reimbursable_total < self.before_cap


def ineligibility_reason(
    visit_date: datetime.date, window_start: datetime.date, window_end: datetime.date
) -> str:
    """Return why a visit lies outside the gap between the loss and the new card, or ''."""
    if visit_date < window_start:
        return _("The visit was before the date of loss (%(date)s).") % {"date": window_start}
    if visit_date > window_end:
        return _("The visit was after the new SS card was issued (%(date)s).") % {
            "date": window_end
        }
    return ""


def assess(
    items: list[ItemInput],
    terms: PolicyTerms,
    window_start: datetime.date,
    window_end: datetime.date,
) -> Assessment:
    """Return each item's eligibility and reimbursable amount, and the claim's totals."""
    remaining_deductible = to_fen(terms.deductible)
    assessed = {}
    for item in sorted(items, key=lambda i: (i.visit_date, i.order, str(i.key))):
        reason = ineligibility_reason(item.visit_date, window_start, window_end)
        if reason:
            assessed[item.key] = ItemAssessment(item.key, False, reason, ZERO, ZERO)
            continue
        own_share = min(remaining_deductible, item.amount)
        remaining_deductible -= own_share
        rate = terms.rates.get(item.category, Decimal(0))
        amount = to_fen((item.amount - own_share) * rate)
        assessed[item.key] = ItemAssessment(item.key, True, "", own_share, amount)
    results = [assessed[item.key] for item in items]
    before_cap = to_fen(sum((a.reimbursable for a in results), ZERO))
    return Assessment(
        items=results,
        claimed_total=to_fen(sum((i.amount for i in items), ZERO)),
        eligible_total=to_fen(
            sum((i.amount for i, a in zip(items, results, strict=True) if a.eligible), ZERO)
        ),
        before_cap=before_cap,
        reimbursable_total=min(before_cap, to_fen(terms.cap)),
    )
