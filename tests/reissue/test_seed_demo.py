"""The demo data show a real office's year: every screen has something to demonstrate."""

import io

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEntry
from claims.models import ExpenseClaim
from offices.models import Office
from reissue.deadlines import overdue_case_filter
from reissue.models import ReissueCase


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


def test_the_demo_year_spreads_reports_steps_and_payments_over_time(seeded):
    cases = ReissueCase.objects.all()
    months = {timezone.localtime(c.reported_at).strftime("%Y-%m") for c in cases}
    assert len(months) >= 10  # a year of reports, not one day
    assert set(cases.values_list("state", flat=True)) >= {
        "reported",
        "temp_card_issued",
        "ss_card_reissued",
        "reimbursed",
        "closed",
        "cancelled",
        "lifted",
    }
    assert cases.filter(overdue_case_filter()).exists()  # some are past the service deadline
    finished = cases.exclude(ss_card_issued_on=None)
    assert any((c.ss_card_issued_on - timezone.localdate(c.reported_at)).days > 7 for c in finished)
    paid = ExpenseClaim.objects.filter(state="paid")
    assert paid.exists() and paid.filter(paid_at__date__gt=F("submitted_at__date")).exists()
    assert set(ExpenseClaim.objects.values_list("state", flat=True)) >= {"paid", "rejected"}


def test_the_demo_audit_trail_runs_forward_in_time_and_a_second_run_adds_nothing(seeded):
    moments = list(AuditEntry.objects.order_by("sequence").values_list("at", flat=True))
    assert moments == sorted(moments)
    counts = ReissueCase.objects.count(), AuditEntry.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (ReissueCase.objects.count(), AuditEntry.objects.count()) == counts


def test_the_demo_offices_have_a_phone_and_opening_hours_for_the_slips(seeded):
    offices = Office.objects.order_by("code")
    assert [office.phone for office in offices] == ["010-6512 3456", "021-5879 6543"]
    assert all(office.opening_hours for office in offices)
