"""Numbers and dates as people read them: ¥1,234.56, 70 %, 2026年12月.

For pages and prints only; CSV and XLSX keep numbers numeric and dates as dates.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import gettext as _

NO_VALUE = "\u2014"  # an em dash where there is nothing to show
FEN = Decimal("0.01")


def _fen_or_none(value) -> Decimal | None:
    # SQLite sums decimals as floats: round half-up to the fen before showing.
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def format_yuan(value) -> str:
    """Return an amount of yuan as ¥16,113.47 (a dash when there is none)."""
    amount = _fen_or_none(value)
    if amount is None:
        return NO_VALUE
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def format_percent(rate) -> str:
    """Return a rate such as 0.700 as 70 % (75.5 % where a tenth matters)."""
    try:
        percent = (Decimal(str(rate)) * 100).normalize()
    except (InvalidOperation, TypeError):
        return NO_VALUE
    number = f"{percent:f}".rstrip("0").rstrip(".") if "." in f"{percent:f}" else f"{percent:f}"
    return _("%(number)s %%") % {"number": number}


def format_month(day: datetime.date | None) -> str:
    """Return the month of a date as people write it: 2026年12月, December 2026."""
    return NO_VALUE if day is None else formats.date_format(day, "YEAR_MONTH_FORMAT")


def staff_name(user) -> str:
    """Return how a citizen's document names a staff member: the name, never the log-in."""
    if user is None:
        return NO_VALUE
    return user.get_full_name() or _("staff member no. %(number)s") % {"number": user.pk}
