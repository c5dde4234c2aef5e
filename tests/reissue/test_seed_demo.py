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


def test_the_demo_runs_each_office_under_its_own_rules_through_the_new_process(seeded):
    dc, pd = Office.objects.get(code="DC"), Office.objects.get(code="PD")
    assert dc.case_policies.get().instant_issuance and not pd.case_policies.get().instant_issuance
    steps = dict.fromkeys(["DC", "PD"])
    for office in (dc, pd):
        steps[office.code] = set(
            AuditEntry.objects.filter(case__office=office).values_list("action", flat=True)
        )
    # 东城 makes the card at the counter; 浦东 orders it from the card bank and hands it over.
    assert "reissue_ss_card" in steps["DC"] and "order_card" not in steps["DC"]
    assert {"order_card", "record_card_produced", "record_card_arrived", "collect_card"} <= steps[
        "PD"
    ]
    assert "reissue_ss_card" not in steps["PD"]
    assert {"formalize_loss_report", "lapse_loss_report"} <= steps["DC"] | steps["PD"]
    assert "extend_temp_card" in steps["DC"] | steps["PD"]
    cases = ReissueCase.objects.all()
    assert cases.filter(state="lapsed").exists()
    soon = cases.filter(state="reported_temporarily", lapses_at__gt=timezone.now())
    assert soon.exists()  # one lapses in the coming days
    assert cases.filter(office=pd, fee_charged=20).exists()
    waived = cases.filter(office=pd, fee_charged=0).exclude(fee_waiver_reason="")
    assert set(waived.values_list("fee_waiver_reason", flat=True)) <= {
        "最低生活保障对象",
        "重度残疾人",
    }
    assert cases.exclude(temp_card_valid_until=None).exists()
    # The nightly clocks ran: old cards cancelled, by the system account.
    cancelled = AuditEntry.objects.filter(action="cancel_old_card")
    assert cancelled.exists() and {e.actor.username for e in cancelled} == {"reissue-desk-system"}
