"""Lifting a loss report (解挂): the SS card was found before a new one was made, so it works
again and the case ends; a temporary card issued meanwhile is handed back first."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from reissue import services
from reissue.models import LostItems, ReissueCase
from tests.factories import register_case, reissued_case
from tests.reissue.test_admin import change_url, step_url
from workflow.services import WorkflowError

TODAY = timezone.localdate


@pytest.fixture
def case(clerk, office):
    return register_case(clerk=clerk, office=office)


def lift(case, user, **arguments):
    return services.case_lift_loss_report(
        case=case, acting_user=user, reason=arguments.pop("reason", "在家中找到"), **arguments
    )


def test_a_lifted_case_ends_with_the_card_working_again_and_the_trail_says_why(clerk, case):
    case = lift(case, clerk, reason="在家中找到，本人持卡来办。")
    assert case.state == "lifted"
    assert case.ss_card_unblocked_at is not None and case.finished_at is not None
    assert not case.is_open
    entry = case.audit_entries.get(action="lift_loss_report")
    assert entry.actor == clerk
    assert entry.changes["lift_reason"] == ["", "在家中找到，本人持卡来办。"]  # full-width kept


def test_a_temporary_card_must_be_handed_back_before_lifting(clerk, case):
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="T-1", issued_on=case.loss_date
    )
    with pytest.raises(WorkflowError, match="take it back"):
        lift(case, clerk)
    assert ReissueCase.objects.get(pk=case.pk).state == "temp_card_issued"
    case = lift(case, clerk, temp_card_returned=True)
    assert (case.state, case.temp_card_returned) == ("lifted", True)


def test_no_lifting_once_the_new_card_is_made(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    with pytest.raises(WorkflowError, match="cannot be taken"):
        lift(case, clerk)


def test_no_loss_report_to_lift_when_only_the_id_card_was_lost(clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.ID_CARD)
    with pytest.raises(WorkflowError, match="no loss report to lift"):
        lift(case, clerk)


def test_a_reviewer_may_not_lift_and_a_reason_is_required(reviewer, clerk, case):
    with pytest.raises(PermissionDenied):
        lift(case, reviewer)
    with pytest.raises(ValidationError):
        lift(case, clerk, reason="   ")
    assert ReissueCase.objects.get(pk=case.pk).state == "reported"


def test_a_clerk_lifts_at_the_counter_and_the_slip_tells_the_bank_side(client, clerk, case):
    services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="T-1", issued_on=case.loss_date
    )
    client.force_login(clerk)
    assert (
        "解除挂失" in client.get(change_url(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    )
    url = step_url(case, "lift_loss_report")
    page = client.post(url, {"reason": "found at home", "expected_state": "temp_card_issued"})
    assert "Take the temporary card back first." in page.content.decode()
    response = client.post(
        url,
        {
            "reason": "found at home",
            "temp_card_returned": "on",
            "expected_state": "temp_card_issued",
        },
    )
    assert response.status_code == 302
    assert ReissueCase.objects.get(pk=case.pk).state == "lifted"
    slip = client.get(reverse("admin:reissue_reissuecase_slip", args=[case.pk])).content.decode()
    assert "lift it there too" in slip
