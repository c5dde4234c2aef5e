"""Hypothesis strategies of bad input: what a tired clerk, a pasted spreadsheet or a forged POST
sends to a form.

Each "bad" strategy yields only values the form must refuse; where "bad" is not a simple
pattern, Django's own form field (or the project's validator) is the oracle that filters.
"""

import datetime
import operator
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from hypothesis import strategies as st

from common.id_numbers import validate_id_number
from common.validators import phone_validator

# Characters that are not whitespace to `str.strip()`, so a form keeps them wherever they are.
CONTROL_CHARACTERS = [
    "\x00",  # NUL: PostgreSQL cannot store it in text
    "\x1b",  # ESC: terminal escape sequences in exports and logs
    "\x07",
    "\x08",
    "\x7f",
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200d",  # zero-width joiner
    "\u200b",  # zero-width space
    "\ufeff",  # byte-order mark
]
INVISIBLE_CHARACTERS = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"]
BLANKS = ["", " ", "\t", "\r\n", "\u3000", " \u3000\t\n "]
ODD_UNICODE = [
    "１１０１０５",  # fullwidth digits, as an IME types them
    "😀🎉",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family: emoji joined by ZWJ
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\u0301",  # a combining mark on nothing
    "١٢٣",  # Arabic-Indic digits
    "𝟏𝟐𝟑",  # mathematical bold digits
    "ﷺ",  # one code point, a long ligature
    "Ǆǅǆß",  # case mappings that change length
]
FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
HALFWIDTH = {wide: narrow for narrow, wide in FULLWIDTH.items()}

# Surrogates cannot be sent as UTF-8 at all, so a browser never sends them.
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
# Text that `str.strip()` leaves alone at both ends: no separators, no C0/C1 controls.
solid_text = st.characters(exclude_categories=("Cs", "Z", "Cc"))


def fullwidth(text: str) -> str:
    """Return the text with its ASCII letters, digits and signs in their fullwidth forms."""
    return text.translate(FULLWIDTH)


def halfwidth(text: str) -> str:
    """Return the text with fullwidth ASCII forms folded back to ASCII."""
    return text.translate(HALFWIDTH)


def with_inserted(value: str, characters=CONTROL_CHARACTERS) -> st.SearchStrategy[str]:
    """Return `value` with one of `characters` slipped in somewhere."""
    return st.tuples(st.integers(0, len(value)), st.sampled_from(characters)).map(
        lambda spot: value[: spot[0]] + spot[1] + value[spot[0] :]
    )


def _tidied(text: str) -> str:
    shown = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", shown).strip()


def overlong(max_length: int) -> st.SearchStrategy[str]:
    """Return text of more than `max_length` characters even after stripping blanks."""
    return st.one_of(
        st.tuples(
            st.sampled_from(["x", "字", "😀", "Ａ", "9"]), st.integers(1, 3 * max_length)
        ).map(lambda repeat: repeat[0] * (max_length + repeat[1])),
        # Still too long once invisible characters go and combining marks compose (NFC).
        st.text(alphabet=solid_text, min_size=max_length + 1, max_size=max_length + 20).filter(
            lambda text: len(_tidied(text)) > max_length
        ),
        st.builds(operator.mul, st.just("长"), st.just(10_000)),  # short to print
    )


def bad_required_text(max_length: int, value: str = "正常") -> st.SearchStrategy[str]:
    """Return text a required CharField(max_length) must refuse: blank, too long, or with NUL."""
    return st.one_of(
        st.sampled_from(BLANKS),
        overlong(max_length),
        with_inserted(value, ["\x00"]),
    )


def bad_optional_text(max_length: int, value: str = "正常") -> st.SearchStrategy[str]:
    return st.one_of(overlong(max_length), with_inserted(value, ["\x00"]))


def refused_by(field: forms.Field, *, also=()) -> "callable":
    """Return a predicate: true if the form field (and validators `also`) refuse the value."""

    def refuses(value: str) -> bool:
        try:
            cleaned = field.clean(value)
            for validator in also:
                validator(cleaned)
        except ValidationError:
            return True
        return False

    return refuses


# Dates ----------------------------------------------------------------------------------------

IMPOSSIBLE_DATES = [
    "2026-02-30",
    "2025-02-29",
    "0000-00-00",
    "9999-99-99",
    "2026-13-01",
    "2026-00-10",
    "2026-04-31",
    "10000-01-01",
    "-2026-01-01",
    "2026-1-32",
    "２０２６-０２-３０",
    "2026-01-01\x00",
    "1e3",
    "NaN",
    "yesterday",
]
_date_field = forms.DateField()


