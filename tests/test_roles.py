"""The role table (offices/roles.py) and the grants of the workflow steps (their declarations)
are what the groups hold, after any number of migrates, and what the README tells."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from offices.roles import (
    ROLES,
    register_role_grants,
    role_permissions,
    roles_markdown,
    sync_role_groups,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def granted() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


# The groups as they were when every grant was in the role table (before the steps' grants
# moved to the workflows' declarations): moving them changed no one's permissions.
GROUPS = {
    "Clerk": {
        "audit.view_auditentry",
        "claims.add_claimitem",
        "claims.add_expenseclaim",
        "claims.change_claimitem",
        "claims.change_expenseclaim",
        "claims.delete_claimitem",
        "claims.submit_claim",
        "claims.view_claimitem",
        "claims.view_expenseclaim",
        "claims.view_reimbursementpolicy",
        "incidents.add_incident",
        "incidents.view_incident",
        "offices.view_office",
        "reissue.add_reissuecase",
        "reissue.change_applicant",
        "reissue.change_reissuecase",
        "reissue.close_case",
        "reissue.issue_temp_card",
        "reissue.lift_loss_report",
        "reissue.record_id_reissued",
        "reissue.reissue_ss_card",
        "reissue.view_applicant",
        "reissue.view_reissuecase",
    },
    "Reviewer": {
        "audit.view_auditentry",
        "claims.examine_claim",
        "claims.view_claimitem",
        "claims.view_expenseclaim",
        "claims.view_reimbursementpolicy",
        "offices.view_office",
        "reissue.view_applicant",
        "reissue.view_reissuecase",
    },
    "Supervisor": {
        "audit.export_audit_trail",
        "audit.view_auditentry",
        "claims.add_claimitem",
        "claims.add_expenseclaim",
        "claims.add_reimbursementpolicy",
        "claims.change_claimitem",
        "claims.change_expenseclaim",
        "claims.change_reimbursementpolicy",
        "claims.delete_claimitem",
        "claims.export_claims",
        "claims.pay_claim",
        "claims.submit_claim",
        "claims.view_claimitem",
        "claims.view_expenseclaim",
        "claims.view_reimbursementpolicy",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.manage_incident",
        "incidents.view_all_incidents",
        "incidents.view_incident",
        "offices.view_office",
        "reissue.add_reissuecase",
        "reissue.cancel_case",
        "reissue.change_applicant",
        "reissue.change_reissuecase",
        "reissue.close_case",
        "reissue.export_cases",
        "reissue.import_cases",
        "reissue.issue_temp_card",
        "reissue.lift_loss_report",
        "reissue.record_id_reissued",
        "reissue.reimburse_case",
        "reissue.reissue_ss_card",
        "reissue.view_applicant",
        "reissue.view_full_id_number",
        "reissue.view_reissuecase",
        "reports.view_reports",
        "workdays.view_calendarday",
    },
    "Auditor": {
        "audit.export_audit_trail",
        "audit.view_auditentry",
        "audit.view_personaldataaccess",
        "claims.export_claims",
        "claims.view_claimitem",
        "claims.view_expenseclaim",
        "claims.view_reimbursementpolicy",
        "incidents.view_all_incidents",
        "incidents.view_incident",
        "offices.view_all_offices",
        "offices.view_office",
        "reissue.export_cases",
        "reissue.view_applicant",
        "reissue.view_full_id_number",
        "reissue.view_reissuecase",
        "reports.view_reports",
        "workdays.view_calendarday",
    },
}


@pytest.mark.django_db
def test_each_group_holds_exactly_its_roles_permissions():
    assert granted() == {role.name: role_permissions(role) for role in ROLES}


# What issue 12's process added: the counter's new steps to clerks and supervisors, and the
# account the clocks run as, which reads cases and runs the clocks, nothing else.
PROCESS_STEPS = {
    "reissue.collect_card",
    "reissue.extend_temp_card",
    "reissue.formalize_loss_report",
    "reissue.order_card",
    "reissue.record_card_arrived",
    "reissue.record_card_produced",
}
# Every role reads the city's case rules; the counter sees the card batches; supervisors send
# them to the card bank and set their offices' case rules.
READ_RULES = {"reissue.view_casepolicy"}
COUNTER_BATCHES = {"reissue.view_cardbatch"}
SUPERVISE = {"reissue.send_card_batch", "reissue.add_casepolicy", "reissue.change_casepolicy"}
# Issue 13's ratings (好差评): supervisors and auditors read them; the office's supervisor
# follows poor ones up and appeals, an auditor decides the appeals.
READ_RATINGS = {"ratings.view_rating", "ratings.view_followup", "ratings.view_ratingappeal"}
FOLLOW_UP = {"ratings.record_follow_up", "ratings.appeal_rating"}
# Issue 13's loose ends: the SMS notices' list (supervisors send a failed one again), the
# citizen's change of mind about SMS at the counter, and the auditor sees the background work.
SMS_CHOICE = {"reissue.change_sms_choice"}
READ_SMS = {"notifications.view_outboxmessage"}
BACKGROUND_WORK = {
    "jobs.view_scheduledjob",
    "jobs.view_jobrun",
    "jobs.view_workerheartbeat",
    "jobs.view_queuedtask",
}
SYSTEM = {
    "audit.view_auditentry",
    "offices.view_office",
    "reissue.run_case_clocks",
    "reissue.view_applicant",
    "reissue.view_reissuecase",
    *READ_RULES,
}


@pytest.mark.django_db
def test_the_groups_are_those_the_role_table_gave_before_the_steps_grants_were_declared():
    assert granted() == {
        "Clerk": GROUPS["Clerk"] | PROCESS_STEPS | READ_RULES | COUNTER_BATCHES | SMS_CHOICE,
        "Reviewer": GROUPS["Reviewer"] | READ_RULES,
        "Supervisor": GROUPS["Supervisor"]
        | PROCESS_STEPS
        | READ_RULES
        | COUNTER_BATCHES
        | SUPERVISE
        | READ_RATINGS
        | FOLLOW_UP
        | SMS_CHOICE
        | READ_SMS
        | {"notifications.send_again"},
        "Auditor": GROUPS["Auditor"]
        | READ_RULES
        | READ_RATINGS
        | {"ratings.decide_rating_appeal"}
        | READ_SMS
        | BACKGROUND_WORK,
        "System": SYSTEM,
    }


@pytest.mark.django_db
def test_a_grant_to_an_unknown_role_fails_the_sync(monkeypatch):
    monkeypatch.setattr("offices.roles._grant_sources", {})
    register_role_grants("test", lambda: {"Janitor": {"reissue.view_reissuecase"}})
    with pytest.raises(LookupError, match="Janitor"):
        sync_role_groups()


@pytest.mark.django_db
def test_a_grant_given_by_hand_is_taken_back_and_a_missing_one_restored_by_the_next_sync():
    clerk = Group.objects.get(name="Clerk")
    clerk.permissions.add(Permission.objects.get(codename="pay_claim"))
    clerk.permissions.remove(Permission.objects.get(codename="issue_temp_card"))
    sync_role_groups()
    sync_role_groups()
    assert granted()["Clerk"] == role_permissions(next(r for r in ROLES if r.name == "Clerk"))


@pytest.mark.django_db
def test_migrate_again_changes_no_grant():
    before = granted()
    call_command("migrate", verbosity=0)
    assert granted() == before


def test_the_readme_role_table_is_the_one_rendered_from_the_roles():
    assert roles_markdown() in README.read_text(encoding="utf-8")
