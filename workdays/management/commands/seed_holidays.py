"""Enter the public holidays and make-up working days the chinese-calendar package knows.

Run after upgrading the package (each release adds the year the State Council just published).
Days already entered are kept as they are, so corrections made in the admin survive.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workdays.holiday_source import published_calendar_days
from workdays.models import CalendarDay


class Command(BaseCommand):
    help = "Enter the public holidays and make-up working days the chinese-calendar package knows."

    def handle(self, *args, **options):
        known = set(CalendarDay.objects.values_list("date", flat=True))
        new_days = [
            CalendarDay(date=day, kind=kind, name=name)
            for day, kind, name in published_calendar_days()
            if day not in known
        ]
        CalendarDay.objects.bulk_create(new_days, ignore_conflicts=True, batch_size=500)
        last_year = max(day for day, _kind, _name in published_calendar_days()).year
        self.stdout.write(
            _("%(count)d days entered; the package knows the years up to %(year)d.")
            % {"count": len(new_days), "year": last_year}
        )
