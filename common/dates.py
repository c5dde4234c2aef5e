"""The dates the desk accepts anywhere: outside them a date is a typing error, not a record.

A year-1 or year-9999 moment cannot even be turned into UTC (Asia/Shanghai is ahead of it),
so without a bound it reaches the database as a server error. Nothing the bureau records is
older than the first resident ID cards, and nothing is planned past 2100.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

EARLIEST_DATE = datetime.date(1984, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
ONE_DAY = datetime.timedelta(days=1)


def supported_date_error() -> str:
    return _("Give a date between %(earliest)s and %(latest)s.") % {
        "earliest": EARLIEST_DATE.isoformat(),
        "latest": LATEST_DATE.isoformat(),
    }


def validate_supported_date(value: datetime.date | datetime.datetime | None) -> None:
    """Refuse a date (or moment, by its local date) outside EARLIEST_DATE..LATEST_DATE."""
    if value is None:
        return
    if isinstance(value, datetime.datetime):
        value = value.date()  # the date as typed: converting a year-1 moment is what overflows
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(supported_date_error(), code="unsupported_date")


def is_after_today(day: datetime.date) -> bool:
    """Return whether `day` is after today in the current time zone (`timezone.localdate()`).

    Today there is within a day of today in UTC, so a day before yesterday in UTC is past
    anywhere: answered without looking the zone up, which costs more than the rest (the
    validators of a legacy file's every row ask this three times).
    """
    if day < timezone.now().date() - ONE_DAY:
        return False
    return day > timezone.localdate()
