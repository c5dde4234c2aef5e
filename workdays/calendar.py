"""Working days: Monday to Friday, less public holidays, plus make-up working days.

The exceptions come from `CalendarDay` (seeded from the chinese-calendar package, edited in the
admin), so a holiday entered today changes every deadline at once.

The service deadline of a case reported on day D is the Nth working day after D
(N = settings.SERVICE_DEADLINE_WORKING_DAYS). A case is overdue from the day after its deadline
while it still waits for its new SS card (reported, temporary card issued, ID card reissued):
the deadline is the bureau's promise for the card, not for the reimbursement that may follow.
All functions take dates in the bureau's time zone.
"""

import datetime

from django.conf import settings
from django.utils import timezone

from .models import CalendarDay, DayKind

ONE_DAY = datetime.timedelta(days=1)


class WorkingCalendar:
    """The working days between two dates, read from the database in one query."""

    def __init__(self, first: datetime.date, last: datetime.date):
        self.first, self.last = first, last
        exceptions = CalendarDay.objects.filter(date__range=(first, last)).values_list(
            "date", "kind"
        )
        self.holidays, self.makeup_workdays = set(), set()
        for day, kind in exceptions:
            (self.makeup_workdays if kind == DayKind.MAKEUP_WORKDAY else self.holidays).add(day)

    def is_working_day(self, day: datetime.date) -> bool:
        if not self.first <= day <= self.last:
            raise ValueError(f"{day} lies outside the calendar read ({self.first}..{self.last}).")
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def count_between(self, a: datetime.date, b: datetime.date) -> int:
        """Return the number of working days after `a` up to and including `b` (0 if b <= a)."""
        return sum(self.is_working_day(a + ONE_DAY * n) for n in range(1, (b - a).days + 1))


def working_days_between(a: datetime.date, b: datetime.date) -> int:
    """Return the number of working days after `a` up to and including `b` (0 if b <= a)."""
    if b <= a:
        return 0
    return WorkingCalendar(a + ONE_DAY, b).count_between(a, b)


def years_without_calendar(today: datetime.date | None = None) -> list[int]:
    """Return this year (and next, from December on) if no holiday has been entered for it.

    Deadlines of such a year count plain weekdays until the State Council's dates are entered.
    """
    today = today or timezone.localdate()
    years = [today.year, today.year + 1] if today.month == 12 else [today.year]
    known = set(
        CalendarDay.objects.filter(date__year__in=years, kind=DayKind.HOLIDAY)
        .values_list("date__year", flat=True)
        .distinct()
    )
    return [year for year in years if year not in known]


def deadline_working_days() -> int:
    return settings.SERVICE_DEADLINE_WORKING_DAYS


def _lookback_days(working_days: int) -> int:
    # Generous: the longest Chinese holiday run is about 8 days, two or three per year.
    return working_days * 2 + 30


def add_working_days(start: datetime.date, working_days: int) -> datetime.date:
    """Return the `working_days`-th working day after `start` (`start` itself when 0)."""
    span = _lookback_days(working_days)
    while True:
        calendar = WorkingCalendar(start, start + datetime.timedelta(days=span))
        day, counted = start, 0
        while counted < working_days and day < calendar.last:
            day += ONE_DAY
            counted += calendar.is_working_day(day)
        if counted == working_days:
            return day
        span *= 2


def service_deadline(reported_on: datetime.date) -> datetime.date:
    """Return the last day on which a case reported on `reported_on` is within its deadline."""
    return add_working_days(reported_on, deadline_working_days())


def overdue_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Return the date before which an open case is past its service deadline.

    A case whose report date (local) is earlier than the returned date is overdue today:
    its Nth working day after the report lies before today. Filter with
    `reported_at__lt=start_of_day(overdue_cutoff())`, which an index on reported_at serves.
    """
    today = today or timezone.localdate()
    working_days = deadline_working_days()
    if working_days == 0:
        return today
    span = _lookback_days(working_days)
    while True:
        calendar = WorkingCalendar(today - datetime.timedelta(days=span), today)
        # Count back from yesterday: the Nth working day found is the earliest report date whose
        # deadline (N working days later) is still today or later.
        day, counted = today, 0
        while counted < working_days and day > calendar.first:
            day -= ONE_DAY
            counted += calendar.is_working_day(day)
        if counted == working_days:
            return day
        span *= 2


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Return the first instant of `day` in the bureau's time zone (for reported_at filters)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
