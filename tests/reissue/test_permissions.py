"""Each role against each workflow step, through the service that every screen uses."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from common.exceptions import ObjectNotFound
from reissue import services
from reissue.case_workflow import CASE_WORKFLOW
from reissue.models import LostItems
from tests.factories import UserFactory, register_case

TODAY = timezone.localdate

# step -> (how to bring a fresh case to where the step starts, the step's arguments)
STEPS = {
    "issue_temp_card": ([], {"card_number": "TMP-7777", "issued_on": TODAY()}),
    "record_id_reissued": ([], {"issued_on": TODAY()}),
    "reissue_ss_card": (["record_id_reissued"], {"card_number": "SS-7777", "issued_on": TODAY()}),
    "close": (["record_id_reissued", "reissue_ss_card"], {}),
    "cancel": ([], {"reason": "card found"}),
    "reimburse": (["record_id_reissued", "reissue_ss_card"], {}),
}
ALLOWED = {
    "Clerk": {"issue_temp_card", "record_id_reissued", "reissue_ss_card", "close"},
    "Reviewer": set(),
    "Supervisor": set(STEPS),
    "Auditor": set(),
}


def _prepared_case(clerk, office, steps):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.BOTH)
    for step in steps:
        case = CASE_WORKFLOW.service(step)(case=case, acting_user=clerk, **STEPS[step][1])
    return case


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("step", list(STEPS))
def test_role_against_step(role, step, clerk, office):
    user = UserFactory(role=role, offices=[office])
    case = _prepared_case(clerk, office, STEPS[step][0])
    run = CASE_WORKFLOW.service(step)
    if step not in ALLOWED[role]:
        with pytest.raises(PermissionDenied):
            run(case=case, acting_user=user, **STEPS[step][1])
        return
    if step == "reimburse":
        # Permitted, but no claim can be paid until the claims app exists.
        with pytest.raises(services.WorkflowError, match="not been paid"):
            run(case=case, acting_user=user)
        return
    before = case.state
    assert run(case=case, acting_user=user, **STEPS[step][1]).state != before


@pytest.mark.parametrize("role", list(ALLOWED))
def test_only_clerks_and_supervisors_register_cases(role, office):
    user = UserFactory(role=role, offices=[office])
    if role in ("Clerk", "Supervisor"):
        assert register_case(clerk=user, office=office).state == "reported"
    else:
        with pytest.raises(PermissionDenied):
            register_case(clerk=user, office=office)


def test_a_supervisor_of_another_office_cannot_cancel(clerk, office, other_supervisor):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ObjectNotFound):
        services.case_cancel(case=case, acting_user=other_supervisor, reason="found")
    case.refresh_from_db()
    assert case.state == "reported"
