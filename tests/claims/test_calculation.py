"""The reimbursement arithmetic: tables of known answers and properties that always hold."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.calculation import ItemInput, PolicyTerms, assess

D = Decimal
LOSS = datetime.date(2026, 3, 1)
NEW_CARD = datetime.date(2026, 3, 31)
RATES = {"outpatient": D("0.7"), "inpatient": D("0.9"), "pharmacy": D("0.5")}


def item(key, amount, category="outpatient", day=LOSS):
    return ItemInput(key=key, visit_date=day, category=category, amount=D(amount))


def total(items, deductible="0", cap="100000", rates=RATES):
    terms = PolicyTerms(deductible=D(deductible), rates=rates, cap=D(cap))
    return assess(items, terms, LOSS, NEW_CARD)


@pytest.mark.parametrize(
    ("items", "deductible", "cap", "expected_items", "expected_total"),
    [
        ([item(1, "100.00")], "0", "1000", ["70.00"], "70.00"),
        ([item(1, "100.00")], "30", "1000", ["49.00"], "49.00"),
        # the deductible is taken from the earliest visits first
        (
            [item(1, "50.00", day=LOSS), item(2, "100.00", "inpatient", day=NEW_CARD)],
            "80",
            "1000",
            ["0.00", "63.00"],
            "63.00",
        ),
        ([item(1, "1000.00", "inpatient")], "0", "500", ["900.00"], "500.00"),  # the cap
        ([item(1, "0.01", "pharmacy")], "0", "1000", ["0.01"], "0.01"),  # 0.005 rounds half up
        ([item(1, "0.03", "pharmacy")], "0", "1000", ["0.02"], "0.02"),  # 0.015 -> 0.02
        ([item(1, "33.33", "outpatient")], "0", "1000", ["23.33"], "23.33"),  # 23.331
        ([item(1, "10.05", "pharmacy")], "0", "1000", ["5.03"], "5.03"),  # 5.025 -> 5.03
        ([item(1, "10.00")], "10.00", "1000", ["0.00"], "0.00"),  # all own share
    ],
)
def test_known_answers(items, deductible, cap, expected_items, expected_total):
    result = total(items, deductible, cap)
    assert [a.reimbursable for a in result.items] == [D(x) for x in expected_items]
    assert result.reimbursable_total == D(expected_total)


@pytest.mark.parametrize(
    ("day", "eligible"),
    [
        (LOSS - datetime.timedelta(days=1), False),
        (LOSS, True),
        (NEW_CARD, True),
        (NEW_CARD + datetime.timedelta(days=1), False),
    ],
)
def test_eligibility_window_edges(day, eligible):
    result = total([item(1, "100.00", day=day)])
    assert result.items[0].eligible is eligible
    assert (result.items[0].reason == "") is eligible
    assert result.reimbursable_total == (D("70.00") if eligible else D("0.00"))


def test_ineligible_items_are_kept_with_their_reason():
    result = total([item(1, "80.00", day=LOSS - datetime.timedelta(days=3)), item(2, "20.00")])
    assert len(result.items) == 2
    assert "before the date of loss" in result.items[0].reason
    assert result.claimed_total == D("100.00") and result.eligible_total == D("20.00")


amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("1"), places=3)
items_strategy = st.lists(
    st.builds(
        ItemInput,
        key=st.uuids(),
        visit_date=st.dates(LOSS - datetime.timedelta(days=5), NEW_CARD + datetime.timedelta(5)),
        category=st.sampled_from(list(RATES)),
        amount=amounts,
    ),
    min_size=1,
    max_size=12,
)
terms_strategy = st.builds(
    PolicyTerms,
    deductible=st.decimals(min_value=D("0"), max_value=D("2000"), places=2),
    rates=st.fixed_dictionaries(dict.fromkeys(RATES, rates)),
    cap=st.decimals(min_value=D("0.01"), max_value=D("500000"), places=2),
)


@given(items_strategy, terms_strategy)
def test_never_negative_never_more_than_paid_nor_the_cap(items, terms):
    result = assess(items, terms, LOSS, NEW_CARD)
    assert D(0) <= result.reimbursable_total <= result.claimed_total
    assert result.reimbursable_total <= terms.cap
    for given_item, assessed in zip(items, result.items, strict=True):
        assert D(0) <= assessed.reimbursable <= given_item.amount
        assert assessed.reimbursable == assessed.reimbursable.quantize(D("0.01"))


@given(items_strategy, terms_strategy, st.data())
def test_never_more_when_an_item_is_removed(items, terms, data):
    removed = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    fewer = items[:removed] + items[removed + 1 :]
    full = assess(items, terms, LOSS, NEW_CARD).reimbursable_total
    assert assess(fewer, terms, LOSS, NEW_CARD).reimbursable_total <= full
