"""What a step relied on stays as it was: declared on the transitions, refused by the service."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from claims import services as claim_services
from reissue import services
from reissue.models import LostItems, ReissueCase
from tests.factories import claim_with_items, register_case, reissued_case
from workflow.transitions import field_locks, locked_fields


def id_reissued(*, clerk, office, **fields):
    case = register_case(clerk=clerk, office=office, **fields)
    return services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=case.loss_date)


def test_nothing_is_locked_before_a_step_that_locks(clerk, office):
    case = register_case(clerk=clerk, office=office)
    assert locked_fields(case) == set()
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-1", issued_on=case.loss_date
    )
    assert locked_fields(case) == set()


def test_recording_the_new_id_card_locks_what_was_lost(clerk, office):
    case = id_reissued(clerk=clerk, office=office)
    assert locked_fields(case) == {"lost_items", "presented_hukou_book"}
    with pytest.raises(ValidationError) as refused:
        services.case_update(case=case, acting_user=clerk, data={"lost_items": LostItems.SS_CARD})
    assert refused.value.message_dict["lost_items"] == [
        "What was lost can no longer be changed: the step “Record new ID card” has been taken."
    ]
    case.refresh_from_db()
    assert case.lost_items == LostItems.BOTH
    assert case.audit_entries.filter(action="edited").count() == 0


def test_the_same_value_of_a_locked_field_is_no_change(clerk, office):
    case = id_reissued(clerk=clerk, office=office)
    services.case_update(
        case=case,
        acting_user=clerk,
        data={"lost_items": LostItems.BOTH, "presented_photo": True},
    )
    case.refresh_from_db()
    assert case.presented_photo is True


def test_the_reissued_ss_card_locks_what_its_conditions_and_the_claim_read(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    assert locked_fields(case) >= {"lost_items", "loss_date", "presented_id_card", "agent_acts"}
    assert "loss_kind" not in locked_fields(case)
    day = case.loss_date - datetime.timedelta(days=1)
    for data in ({"loss_date": day}, {"presented_id_card": False}, {"agent_acts": True}):
        with pytest.raises(ValidationError, match="Make the new SS card at the counter"):
            services.case_update(case=case, acting_user=clerk, data=data)
    services.case_update(case=case, acting_user=clerk, data={"loss_kind": "stolen"})


def test_a_step_that_never_applied_names_no_lock(clerk, office):
    # Only the SS card was lost: no new ID card was ever recorded; its own step locks the rest.
    case = reissued_case(clerk=clerk, office=office)
    assert {step.name for step in field_locks(case).values()} == {"reissue_ss_card"}


def test_the_date_of_loss_cannot_move_past_a_card_issued_for_it(clerk, office):
    case = register_case(clerk=clerk, office=office)
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-1", issued_on=case.loss_date
    )
    later = case.loss_date + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="after a card was issued"):
        services.case_update(case=case, acting_user=clerk, data={"loss_date": later})
    earlier = case.loss_date - datetime.timedelta(days=1)
    assert services.case_update(case=case, acting_user=clerk, data={"loss_date": earlier})


def test_a_submitted_claim_fixes_its_cases_date_of_loss(clerk, office):
    # The claim's examination counts visits from the date of loss: no later move of it.
    case = id_reissued(clerk=clerk, office=office)
    claim = claim_with_items(case=case, clerk=clerk)
    assert "loss_date" not in locked_fields(case)
    claim_services.claim_submit(claim=claim, acting_user=clerk)
    case = ReissueCase.objects.get(pk=case.pk)
    assert field_locks(case)["loss_date"].name == "submit"
    earlier = case.loss_date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="Submit for examination"):
        services.case_update(case=case, acting_user=clerk, data={"loss_date": earlier})