def bad_dates() -> st.SearchStrategy[str]:
    """Return strings that are no date at all (Django's DateField is the oracle)."""
    return st.one_of(
        st.sampled_from(IMPOSSIBLE_DATES),
        any_text.filter(lambda text: text.strip() and refused_by(_date_field)(text)),
    )


def future_dates(today: datetime.date) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just((today + datetime.timedelta(days=1)).isoformat()),
        st.just("9999-12-31"),
        st.dates(min_value=today + datetime.timedelta(days=1)).map(datetime.date.isoformat),
    )


def dates_before(day: datetime.date) -> st.SearchStrategy[str]:
    """Return real dates before `day` (and after 1899: see far_past_dates)."""
    return st.dates(
        min_value=datetime.date(1900, 1, 1), max_value=day - datetime.timedelta(days=1)
    ).map(datetime.date.isoformat)


def far_past_dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["1000-01-01", "0001-01-01", "1899-12-31"]),
        st.dates(max_value=datetime.date(1899, 12, 31)).map(datetime.date.isoformat),
    )


# Choices, numbers and keys --------------------------------------------------------------------


def not_a_choice(valid) -> st.SearchStrategy[str]:
    """Return text that is none of the `valid` choice values (including near misses)."""
    valid = [str(value) for value in valid]
    near_misses = [
        variant
        for value in valid
        for variant in (value.upper(), f" {value}", f"{value}\x00", fullwidth(value), value[:-1])
    ]
    return st.one_of(st.sampled_from(near_misses), any_text).filter(lambda text: text not in valid)


# Not "１": Django's int() reads fullwidth digits, so "１" is simply the key 1.
BAD_PRIMARY_KEYS = ["abc", "-1", "0", "1.5", "1e3", "99999999999999999999", "9" * 40, "\x00"]

BAD_AMOUNTS = [
    "-1",
    "0",
    "-0",
    "0.00",
    "0.001",
    "12.345",
    "1e-7",
    "0E-10",
    "1e309",
    "-1e309",
    "1e999999999999999999",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "99999999999.99",
    "100000000.00",
    "1e12",
    "abc",
    "1,000.00",
    "¥120",
    "120元",
    "0x10",
    "１２０.００１",
    "120\x00",
    "",
    " ",
]


def bad_amounts(refused) -> st.SearchStrategy[str]:
    """Return amounts the predicate `refused` says a money field must refuse."""
    return st.one_of(
        st.sampled_from(BAD_AMOUNTS),
        st.decimals(allow_nan=True, allow_infinity=True).map(str).filter(refused),
        st.floats().map(repr).filter(refused),
        any_text.filter(refused),
    )


# ID numbers, phones, card numbers -------------------------------------------------------------


def _is_bad_id_number(value: str) -> bool:
    return refused_by(forms.CharField(max_length=18), also=[validate_id_number])(value)


def bad_id_numbers(valid: str) -> st.SearchStrategy[str]:
    """Return ID numbers the form must refuse, many of them one slip away from `valid`."""
    body = valid[:17]
    wrong_check = body + ("0" if valid[17] != "0" else "1")
    return st.one_of(
        st.sampled_from(
            [
                fullwidth(valid),
                wrong_check,
                valid[:17],
                valid + "0",
                "110105202602300011",  # 30 February
                "110105209912310011",  # born in the future
                "110105187001010011",  # before 1880
                "11010519491231002Y",
                "X10105194912310021",
            ]
        ),
        with_inserted(valid, CONTROL_CHARACTERS + ["-", " ", "\u0301"]),
        overlong(18),
        st.text(alphabet="0123456789Xx", max_size=30),
        any_text,
    ).filter(_is_bad_id_number)


def bad_phones(valid: str = "13800138000") -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([fullwidth(valid), "١٣٨٠٠١٣٨٠٠٠", "138-0013-8000-9999-1234", "110", "+"]),
        with_inserted(valid, CONTROL_CHARACTERS + ["a", "😀"]),
        overlong(20),
        any_text,
    ).filter(refused_by(forms.CharField(max_length=20), also=[phone_validator]))


def bad_card_numbers(valid: str = "TMP-1001") -> st.SearchStrategy[str]:
    """Return card numbers outside 4 to 32 ASCII letters, digits or dashes."""
    return st.one_of(
        st.sampled_from([fullwidth(valid), "AB1", "卡号1234", "TMP 1001", "TMP_1001", "😀😀😀😀"]),
        with_inserted(valid, CONTROL_CHARACTERS + [" ", "\u0301", "é"]),
        overlong(32),
        any_text,
    ).filter(lambda text: not re.fullmatch(r"[A-Za-z0-9-]{4,32}", text.strip()))
