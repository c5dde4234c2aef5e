import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEntry, PersonalDataAccess
from common.exceptions import ObjectNotFound
from reissue import services
from reissue.models import Applicant, LostItems, ReissueCase
from tests.factories import ApplicantFactory, UserFactory, applicant_fields, register_case
from workflow.services import WorkflowError
from workflow.transitions import transition_options

TODAY = timezone.localdate


def test_register_suspends_the_ss_card_and_audits_the_initial_state(clerk, office):
    case = register_case(clerk=clerk, office=office)

    assert case.state == "reported"
    assert case.reference == f"DC-{TODAY().year}-000001"
    assert case.ss_card_suspended_at is not None
    assert case.handled_by == clerk
    entry = AuditEntry.objects.get(case=case)
    assert (entry.action, entry.source_state, entry.target_state) == ("registered", "", "reported")


def test_references_count_up_per_office(clerk, office):
    first = register_case(clerk=clerk, office=office)
    second = register_case(clerk=clerk, office=office)
    assert first.reference.endswith("000001") and second.reference.endswith("000002")


def test_an_id_card_only_loss_does_not_suspend_the_ss_card(clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.ID_CARD)
    assert case.ss_card_suspended_at is None


def test_happy_path_both_cards_lost(clerk, office):
    case = register_case(clerk=clerk, office=office)
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0001", issued_on=TODAY()
    )
    case = services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
    with pytest.raises(WorkflowError, match="take it back"):  # the temporary card first
        services.case_reissue_ss_card(
            case=case, acting_user=clerk, card_number="SS00000001", issued_on=TODAY()
        )
    case = services.case_reissue_ss_card(
        case=case,
        acting_user=clerk,
        card_number="SS00000001",
        issued_on=TODAY(),
        temp_card_returned=True,
    )
    case = services.case_close(case=case, acting_user=clerk, comment="no expenses")

    assert case.state == "closed" and case.finished_at is not None and case.temp_card_returned
    trail = list(case.audit_entries.values_list("action", "source_state", "target_state"))
    assert trail == [
        ("registered", "", "reported"),
        ("issue_temp_card", "reported", "temp_card_issued"),
        ("record_id_reissued", "temp_card_issued", "id_reissued"),
        ("reissue_ss_card", "id_reissued", "ss_card_reissued"),
        ("close", "ss_card_reissued", "closed"),
    ]


def test_happy_path_a_card_made_by_the_card_bank(clerk, office):
    case = register_case(clerk=clerk, office=office)
    case = services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="TMP-0002", issued_on=TODAY()
    )
    case = services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
    case = services.case_order_card(case=case, acting_user=clerk, ordered_on=TODAY())
    case = services.case_record_card_produced(
        case=case, acting_user=clerk, card_number="SS00000003", produced_on=TODAY()
    )
    case = services.case_record_card_arrived(case=case, acting_user=clerk, arrived_on=TODAY())
    case = services.case_collect_card(
        case=case,
        acting_user=clerk,
        collected_by="applicant",
        collector_name=case.applicant.name,
        collector_id_checked=True,
        collected_on=TODAY(),
        temp_card_returned=True,
    )
    assert case.state == "ss_card_reissued" and case.ss_card_number == "SS00000003"
    assert case.card_batch.office == office and case.temp_card_returned
    trail = list(case.audit_entries.values_list("action", flat=True))
    assert trail[-4:] == [
        "order_card",
        "record_card_produced",
        "record_card_arrived",
        "collect_card",
    ]


def test_happy_path_only_the_ss_card_lost(clerk, office):
    case = register_case(
        clerk=clerk, office=office, lost_items=LostItems.SS_CARD, presented_id_card=True
    )
    case = services.case_reissue_ss_card(
        case=case, acting_user=clerk, card_number="SS00000002", issued_on=TODAY()
    )
    assert case.state == "ss_card_reissued"
    assert ReissueCase.objects.get(pk=case.pk).ss_card_number == "SS00000002"


