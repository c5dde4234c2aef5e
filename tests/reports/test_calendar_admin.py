"""The holiday calendar in the admin: read-only for supervisors, changed by superusers only,
every change in the audit trail, the package's English names shown in the user's language."""

import datetime

import pytest
from chinese_calendar import constants
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEntry
from workdays import holiday_source
from workdays.models import CalendarDay, DayKind

pytestmark = pytest.mark.django_db

LIST = "admin:workdays_calendarday_changelist"
ADD = "admin:workdays_calendarday_add"
DASHBOARD = "admin:reports_supervisordashboard_changelist"


def change_url(day: CalendarDay) -> str:
    return reverse("admin:workdays_calendarday_change", args=[day.pk])


def delete_url(day: CalendarDay) -> str:
    return reverse("admin:workdays_calendarday_delete", args=[day.pk])


@pytest.fixture
def invented_day(db):
    return CalendarDay.objects.create(
        date=datetime.date(2031, 1, 8), kind=DayKind.HOLIDAY, name="Invented"
    )


def calendar_permissions(role: str) -> set[str]:
    return set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="workdays", codename__endswith="calendarday")
        .values_list("codename", flat=True)
    )


def test_supervisors_and_auditors_may_only_read_the_calendar():
    assert calendar_permissions("Supervisor") == {"view_calendarday"}
    assert calendar_permissions("Auditor") == {"view_calendarday"}


def test_a_supervisor_cannot_add_change_or_delete_a_day(client, supervisor, invented_day):
    client.force_login(supervisor)
    assert client.get(reverse(LIST)).status_code == 200
    assert client.get(reverse(ADD)).status_code == 403
    form = client.get(change_url(invented_day))
    assert form.status_code == 200 and 'name="_save"' not in form.content.decode()
    posted = client.post(change_url(invented_day), {"date": "2031-01-09", "kind": "holiday"})
    assert posted.status_code == 403
    assert client.post(delete_url(invented_day), {"post": "yes"}).status_code == 403
    invented_day.refresh_from_db()
    assert invented_day.date == datetime.date(2031, 1, 8)
    assert not AuditEntry.objects.filter(action__in=["added", "edited", "deleted"]).exists()


def test_the_dashboard_tells_a_supervisor_who_enters_a_missing_year(client, supervisor):
    CalendarDay.objects.all().delete()  # no holidays for this year
    client.force_login(supervisor)
    html = client.get(reverse(DASHBOARD)).content.decode()
    assert "No public holidays are entered for" in html
    assert reverse(ADD) not in html
    assert "The bureau's administrator enters them." in html


def audit_entries(day_pk: int) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(content_type__model="calendarday", object_id=day_pk).order_by(
            "sequence"
        )
    )


def test_superusers_changes_go_to_the_audit_trail(admin_client, admin_user):
    response = admin_client.post(
        reverse(ADD), {"date": "2031-01-08", "kind": "holiday", "name": "Invented"}
    )
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=datetime.date(2031, 1, 8))
    response = admin_client.post(
        change_url(day), {"date": "2031-01-09", "kind": "holiday", "name": "Invented"}
    )
    assert response.status_code == 302
    day_pk = day.pk
    assert admin_client.post(delete_url(day), {"post": "yes"}).status_code == 302
    assert not CalendarDay.objects.filter(pk=day_pk).exists()

    added, edited, deleted = audit_entries(day_pk)
    assert [entry.action for entry in (added, edited, deleted)] == ["added", "edited", "deleted"]
    assert {entry.actor for entry in (added, edited, deleted)} == {admin_user}
    assert added.changes == {
        "date": ["", "2031-01-08"],
        "kind": ["", "holiday"],
        "name": ["", "Invented"],
    }
    assert edited.changes == {"date": ["2031-01-08", "2031-01-09"]}
    assert deleted.changes == {
        "date": ["2031-01-09", ""],
        "kind": ["holiday", ""],
        "name": ["Invented", ""],
    }
    assert ("kind", "public holiday (no work)", "") in deleted.changes_display()


def test_deleting_selected_days_records_each(admin_client, invented_day):
    other = CalendarDay.objects.create(date=datetime.date(2031, 1, 9), kind=DayKind.HOLIDAY)
    response = admin_client.post(
        reverse(LIST),
        {
            "action": "delete_selected",
            "_selected_action": [invented_day.pk, other.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk__in=[invented_day.pk, other.pk]).exists()
    assert [e.action for e in audit_entries(invented_day.pk) + audit_entries(other.pk)] == [
        "deleted",
        "deleted",
    ]


def test_every_name_the_package_gives_has_a_translation():
    package_names = {holiday.value for holiday in constants.Holiday}
    assert package_names <= set(holiday_source.HOLIDAY_NAMES)
    seeded = set(CalendarDay.objects.values_list("name", flat=True))
    assert seeded and seeded <= set(holiday_source.HOLIDAY_NAMES)


def test_the_list_shows_a_package_name_translated_and_keeps_it_stored(
    client, supervisor, monkeypatch
):
    # The catalogue is the lead's; stand in for its Chinese entry to see the list use it.
    monkeypatch.setitem(holiday_source.HOLIDAY_NAMES, "Spring Festival", "春节")
    CalendarDay.objects.create(date=datetime.date(2031, 1, 8), kind=DayKind.HOLIDAY, name="Own")
    client.force_login(supervisor)
    html = client.get(reverse(LIST), {"date__year": "2025"}).content.decode()
    assert "春节" in html and "Spring Festival" not in html
    assert CalendarDay.objects.filter(name="Spring Festival").exists()
    own = client.get(reverse(LIST), {"date__year": "2031"}).content.decode()
    assert ">Own<" in own


def test_the_audit_trail_shows_a_seeded_day_with_its_source(client, auditor):
    from workdays.services import published_days_seed

    CalendarDay.objects.filter(date=datetime.date(2025, 10, 3)).delete()
    published_days_seed()
    client.force_login(auditor)
    page = client.get(reverse("admin:audit_auditentry_changelist")).content.decode()
    assert "Entered by seed_holidays from chinesecalendar" in page
