"""Resident ID numbers (GB 11643-1999): validation, derived facts and masking."""

import datetime
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from .dates import is_after_today
from .encryption import keyed_hash

ID_NUMBER_LENGTH = 18


def normalize_id_number(value: str) -> str:
    """Return the number without surrounding blanks, with a lower-case 'x' folded to 'X'."""
    return (value or "").strip().upper()


def validate_id_number(value: str) -> None:
    """Raise ValidationError unless `value` is a well-formed 18-character resident ID number.

    An unknown county code is not an error: the county table is never complete, and a real
    card must not be turned away by it. See `id_number_warnings`.
    """
    number = normalize_id_number(value)
    if len(number) != ID_NUMBER_LENGTH:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(count)d."),
            code="id_length",
            params={"count": len(number)},
        )
    if not number[:17].isascii() or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="id_format"
        )
    birth_date = _birth_date_or_none(number)
    if birth_date is None or is_after_today(birth_date) or birth_date.year < 1880:
        raise ValidationError(
            _("The birth date in this ID number (characters 7 to 14) is not a real date."),
            code="id_birth_date",
        )
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(
            _("The check character of this ID number is wrong; please compare it with the card."),
            code="id_checksum",
        )


def id_number_warnings(value: str) -> list[str]:
    """Return warnings a clerk should see for a valid number, such as an unknown county code."""
    try:
        ric.get_birth_place(normalize_id_number(value))
    except StdnumError:
        return [
            str(
                _(
                    "The region code %(code)s is not in our county table. "
                    "Please check it against the card; the number was accepted."
                )
                % {"code": normalize_id_number(value)[:6]}
            )
        ]
    return []


def birth_date_from_id_number(value: str) -> datetime.date:
    """Return the birth date encoded in a valid ID number."""
    birth_date = _birth_date_or_none(normalize_id_number(value))
    if birth_date is None:
        raise ValueError("not a valid ID number")
    return birth_date


def sex_from_id_number(value: str) -> str:
    """Return 'M' or 'F': the 17th character is odd for men and even for women."""
    return "M" if int(normalize_id_number(value)[16]) % 2 else "F"


def id_number_digest(value: str) -> str:
    """Return the keyed hash by which an (encrypted) ID number is found and kept unique."""
    return keyed_hash(normalize_id_number(value))


#: Characters a masked number shows at its start (the region) and at its end (the check
#: character). The region is no secret: the hukou address beside it names it too. Hidden stay
#: the birth date and the order code, and the check character only removes one guess in
#: eleven: about 4.8 million numbers fit a masked one, some 33,000 with a known birth year.
#: With the last four shown (the order code and the check), one birth date would leave a
#: single number (tests/security/test_mask_strength.py).
MASK_VISIBLE_START = 6
MASK_VISIBLE_END = 1


def mask_id_number(value: str) -> str:
    """Return the number with the birth date and order code hidden: 110105***********X."""
    number = normalize_id_number(value)
    if len(number) <= MASK_VISIBLE_START + MASK_VISIBLE_END:
        return "*" * len(number)
    hidden = len(number) - MASK_VISIBLE_START - MASK_VISIBLE_END
    return number[:MASK_VISIBLE_START] + "*" * hidden + number[-MASK_VISIBLE_END:]


def looks_like_id_number(value: str) -> bool:
    """Return whether `value` (blanks inside ignored) has the shape of a whole ID number."""
    number = compact_id_number(value)
    return (
        len(number) == ID_NUMBER_LENGTH
        and number[:17].isascii()
        and number[:17].isdigit()
        and number[17] in "0123456789X"
    )


def compact_id_number(value: str) -> str:
    """Return a number as someone may type it into a search: blanks inside removed, any
    script's digits (full-width ones from a Chinese input method) as ASCII digits."""
    text = "".join(unicodedata.normalize("NFKC", value or "").split()).upper()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def mask_phone(value: str) -> str:
    """Return a phone number with all but its last four digits hidden."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def _birth_date_or_none(number: str) -> datetime.date | None:
    try:
        return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def compose_id_number(region: str, birth_date: datetime.date, order: int) -> str:
    """Return a valid ID number for a 6-digit region code, birth date and 3-digit order code.

    For demo data and tests; the order code is odd for men and even for women.
    """
    body = f"{region}{birth_date:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")
