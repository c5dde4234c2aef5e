"""Enter the public holidays and make-up working days the chinese-calendar package knows.

Days already entered (by hand in the admin) are kept as they are. Later years come with
`manage.py seed_holidays` after upgrading the package.
"""

from django.db import migrations

from workdays.holiday_source import published_calendar_days


def seed(apps, schema_editor):
    # Not audited, unlike `seed_holidays`: this runs once at install, before any user or any
    # case exists, so no deadline moves; the days are the package's, as released.
    CalendarDay = apps.get_model("workdays", "CalendarDay")
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=day, kind=kind, name=name)
            for day, kind, name in published_calendar_days()
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def unseed(apps, schema_editor):
    # Leaves days entered by hand for years the package does not know.
    CalendarDay = apps.get_model("workdays", "CalendarDay")
    CalendarDay.objects.filter(date__in=[day for day, _k, _n in published_calendar_days()]).delete()


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_calendar_days")]

    operations = [migrations.RunPython(seed, unseed)]
