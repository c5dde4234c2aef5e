"""Public holidays and make-up working days as published by the State Council, from the
chinese-calendar package (import name `chinese_calendar`), which knows the years up to its
release. Later years are entered in the admin once the State Council publishes them."""

import datetime
from importlib.metadata import version

from django.utils.translation import gettext_lazy as _

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "workday"

# The package's names (chinese_calendar.constants.Holiday, 1.11.0) are stored as it gives them,
# in English; they are shown in the user's language. Names entered by hand are shown as stored.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("Anti-Fascist 70th Day"),
}


def holiday_name_display(name: str) -> str:
    """Return a stored holiday name in the user's language (a name entered by hand as it is)."""
    return str(HOLIDAY_NAMES.get(name, name))


def published_calendar_days() -> list[tuple[datetime.date, str, str]]:
    """Return (date, kind, name) for every exception the package knows, oldest first."""
    from chinese_calendar import constants

    days = [(day, HOLIDAY, str(name)) for day, name in constants.holidays.items()]
    days += [(day, MAKEUP_WORKDAY, str(name)) for day, name in constants.workdays.items()]
    return sorted(days)


def published_source() -> str:
    """Return the package the published days come from, with its version: chinesecalendar 1.11.0."""
    return f"chinesecalendar {version('chinesecalendar')}"
