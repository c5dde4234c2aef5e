"""Public holidays and make-up working days as published by the State Council, from the
chinese-calendar package (import name `chinese_calendar`), which knows the years up to its
release. Later years are entered in the admin once the State Council publishes them."""

import datetime

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "workday"


def published_calendar_days() -> list[tuple[datetime.date, str, str]]:
    """Return (date, kind, name) for every exception the package knows, oldest first."""
    from chinese_calendar import constants

    days = [(day, HOLIDAY, str(name)) for day, name in constants.holidays.items()]
    days += [(day, MAKEUP_WORKDAY, str(name)) for day, name in constants.workdays.items()]
    return sorted(days)
