import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from common.id_numbers import (
    birth_date_from_id_number,
    compose_id_number,
    id_number_warnings,
    mask_id_number,
    sex_from_id_number,
    validate_id_number,
)

KNOWN_REGIONS = ["110101", "110105", "310115", "440305", "360426"]

valid_numbers = st.builds(
    compose_id_number,
    st.sampled_from(KNOWN_REGIONS),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2024, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@given(valid_numbers)
def test_generated_valid_numbers_pass(number):
    validate_id_number(number)
    validate_id_number(number.lower())  # a lower-case x is folded


@given(valid_numbers, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_fails(number, position, replacement):
    if number[position] == replacement:
        replacement = "0" if replacement != "0" else "1"
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(changed)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_length"),
        ("1101051949123100218", "id_length"),
        ("11010519491231002A", "id_format"),
        ("1101051949123100X2", "id_format"),
        ("110105194902300021", "id_birth_date"),
        ("110105194912310022", "id_checksum"),
        ("１１０１０５１９４９１２３１００２Ｘ", "id_format"),
    ],
)
def test_bad_numbers_are_refused_with_their_reason(number, code):
    with pytest.raises(ValidationError) as refused:
        validate_id_number(number)
    assert refused.value.code == code


def test_birth_date_in_the_future_is_refused():
    future = compose_id_number("110101", datetime.date.today() + datetime.timedelta(days=2), 1)
    with pytest.raises(ValidationError) as refused:
        validate_id_number(future)
    assert refused.value.code == "id_birth_date"


def test_birth_date_and_sex_are_derived():
    number = compose_id_number("110105", datetime.date(1949, 12, 31), 3)
    assert birth_date_from_id_number(number) == datetime.date(1949, 12, 31)
    assert sex_from_id_number(number) == "M"
    assert sex_from_id_number(compose_id_number("110105", datetime.date(1949, 12, 31), 4)) == "F"


def test_unknown_county_is_a_warning_not_a_refusal():
    number = compose_id_number("999901", datetime.date(1980, 5, 5), 12)
    validate_id_number(number)
    assert "999901" in id_number_warnings(number)[0]
    assert id_number_warnings(compose_id_number("110101", datetime.date(1980, 5, 5), 12)) == []


def test_mask_keeps_region_and_check_character_only():
    assert mask_id_number("11010519491231002x") == "110105***********X"
