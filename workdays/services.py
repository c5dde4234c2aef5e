"""Writes to the holiday calendar: each change in the audit trail, as it moves every deadline."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record

from .holiday_source import published_calendar_days, published_source
from .models import CalendarDay
from .signals import working_days_changed

AUDITED_FIELDS = ["date", "kind", "name"]


def _values(day: CalendarDay | None) -> dict[str, str]:
    return {field: "" if day is None else str(getattr(day, field)) for field in AUDITED_FIELDS}


def _changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {
        field: [before[field], after[field]]
        for field in AUDITED_FIELDS
        if before[field] != after[field]
    }


def _require(acting_user: AbstractUser, action: str) -> None:
    # The admin checks too; a service called from elsewhere must not skip the rule.
    if not acting_user.has_perm(f"workdays.{action}_calendarday"):
        raise PermissionDenied


@transaction.atomic
def calendar_day_save(*, day: CalendarDay, acting_user: AbstractUser) -> CalendarDay:
    """Add or change a holiday or make-up working day and record it in the audit trail."""
    if day.pk is None:
        _require(acting_user, "add")
        before, action = None, "added"
    else:
        _require(acting_user, "change")
        before, action = CalendarDay.objects.select_for_update().get(pk=day.pk), "edited"
    day.full_clean()
    day.save()
    changes = _changes(_values(before), _values(day))
    if changes:
        audit_record(obj=day, case=None, action=action, actor=acting_user, changes=changes)
    if "date" in changes or "kind" in changes:
        moved = {day.date} | ({before.date} if before is not None else set())
        working_days_changed.send(sender=CalendarDay, days=moved)
    return day


@transaction.atomic
def calendar_day_delete(*, day: CalendarDay, acting_user: AbstractUser) -> None:
    """Delete a holiday or make-up working day and record what it was in the audit trail."""
    _require(acting_user, "delete")
    changes = _changes(_values(day), _values(None))
    audit_record(obj=day, case=None, action="deleted", actor=acting_user, changes=changes)
    date = day.date
    day.delete()
    working_days_changed.send(sender=CalendarDay, days={date})


@transaction.atomic
def published_days_seed() -> list[CalendarDay]:
    """Enter the published days the calendar lacks, each in the audit trail; keep the rest.

    A system action (`manage.py seed_holidays`): no acting user; the comment names the package
    and version the days came from. Days already entered, corrected in the admin or not, stay.
    """
    known = set(CalendarDay.objects.values_list("date", flat=True))
    comment = _("Entered by seed_holidays from %(source)s.") % {"source": published_source()}
    added = []
    for date, kind, name in published_calendar_days():
        if date in known:
            continue
        day = CalendarDay(date=date, kind=kind, name=name)
        day.full_clean()
        day.save()
        changes = _changes(_values(None), _values(day))
        audit_record(
            obj=day, case=None, action="added", actor=None, comment=comment, changes=changes
        )
        added.append(day)
    if added:
        working_days_changed.send(sender=CalendarDay, days={day.date for day in added})
    return added
