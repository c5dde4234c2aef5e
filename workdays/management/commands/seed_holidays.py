"""Enter the public holidays and make-up working days the chinese-calendar package knows.

Run after upgrading the package (each release adds the year the State Council just published).
Days already entered are kept as they are, so corrections made in the admin survive; each day
added is in the audit trail (`workdays.services.published_days_seed`).
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workdays.holiday_source import published_calendar_days
from workdays.services import published_days_seed


class Command(BaseCommand):
    help = "Enter the public holidays and make-up working days the chinese-calendar package knows."

    def handle(self, *args, **options):
        new_days = published_days_seed()  # each day added is in the audit trail
        last_year = max(day for day, _kind, _name in published_calendar_days()).year
        self.stdout.write(
            _("%(count)d days entered; the package knows the years up to %(year)d.")
            % {"count": len(new_days), "year": last_year}
        )
