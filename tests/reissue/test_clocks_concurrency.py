"""Two scheduled runs of the clocks at once (two servers' cron), on PostgreSQL."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model

from audit.models import AuditEntry
from reissue import clocks
from reissue.models import SYSTEM_USERNAME, CaseState, LossReportKind, LostItems, ReissueCase
from tests.factories import register_case
from tests.reissue.test_concurrency import run_together
from workdays.calendar import start_of_day

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MONDAY = datetime.date(2031, 1, 6)


def test_two_runs_at_once_take_each_step_once(clerk, office):
    with time_machine.travel(start_of_day(MONDAY) + datetime.timedelta(hours=10), tick=False):
        temporary = [
            register_case(
                clerk=clerk,
                office=office,
                lost_items=LostItems.SS_CARD,
                loss_report_kind=LossReportKind.TEMPORARY,
            )
            for _ in range(6)
        ]
        formal = [
            register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
            for _ in range(6)
        ]
    # No system account yet: both runs make it at once, too.
    assert not get_user_model().objects.filter(username=SYSTEM_USERNAME).exists()
    moment = start_of_day(MONDAY + datetime.timedelta(days=40))

    def one_run():
        with time_machine.travel(moment, tick=False):
            return clocks.run_clocks()

    outcomes = run_together(one_run, one_run)

    assert all(isinstance(o, clocks.ClockRun) for o in outcomes), outcomes
    assert sum(o.lapsed for o in outcomes) == 6
    assert sum(o.old_cards_cancelled for o in outcomes) == 6
    assert sum(o.flagged_overdue for o in outcomes) == 6
    for case in temporary:
        assert ReissueCase.objects.get(pk=case.pk).state == CaseState.LAPSED
        assert AuditEntry.objects.filter(case=case, action="lapse_loss_report").count() == 1
    for case in formal:
        assert AuditEntry.objects.filter(case=case, action="cancel_old_card").count() == 1
        assert AuditEntry.objects.filter(case=case, action="flag_overdue").count() == 1
    assert get_user_model().objects.filter(username=SYSTEM_USERNAME).count() == 1