@pytest.mark.parametrize(
    ("case_fields", "reason"),
    [
        ({"lost_items": LostItems.BOTH}, "record the new ID card"),
        (
            {"lost_items": LostItems.SS_CARD, "presented_hukou_book": False},
            "Proof of identity is required",
        ),
        (
            {"lost_items": LostItems.SS_CARD, "presented_id_card": True, "converts_ic_card": True},
            "one-inch colour photo is required for an IC card conversion",
        ),
    ],
)
def test_reissue_ss_card_refused_with_reason(clerk, office, case_fields, reason):
    case = register_case(clerk=clerk, office=office, **case_fields)
    with pytest.raises(services.WorkflowError, match=reason):
        services.case_reissue_ss_card(
            case=case, acting_user=clerk, card_number="SS123456", issued_on=TODAY()
        )
    assert ReissueCase.objects.get(pk=case.pk).state == "reported"
    assert case.audit_entries.count() == 1  # nothing recorded for the refused step


def test_reissue_ss_card_shows_missing_agent_details_as_the_reason(clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    case.agent_acts = True  # ticked on the page, details not yet typed
    options = {option.name: option for option in transition_options(case, clerk)}
    assert options["reissue_ss_card"].reasons == [
        "An agent acts for the applicant: the agent's name and ID number are required."
    ]


@pytest.mark.django_db
def test_agent_without_details_is_refused_by_the_database(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReissueCase.objects.filter(pk=case.pk).update(agent_acts=True, agent_name="")


def test_record_id_reissued_refused_without_hukou_book(clerk, office):
    case = register_case(clerk=clerk, office=office, presented_hukou_book=False)
    with pytest.raises(services.WorkflowError, match="hukou"):
        services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())


def test_record_id_reissued_refused_when_only_the_ss_card_was_lost(clerk, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    with pytest.raises(services.WorkflowError, match="not reported lost"):
        services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())


def test_reimburse_refused_until_a_claim_is_paid(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
    case = services.case_reissue_ss_card(
        case=case, acting_user=clerk, card_number="SS1234567", issued_on=TODAY()
    )
    with pytest.raises(services.WorkflowError, match="not been paid"):
        services.case_reimburse(case=case, acting_user=supervisor)


def test_a_step_from_the_wrong_state_is_refused(clerk, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(services.WorkflowError, match="this step cannot be taken"):
        services.case_close(case=case, acting_user=clerk)


def test_step_dates_cannot_be_in_the_future_or_before_the_loss(clerk, office):
    case = register_case(clerk=clerk, office=office)
    for bad_day in (TODAY() + datetime.timedelta(days=1), case.loss_date - datetime.timedelta(1)):
        with pytest.raises(ValidationError):
            services.case_issue_temp_card(
                case=case, acting_user=clerk, card_number="TMP-1", issued_on=bad_day
            )


def test_cancel_needs_a_reason_and_is_recorded(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ValidationError):
        services.case_cancel(case=case, acting_user=supervisor, reason="  ")
    case = services.case_cancel(case=case, acting_user=supervisor, reason="card found")
    assert (case.state, case.cancel_reason) == ("cancelled", "card found")
    assert case.audit_entries.last().actor == supervisor


def test_one_open_case_per_applicant(clerk, office):
    applicant = ApplicantFactory()
    register_case(clerk=clerk, office=office, applicant=applicant)
    with pytest.raises(ValidationError, match="already has an open case"):
        register_case(clerk=clerk, office=office, applicant=applicant)


def test_one_open_case_per_applicant_is_enforced_by_the_database(clerk, office):
    first = register_case(clerk=clerk, office=office)
    second = ReissueCase(
        reference="X-1",
        applicant=first.applicant,
        office=office,
        lost_items=first.lost_items,
        loss_kind=first.loss_kind,
        loss_date=first.loss_date,
        handled_by=clerk,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_new_case_may_follow_a_finished_one(clerk, supervisor, office):
    first = register_case(clerk=clerk, office=office)
    services.case_cancel(case=first, acting_user=supervisor, reason="found")
    second = register_case(clerk=clerk, office=office, applicant=first.applicant)
    assert second.applicant == first.applicant


def test_registering_a_known_id_number_under_another_name_is_refused(clerk, supervisor, office):
    first = register_case(clerk=clerk, office=office, applicant=ApplicantFactory.build(name="王五"))
    services.case_cancel(case=first, acting_user=supervisor, reason="found")
    applicant = first.applicant
    with pytest.raises(ValidationError, match="another name"):
        services.case_register(
            case=ReissueCase(office=office, lost_items="both", loss_kind="lost", loss_date=TODAY()),
            applicant_fields=applicant_fields(id_number=applicant.id_number, name="赵六"),
            acting_user=clerk,
        )


def test_loss_date_in_the_future_is_refused(clerk, office):
    with pytest.raises(ValidationError, match="cannot be in the future"):
        register_case(clerk=clerk, office=office, loss_date=TODAY() + datetime.timedelta(1))


def test_an_ss_card_number_is_given_once(clerk, office):
    numbers = []
    for _ in range(2):
        case = register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD)
        numbers.append(case)
    services.case_reissue_ss_card(
        case=numbers[0], acting_user=clerk, card_number="SS-DUP-1", issued_on=TODAY()
    )
    with pytest.raises(ValidationError, match="already given"):
        services.case_reissue_ss_card(
            case=numbers[1], acting_user=clerk, card_number="SS-DUP-1", issued_on=TODAY()
        )
    assert ReissueCase.objects.get(pk=numbers[1].pk).state == "reported"


def test_an_ss_card_number_taken_between_the_check_and_the_save_is_a_field_error(
    clerk, office, monkeypatch
):
    # As when another clerk commits the number after this step's full_clean() passed.
    first, second = (
        register_case(clerk=clerk, office=office, lost_items=LostItems.SS_CARD) for _ in range(2)
    )
    services.case_reissue_ss_card(
        case=first, acting_user=clerk, card_number="SS-LATE-1", issued_on=TODAY()
    )
    checked = ReissueCase.full_clean
    monkeypatch.setattr(
        ReissueCase,
        "full_clean",
        lambda self, *args, **kwargs: checked(self, validate_constraints=False),
    )
    with pytest.raises(ValidationError) as refused:  # was an IntegrityError
        services.case_reissue_ss_card(
            case=second, acting_user=clerk, card_number="SS-LATE-1", issued_on=TODAY()
        )
    assert refused.value.message_dict == {
        "ss_card_number": ["This SS card number was already given to another case."]
    }
    assert ReissueCase.objects.get(pk=second.pk).state == "reported"


def test_update_records_changed_fields_with_agent_number_masked(clerk, office):
    case = register_case(clerk=clerk, office=office)
    agent_number = ApplicantFactory.build().id_number
    services.case_update(
        case=case,
        acting_user=clerk,
        data={"agent_acts": True, "agent_name": "李四", "agent_id_number": agent_number},
    )
    entry = case.audit_entries.last()
    assert entry.action == "edited"
    assert entry.changes["agent_id_number"][1] == agent_number[:6] + "*" * 11 + agent_number[-1:]


def test_a_finished_case_can_no_longer_be_edited(clerk, supervisor, office):
    case = services.case_cancel(
        case=register_case(clerk=clerk, office=office), acting_user=supervisor, reason="found"
    )
    with pytest.raises(services.WorkflowError, match="finished case"):
        services.case_update(case=case, acting_user=clerk, data={"presented_photo": True})


def test_an_office_outsider_cannot_register_or_act(clerk, other_clerk, office):
    with pytest.raises(PermissionDenied):
        register_case(clerk=other_clerk, office=office)
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(ObjectNotFound):
        services.case_issue_temp_card(
            case=case, acting_user=other_clerk, card_number="TMP-9", issued_on=TODAY()
        )
    assert ReissueCase.objects.get(pk=case.pk).state == "reported"


def test_a_stale_page_gets_a_clear_message(clerk, office):
    case = register_case(clerk=clerk, office=office)
    services.case_issue_temp_card(
        case=case, acting_user=clerk, card_number="T-1234", issued_on=TODAY()
    )
    with pytest.raises(services.WorkflowError, match="Someone else changed this meanwhile"):
        services.case_close(case=case, acting_user=clerk, expected_state="reported")


def test_audit_entries_cannot_be_changed_or_deleted(clerk, office):
    entry = register_case(clerk=clerk, office=office).audit_entries.get()
    entry.comment = "tampered"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).comment == ""


@pytest.mark.parametrize("situation", ["open case", "another name", "both"])
def test_registering_another_offices_applicant_refused_alike_whatever_the_reason(
    clerk, other_clerk, other_supervisor, office, other_office, situation
):
    # Neither the number's existence in another office, nor its name there, nor its open case.
    first = register_case(
        clerk=other_clerk, office=other_office, applicant=ApplicantFactory.build(name="王五")
    )
    if situation == "another name":
        services.case_cancel(case=first, acting_user=other_supervisor, reason="found")
    name = "王五" if situation == "open case" else "赵六"
    with pytest.raises(ValidationError) as refused:
        services.case_register(
            case=ReissueCase(office=office, lost_items="both", loss_kind="lost", loss_date=TODAY()),
            applicant_fields=applicant_fields(id_number=first.applicant.id_number, name=name),
            acting_user=clerk,
        )
    assert refused.value.message_dict == {
        "id_number": [
            "This ID number cannot be registered here. Ask your supervisor, who can clear it "
            "with the other offices."
        ]
    }


# The service enforces its rules itself, whoever calls it -----------------------------------


@pytest.mark.parametrize(
    "field", ["office", "applicant", "reference", "handled_by", "temp_card_number", "state"]
)
def test_update_refuses_what_a_clerk_never_edits_and_saves_nothing(
    clerk, office, other_office, field
):
    case = register_case(clerk=clerk, office=office)
    value = {
        "office": other_office,
        "applicant": ApplicantFactory(),
        "reference": "PD-2026-000001",
        "handled_by": None,
        "temp_card_number": "TMP-FORGED",
        "state": "closed",
    }[field]
    with pytest.raises(services.FieldsNotEditable, match="cannot be changed on the case's page"):
        services.case_update(
            case=case, acting_user=clerk, data={"presented_photo": True, field: value}
        )
    stored = ReissueCase.objects.get(pk=case.pk)
    assert (stored.office, stored.temp_card_number, stored.presented_photo) == (office, "", False)
    assert (stored.reference, stored.state, stored.applicant_id) == (
        case.reference,
        "reported",
        case.applicant_id,
    )
    assert not stored.audit_entries.filter(action="edited").exists()


def test_update_refusal_names_the_fields_for_the_clerk(clerk, office, other_office):
    case = register_case(clerk=clerk, office=office)
    with pytest.raises(services.FieldsNotEditable) as refused:
        services.case_update(
            case=case, acting_user=clerk, data={"office": other_office, "temp_card_number": "T-1"}
        )
    assert refused.value.message == (
        "Nothing was saved: Office, Temporary card number cannot be changed on the case's page."
    )


def test_what_a_clerk_may_edit_narrows_with_the_steps_taken(clerk, supervisor, office):
    case = register_case(clerk=clerk, office=office)
    assert services.case_fields_editable(case) == {
        "told_to_report_bank_loss",
        "lost_items",
        "loss_kind",
        "loss_date",
        "presented_hukou_book",
        "presented_id_card",
        "presented_photo",
        "converts_ic_card",
        "agent_acts",
        "agent_name",
        "agent_id_number",
    }
    case = services.case_record_id_reissued(case=case, acting_user=clerk, issued_on=TODAY())
    editable = services.case_fields_editable(case)
    assert "lost_items" not in editable and "presented_hukou_book" not in editable
    assert "loss_kind" in editable
    case = services.case_cancel(case=case, acting_user=supervisor, reason="found")
    assert services.case_fields_editable(case) == frozenset()


def test_a_clerk_of_another_office_cannot_change_an_applicant(clerk, other_clerk, office):
    applicant = register_case(clerk=clerk, office=office).applicant
    with pytest.raises(ObjectNotFound):
        services.applicant_update(
            applicant=applicant, acting_user=other_clerk, data={"phone": "13912345678"}
        )
    applicant.refresh_from_db()
    assert applicant.phone == "13800138000"
    assert not AuditEntry.objects.filter(action="edited").exists()


def test_seeing_every_office_is_not_acting_for_its_applicants(clerk, office, other_office):
    # A clerk of PD who may read every office (an auditor's grant as well): DC's applicant is
    # in sight, not theirs to change.
    reader = UserFactory(role="Clerk", offices=[other_office])
    reader.groups.add(Group.objects.get(name="Auditor"))
    applicant = register_case(clerk=clerk, office=office).applicant
    with pytest.raises(ObjectNotFound):
        services.applicant_update(applicant=applicant, acting_user=reader, data={"name": "王五"})
    assert Applicant.objects.get(pk=applicant.pk).name == applicant.name


def test_an_applicant_is_changed_by_a_clerk_of_any_office_with_a_case_of_theirs(
    clerk, supervisor, other_clerk, office
):
    case = register_case(clerk=clerk, office=office)
    services.case_cancel(case=case, acting_user=supervisor, reason="card found")
    register_case(clerk=other_clerk, office=other_clerk.offices.get(), applicant=case.applicant)
    services.applicant_update(
        applicant=case.applicant, acting_user=other_clerk, data={"phone": "13912345678"}
    )
    assert Applicant.objects.get(pk=case.applicant.pk).phone == "13912345678"


@pytest.mark.parametrize("field", ["id_number", "birth_date", "sex", "id_number_hash"])
def test_applicant_update_refuses_the_facts_of_the_id_number(clerk, office, field):
    applicant = register_case(clerk=clerk, office=office).applicant
    stored = getattr(applicant, field)
    with pytest.raises(services.FieldsNotEditable, match="applicant's page"):
        services.applicant_update(
            applicant=applicant,
            acting_user=clerk,
            data={"phone": "13912345678", field: ApplicantFactory.build().id_number},
        )
    applicant = Applicant.objects.get(pk=applicant.pk)
    assert (getattr(applicant, field), applicant.phone) == (stored, "13800138000")


# Reveals: the service finds the number on the case or the applicant itself -----------------


@pytest.fixture
def agent_case(clerk, office):
    return register_case(
        clerk=clerk,
        office=office,
        agent_acts=True,
        agent_name="李四",
        agent_id_number=ApplicantFactory.build().id_number,
    )


@pytest.mark.parametrize(
    ("number", "holder", "field"),
    [
        ("applicant", "applicant", "id_number"),  # RevealedNumber.APPLICANT_ID_NUMBER
        ("agent", "case", "agent_id_number"),  # RevealedNumber.AGENT_ID_NUMBER
    ],
)
def test_a_reveal_reads_the_number_the_case_holds_and_logs_where(
    supervisor, agent_case, number, holder, field
):
    revealed = services.personal_data_reveal(
        case=agent_case, number=number, acting_user=supervisor, reason="identity check"
    )
    stored = ReissueCase.objects.select_related("applicant").get(pk=agent_case.pk)
    record = stored.applicant if holder == "applicant" else stored
    assert revealed == getattr(record, field) and len(revealed) == 18
    access = PersonalDataAccess.objects.get()
    assert (access.object_id, access.field, access.case) == (record.pk, field, agent_case)
    assert access.content_type.model_class() is type(record)


def test_a_reveal_cannot_be_pointed_at_another_offices_person(
    supervisor, agent_case, other_clerk, other_office
):
    # However the object in hand was changed, the number is the stored one of the case.
    foreign = register_case(clerk=other_clerk, office=other_office).applicant
    agent_case.applicant = foreign
    revealed = services.personal_data_reveal(
        case=agent_case,
        number=services.RevealedNumber.APPLICANT_ID_NUMBER,
        acting_user=supervisor,
        reason="identity check",
    )
    assert revealed != foreign.id_number
    assert revealed == Applicant.objects.exclude(pk=foreign.pk).get().id_number
    assert PersonalDataAccess.objects.get().object_id != foreign.pk


def test_a_reveal_of_another_offices_case_looks_like_a_missing_one(other_supervisor, agent_case):
    with pytest.raises(ObjectNotFound):
        services.personal_data_reveal(
            case=agent_case,
            number=services.RevealedNumber.AGENT_ID_NUMBER,
            acting_user=other_supervisor,
            reason="curious",
        )
    with pytest.raises(ObjectNotFound):
        services.personal_data_reveal(
            applicant=agent_case.applicant,
            number=services.RevealedNumber.APPLICANT_ID_NUMBER,
            acting_user=other_supervisor,
            reason="curious",
        )
    assert not PersonalDataAccess.objects.exists()


def test_an_applicant_has_no_agents_number_to_reveal(supervisor, agent_case):
    with pytest.raises(ObjectNotFound):
        services.personal_data_reveal(
            applicant=agent_case.applicant,
            number=services.RevealedNumber.AGENT_ID_NUMBER,
            acting_user=supervisor,
            reason="identity check",
        )
    assert not PersonalDataAccess.objects.exists()
