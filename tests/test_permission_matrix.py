"""Every role x own or other office x every screen, step, export and import, from one table.

Each cell builds its own data in the target office (through the services), acts as a user of
the role who works in the office DC, and asserts that the action was allowed (it happened, or
the object shows) or refused (403, 404, a redirect, or the object absent), with nothing changed.
The screens: cases, applicants, claims, policies, the audit trail and the access log with
their steps; the SMS notices' list and its "send again"; the background work's lists; the
case, claim and audit-trail exports (at once and in the background, with My exports and its
downloads) and the legacy-case import; the supervisor dashboard; the printable case slip and
decision notice; the ratings, their follow-ups and appeals; the public pages (open to everyone).
"""

import csv
import datetime
import io
from dataclasses import dataclass
from functools import cached_property

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import PersonalDataAccess
from claims import services as claim_services
from claims.claim_workflow import CLAIM_WORKFLOW
from claims.models import ExpenseClaim, ReimbursementPolicy
from claims.resources import ExpenseClaimResource
from exports import services as export_services
from exports.models import BackgroundExport
from exports.tasks import build_background_export
from notifications.models import MessageState, OutboxMessage
from ratings import services as rating_services
from ratings.models import Rating, RatingAppeal
from reissue import services as case_services
from reissue.case_workflow import CASE_WORKFLOW, LossReportKind
from reissue.clocks import run_clocks, system_user
from reissue.models import LostItems, ReissueCase
from reissue.rating_link import rating_path, rating_token
from reissue.resources import AuditEntryResource, CaseResource
from reissue.services import RevealedNumber, personal_data_reveal
from reissue.slip import temp_card_check_path
from tests.exports.conftest import export, read_rows
from tests.factories import (
    OfficeFactory,
    PolicyFactory,
    UserFactory,
    applicant_fields,
    claim_with_items,
    register_case,
    reissued_case,
)

ROLES = ["Clerk", "Reviewer", "Supervisor", "Auditor"]
TODAY = timezone.localdate


class World:
    """Objects of one office, made on first use by that office's own staff."""

    def __init__(self, office):
        self.office = office
        self.clerk = UserFactory(role="Clerk", offices=[office])
        self.reviewer = UserFactory(role="Reviewer", offices=[office])
        self.policy = PolicyFactory(office=office)

    @cached_property
    def case(self):
        return register_case(clerk=self.clerk, office=self.office)

    @cached_property
    def reissued(self):
        return reissued_case(clerk=self.clerk, office=self.office)

    def ss_only_case(self):
        return register_case(
            clerk=self.clerk,
            office=self.office,
            lost_items=LostItems.SS_CARD,
            presented_id_card=True,
        )

    def temporary_case(self):
        return register_case(
            clerk=self.clerk, office=self.office, loss_report_kind=LossReportKind.TEMPORARY
        )

    def temp_card_case(self):
        return case_services.case_issue_temp_card(
            case=register_case(clerk=self.clerk, office=self.office),
            acting_user=self.clerk,
            card_number="TMP-5678",
            issued_on=TODAY(),
        )

    def ordered_case(self):
        return case_services.case_order_card(
            case=self.ss_only_case(), acting_user=self.clerk, ordered_on=TODAY()
        )

    def produced_case(self):
        return case_services.case_record_card_produced(
            case=self.ordered_case(),
            acting_user=self.clerk,
            card_number="SS-P-0001",
            produced_on=TODAY(),
        )

    def arrived_case(self):
        return case_services.case_record_card_arrived(
            case=self.produced_case(), acting_user=self.clerk, arrived_on=TODAY()
        )

    def due(self, make, **clock_fields):
        """Return a case made by `make` whose clock (`clock_fields`, set past) has run out."""
        case = make(self)
        ReissueCase.objects.filter(pk=case.pk).update(**clock_fields)
        return ReissueCase.objects.get(pk=case.pk)

    @cached_property
    def poor_rating(self):
        """A poor rating of a finished case, its follow-up open."""
        case = reissued_case(clerk=self.clerk, office=self.office)
        rating_services.rating_submit(
            token=rating_token(case), level="dissatisfied", comment="", client_address="192.0.2.1"
        )
        return Rating.objects.get(case=case)

    def appeal(self):
        supervisor = UserFactory(role="Supervisor", offices=[self.office])
        return rating_services.rating_appeal(
            rating=self.poor_rating, acting_user=supervisor, reason="误评"
        )

    def claim(self, state):
        claim = claim_with_items(
            case=reissued_case(clerk=self.clerk, office=self.office),
            clerk=self.clerk,
            submit=state != "draft",
        )
        if state == "approved":
            claim = claim_services.claim_approve(claim=claim, acting_user=self.reviewer)
        return claim


def admin_url(name, *args):
    return reverse(f"admin:{name}", args=args)


@dataclass(frozen=True)
class Endpoint:
    name: str
    own: set[str]  # roles allowed on the user's own office
    other: set[str]  # roles allowed on another office
    run: object  # (client, world) -> bool: True if the action was allowed

    def allowed(self, role, where):
        return role in (self.own if where == "own" else self.other)


def shows(url, text_of):
    """Allowed = the page answers 200 and shows the object."""

    def run(client, world):
        expected = text_of(world)  # made before the page is asked for
        response = client.get(url(world))
        return response.status_code == 200 and expected in response.content.decode()

    return run


def opens(url):
    """Allowed = the object's page opens (200)."""

    def run(client, world):
        return client.get(url(world)).status_code == 200

    return run


def step(target, name, data, done):
    """Allowed = the POST went through and the object moved on."""

    def run(client, world):
        obj, url = target(world)
        response = client.post(url, {**data, "expected_state": obj.state})
        obj.refresh_from_db()
        happened = done(obj)
        assert happened == (response.status_code == 302), (response.status_code, name)
        return happened

    run.step = name
    return run


def granted(workflow, name) -> set[str]:
    """Return the roles the step's declaration grants it to (case_workflow, claim_workflow)."""
    return set(workflow.step(name).roles)


def case_step(name, data, make=lambda w: w.case, done_state=None, done=None):
    """A case's step; done when the case reaches `done_state` (or `done(case)`, for a step
    that keeps the case in its state)."""

    def target(world):
        case = make(world)
        return case, admin_url("reissue_reissuecase_step", case.pk, name)

    return step(target, name, data, done or (lambda case: case.state == done_state))


def clock_step(name, make, done, **clock_fields):
    """A clock's step, due (its moment passed): no role's user may take it on the page."""
    return case_step(name, {}, make=lambda w: w.due(make, **clock_fields), done=done)


PAST, YESTERDAY = timezone.now() - datetime.timedelta(hours=1), TODAY() - datetime.timedelta(1)
CLOCK_STEPS = {
    "lapse_loss_report": clock_step(
        "lapse_loss_report",
        World.temporary_case,
        lambda case: case.state == "lapsed",
        lapses_at=PAST,
    ),
    "cancel_old_card": clock_step(
        "cancel_old_card",
        World.ss_only_case,
        lambda case: case.old_card_cancelled_at is not None,
        old_card_cancel_on=YESTERDAY,
    ),
    "expire_temp_card": clock_step(
        "expire_temp_card",
        World.temp_card_case,
        lambda case: case.temp_card_expired_at is not None,
        temp_card_valid_until=YESTERDAY - datetime.timedelta(1),
    ),
    "flag_overdue": clock_step(
        "flag_overdue",
        World.ss_only_case,
        lambda case: case.overdue_flagged_at is not None,
        service_due_on=YESTERDAY - datetime.timedelta(1),
    ),
}


def claim_step(name, state, data, done_state):
    def target(world):
        claim = world.claim(state)
        return claim, admin_url("claims_expenseclaim_step", claim.pk, name)

    return step(target, name, data, lambda claim: claim.state == done_state)


def register(client, world):
    before = ReissueCase.objects.count()
    client.post(
        admin_url("reissue_reissuecase_add"),
        {
            **applicant_fields(),
            "office": world.office.pk,
            "lost_items": "both",
            "loss_kind": "lost",
            "loss_date": TODAY().isoformat(),
        },
    )
    return ReissueCase.objects.count() == before + 1


def add_policy(client, world):
    before = ReimbursementPolicy.objects.count()
    client.post(
        admin_url("claims_reimbursementpolicy_add"),
        {
            "office": world.office.pk,
            "effective_from": "2026-01-01",
            "deductible": "0",
            "rate_outpatient": "0.5",
            "rate_inpatient": "0.5",
            "rate_pharmacy": "0.5",
            "cap_per_case": "100",
        },
    )
    return ReimbursementPolicy.objects.count() == before + 1


def reveal(client, world):
    url = admin_url("reissue_reissuecase_reveal", world.case.pk, "applicant")
    response = client.post(url, {"reason": "identity check"})
    seen = world.case.applicant.id_number in response.content.decode()
    assert seen == PersonalDataAccess.objects.exists()
    return seen


def open_claim(client, world):
    case = world.reissued
    client.post(
        admin_url("claims_expenseclaim_add"),
        {"case": case.pk, "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0},
    )
    return ExpenseClaim.objects.filter(case=case).exists()


def access_log(client, world):
    supervisor = UserFactory(role="Supervisor", offices=[world.office])
    personal_data_reveal(
        case=world.case,
        number=RevealedNumber.APPLICANT_ID_NUMBER,
        acting_user=supervisor,
        reason="matrix probe",
    )
    response = client.get(admin_url("audit_personaldataaccess_changelist"))
    return response.status_code == 200 and "matrix probe" in response.content.decode()


def access_log_export(client, world):
    response = client.post(
        reverse("admin:audit_personaldataaccess_export"), {"format": "0", "resource": "0"}
    )
    return response.status_code == 200


def exports(admin_name, resource_class, text_of):
    """Allowed = the CSV export of every column answers 200 and holds the object."""

    def run(client, world):
        expected = text_of(world)
        response = export(client, admin_name, resource_class)
        if response.status_code != 200:
            return False
        return any(expected in row.values() for row in read_rows(response))

    return run


def background_exports(admin_name, resource_class, text_of):
    """Allowed = asked for in the background, the worker's file, downloaded from My exports,
    holds the object."""

    def run(client, world):
        expected = text_of(world)
        fields = {
            f"{resource_class.__name__.lower()}_{name}": "on"
            for name in resource_class().get_export_order()
        }
        response = client.post(
            reverse(f"admin:{admin_name}_export"),
            {"format": "1", "resource": "0", "in_background": "on", **fields},
        )
        export = BackgroundExport.objects.order_by("-pk").first()
        if response.status_code != 302 or export is None:
            return False
        build_background_export.call(export.pk)
        download = client.get(admin_url("exports_backgroundexport_download", export.pk))
        if download.status_code != 200:
            return False
        return any(expected in row.values() for row in read_rows(download))

    return run


def my_exports(client, world):
    return client.get(admin_url("exports_backgroundexport_changelist")).status_code == 200


def someone_elses_export(client, world):
    """Allowed = the file of an export the office's supervisor asked for is downloaded."""
    supervisor = UserFactory(role="Supervisor", offices=[world.office])
    world.case  # noqa: B018 (made now, so the file holds a row)
    export = export_services.background_export_request(
        requester=supervisor,
        model=ReissueCase,
        source="reissue.admin_exports.build_background_export",
        permission="reissue.export_cases",
        file_format="csv",
        params=[],
        columns=[],
    )
    build_background_export.call(export.pk)
    response = client.get(admin_url("exports_backgroundexport_download", export.pk))
    return response.status_code == 200


def id_number_search(admin_name, text_of):
    """Allowed = a search by the whole ID number (POST, then the token's list) shows it."""

    def run(client, world):
        expected = text_of(world)
        redirect = client.post(
            admin_url(f"{admin_name}_search"), {"q": world.case.applicant.id_number}
        )
        if redirect.status_code != 302 or "qt=" not in redirect["Location"]:
            return False
        page = client.get(redirect["Location"])
        return page.status_code == 200 and expected in page.content.decode()

    return run


def import_preview(client, world):
    """Allowed = the dry run of a one-row file for the world's office previews it as new."""
    person = applicant_fields()
    rows = [
        ["office", *person, "lost_items", "loss_kind", "loss_date"],
        [world.office.code, *person.values(), "both", "lost", TODAY().isoformat()],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    before = ReissueCase.objects.count()
    response = client.post(
        admin_url("reissue_reissuecase_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("legacy.csv", text.getvalue().encode()),
        },
    )
    assert ReissueCase.objects.count() == before  # a dry run writes nothing
    result = response.context and response.context.get("result")
    if response.status_code != 200 or not result:
        return False
    valid = not result.has_errors() and not result.has_validation_errors()
    return valid and [row.import_type for row in result.rows] == ["new"]


def background_import(client, world):
    """Allowed = a file past IMPORT_IN_REQUEST_MAX_ROWS, checked by the worker (immediate
    mode), shows on its progress page as importable, and its confirmation imports it."""
    from django.test import TestCase, override_settings

    people = [applicant_fields() for _ in range(3)]
    rows = [["office", *people[0], "lost_items", "loss_kind", "loss_date"]]
    rows += [[world.office.code, *p.values(), "both", "lost", TODAY().isoformat()] for p in people]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    before = ReissueCase.objects.count()
    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(IMPORT_IN_REQUEST_MAX_ROWS=1, TASKS=immediate):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                admin_url("reissue_reissuecase_import"),
                {
                    "resource": "0",
                    "format": "0",
                    "import_file": SimpleUploadedFile("legacy.csv", text.getvalue().encode()),
                },
            )
        if response.status_code != 302 or "/import/" not in response.url:
            return False
        page = client.get(response.url)
        if page.status_code != 200 or "All 3 rows can be imported" not in page.content.decode():
            return False
        assert ReissueCase.objects.count() == before  # the check writes nothing
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(response.url + "confirm/")
    return ReissueCase.objects.count() == before + 3


def decision_notice(client, world):
    claim = world.claim("approved")
    response = client.get(admin_url("claims_expenseclaim_notice", claim.pk))
    return response.status_code == 200 and claim.case.reference in response.content.decode()


def dashboard(client, world):
    """Allowed = the dashboard offers the world's office and counts its case there."""
    world.case  # noqa: B018 - reported today, inside the default period
    response = client.get(
        admin_url("reports_supervisordashboard_changelist"), {"office": world.office.pk}
    )
    if response.status_code != 200:
        return False
    offered = world.office in response.context["form"].fields["office"].queryset
    counted = sum(row.count for row in response.context["dashboard"].states)
    return offered and counted == 1


ALL = set(ROLES)
CLERKS = {"Clerk", "Supervisor"}
EXPORTERS = {"Supervisor", "Auditor"}
reference = lambda w: w.case.reference  # noqa: E731


def record_follow_up(client, world):
    follow_up = world.poor_rating.follow_up
    client.post(admin_url("ratings_followup_outcome", follow_up.pk), {"outcome": "已整改"})
    follow_up.refresh_from_db()
    return follow_up.is_done


def appeal_rating(client, world):
    rating = world.poor_rating
    client.post(admin_url("ratings_rating_appeal", rating.pk), {"reason": "误评"})
    return RatingAppeal.objects.filter(rating=rating).exists()


def decide_rating_appeal(client, world):
    appeal = world.appeal()
    client.post(
        admin_url("ratings_ratingappeal_decide", appeal.pk), {"decision": "upheld", "note": "核实"}
    )
    return Rating.objects.get(pk=appeal.rating_id).excluded


def citizen_rating(client, world):
    """Allowed = the rating form shows for the link of a finished case."""
    response = client.get(rating_path(world.reissued))
    return response.status_code == 200 and 'name="level"' in response.content.decode()


def citizen_case_progress(client, world):
    """Allowed = the case's progress shows for its reference and ID tail."""
    case = world.case
    response = client.post(
        reverse("public:case_progress"),
        {"reference": case.reference, "id_tail": case.applicant.id_number[-6:]},
    )
    return response.status_code == 200 and 'id="progress-state"' in response.content.decode()


def failed_sms(world) -> OutboxMessage:
    case = world.temp_card_case()
    OutboxMessage.objects.filter(subject_label=case.reference).update(
        state=MessageState.FAILED, next_attempt_at=None
    )
    return OutboxMessage.objects.get(subject_label=case.reference)


def send_sms_again(client, world):
    """Allowed = the list's action queued the failed message again."""
    message = failed_sms(world)
    client.post(
        admin_url("notifications_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    return message.state == MessageState.QUEUED


def background_work(client, world):
    """Allowed = the four lists of the background work open (not office data)."""
    names = ["scheduledjob", "jobrun", "workerheartbeat", "queuedtask"]
    return all(
        client.get(admin_url(f"jobs_{name}_changelist")).status_code == 200 for name in names
    )


def temp_card_check(client, world):
    """Allowed = the temporary card's verdict shows for the code on its slip."""
    response = client.get(temp_card_check_path(world.temp_card_case()))
    return response.status_code == 200 and "verdict-valid" in response.content.decode()


ENDPOINTS = [
    Endpoint(
        "case list",
        ALL,
        {"Auditor"},
        shows(lambda w: admin_url("reissue_reissuecase_changelist"), reference),
    ),
    Endpoint(
        "case page",
        ALL,
        {"Auditor"},
        opens(lambda w: admin_url("reissue_reissuecase_change", w.case.pk)),
    ),
    Endpoint(
        "case history",
        ALL,
        {"Auditor"},
        opens(lambda w: admin_url("reissue_reissuecase_history", w.case.pk)),
    ),
    Endpoint("register case", CLERKS, set(), register),
    Endpoint(
        "issue temporary card",
        granted(CASE_WORKFLOW, "issue_temp_card"),
        set(),
        case_step(
            "issue_temp_card",
            {"card_number": "TMP-1234", "issued_on": TODAY()},
            done_state="temp_card_issued",
        ),
    ),
    Endpoint(
        "make loss report formal",
        granted(CASE_WORKFLOW, "formalize_loss_report"),
        set(),
        case_step("formalize_loss_report", {}, make=World.temporary_case, done_state="reported"),
    ),
    Endpoint(
        "extend temporary card",
        granted(CASE_WORKFLOW, "extend_temp_card"),
        set(),
        case_step(
            "extend_temp_card",
            {"valid_until": TODAY() + datetime.timedelta(days=90)},
            make=World.temp_card_case,
            done=lambda case: case.temp_card_valid_until == TODAY() + datetime.timedelta(90),
        ),
    ),
    Endpoint(
        "change SMS choice",
        granted(CASE_WORKFLOW, "change_sms_choice"),
        set(),
        case_step("change_sms_choice", {"opt_out": "1"}, done=lambda case: case.sms_opt_out),
    ),
    Endpoint(
        "SMS notice list",
        EXPORTERS,
        {"Auditor"},
        shows(
            lambda w: admin_url("notifications_outboxmessage_changelist"),
            lambda w: w.temp_card_case().reference,
        ),
    ),
    Endpoint("send SMS again", {"Supervisor"}, set(), send_sms_again),
    Endpoint("background work", {"Auditor"}, {"Auditor"}, background_work),
    Endpoint(
        "record new ID card",
        granted(CASE_WORKFLOW, "record_id_reissued"),
        set(),
        case_step("record_id_reissued", {"issued_on": TODAY()}, done_state="id_reissued"),
    ),
    Endpoint(
        "reissue SS card",
        granted(CASE_WORKFLOW, "reissue_ss_card"),
        set(),
        case_step(
            "reissue_ss_card",
            {"card_number": "SS-M-1", "issued_on": TODAY()},
            make=World.ss_only_case,
            done_state="ss_card_reissued",
        ),
    ),
    Endpoint(
        "order SS card",
        granted(CASE_WORKFLOW, "order_card"),
        set(),
        case_step(
            "order_card",
            {"ordered_on": TODAY()},
            make=World.ss_only_case,
            done_state="card_ordered",
        ),
    ),
    Endpoint(
        "record card produced",
        granted(CASE_WORKFLOW, "record_card_produced"),
        set(),
        case_step(
            "record_card_produced",
            {"card_number": "SS-P-0002", "produced_on": TODAY()},
            make=World.ordered_case,
            done_state="card_produced",
        ),
    ),
    Endpoint(
        "record card arrived",
        granted(CASE_WORKFLOW, "record_card_arrived"),
        set(),
        case_step(
            "record_card_arrived",
            {"arrived_on": TODAY()},
            make=World.produced_case,
            done_state="card_arrived",
        ),
    ),
    Endpoint(
        "hand over new card",
        granted(CASE_WORKFLOW, "collect_card"),
        set(),
        case_step(
            "collect_card",
            {
                "collected_by": "applicant",
                "collector_name": "王芳",
                "collector_id_checked": "on",
                "collected_on": TODAY(),
            },
            make=World.arrived_case,
            done_state="ss_card_reissued",
        ),
    ),
    *(Endpoint(f"clock: {name}", set(), set(), run) for name, run in CLOCK_STEPS.items()),
    Endpoint(
        "close case",
        granted(CASE_WORKFLOW, "close"),
        set(),
        case_step("close", {}, make=lambda w: w.reissued, done_state="closed"),
    ),
    Endpoint(
        "cancel case",
        granted(CASE_WORKFLOW, "cancel"),
        set(),
        case_step("cancel", {"reason": "found"}, done_state="cancelled"),
    ),
    Endpoint(
        "lift loss report",
        granted(CASE_WORKFLOW, "lift_loss_report"),
        set(),
        case_step("lift_loss_report", {"reason": "found at home"}, done_state="lifted"),
    ),
    Endpoint("reveal ID number", {"Supervisor", "Auditor"}, {"Auditor"}, reveal),
    Endpoint(
        "applicant page",
        ALL,
        {"Auditor"},
        opens(lambda w: admin_url("reissue_applicant_change", w.case.applicant.pk)),
    ),
    Endpoint(
        "audit trail list",
        ALL,
        {"Auditor"},
        shows(lambda w: admin_url("audit_auditentry_changelist"), reference),
    ),
    Endpoint(
        "case search by ID number",
        ALL,
        {"Auditor"},
        id_number_search("reissue_reissuecase", reference),
    ),
    Endpoint(
        "applicant search by ID number",
        ALL,
        {"Auditor"},
        id_number_search("reissue_applicant", lambda w: w.case.applicant.name),
    ),
    Endpoint("access log list", {"Auditor"}, {"Auditor"}, access_log),
    Endpoint("access log export", {"Auditor"}, {"Auditor"}, access_log_export),
    Endpoint("open claim", CLERKS, set(), open_claim),
    Endpoint(
        "claim list",
        ALL,
        {"Auditor"},
        shows(
            lambda w: admin_url("claims_expenseclaim_changelist"),
            lambda w: w.claim("submitted").case.reference,
        ),
    ),
    Endpoint(
        "claim page",
        ALL,
        {"Auditor"},
        opens(lambda w: admin_url("claims_expenseclaim_change", w.claim("draft").pk)),
    ),
    Endpoint(
        "submit claim",
        granted(CLAIM_WORKFLOW, "submit"),
        set(),
        claim_step("submit", "draft", {}, "submitted"),
    ),
    Endpoint(
        "approve claim",
        granted(CLAIM_WORKFLOW, "approve"),
        set(),
        claim_step("approve", "submitted", {}, "approved"),
    ),
    Endpoint(
        "reject claim",
        granted(CLAIM_WORKFLOW, "reject"),
        set(),
        claim_step("reject", "submitted", {"reason": "copies"}, "rejected"),
    ),
    Endpoint(
        "pay claim",
        granted(CLAIM_WORKFLOW, "pay"),
        set(),
        claim_step("pay", "approved", {"payment_reference": "PAY-M"}, "paid"),
    ),
    Endpoint(
        "policy list",
        ALL,
        {"Auditor"},
        shows(
            lambda w: admin_url("claims_reimbursementpolicy_changelist"),
            lambda w: f"{w.office.code} ",
        ),
    ),
    Endpoint("add policy", {"Supervisor"}, set(), add_policy),
    Endpoint(
        "case export",
        EXPORTERS,
        {"Auditor"},
        exports("reissue_reissuecase", CaseResource, reference),
    ),
    Endpoint(
        "claim export",
        EXPORTERS,
        {"Auditor"},
        exports(
            "claims_expenseclaim",
            ExpenseClaimResource,
            lambda w: w.claim("submitted").case.reference,
        ),
    ),
    Endpoint(
        "audit trail export",
        EXPORTERS,
        {"Auditor"},
        exports("audit_auditentry", AuditEntryResource, reference),
    ),
    Endpoint(
        "case export in the background",
        EXPORTERS,
        {"Auditor"},
        background_exports("reissue_reissuecase", CaseResource, reference),
    ),
    Endpoint(
        "claim export in the background",
        EXPORTERS,
        {"Auditor"},
        background_exports(
            "claims_expenseclaim",
            ExpenseClaimResource,
            lambda w: w.claim("submitted").case.reference,
        ),
    ),
    Endpoint("my exports", ALL, ALL, my_exports),
    # Only its requester downloads an export: not a colleague, not an auditor.
    Endpoint("another user's export download", set(), set(), someone_elses_export),
    Endpoint("case import", {"Supervisor"}, set(), import_preview),
    Endpoint("case import by a worker", {"Supervisor"}, set(), background_import),
    Endpoint("dashboard", EXPORTERS, {"Auditor"}, dashboard),
    Endpoint(
        "case slip",
        ALL,
        {"Auditor"},
        shows(lambda w: admin_url("reissue_reissuecase_slip", w.case.pk), reference),
    ),
    Endpoint(
        "decision notice",
        ALL,
        {"Auditor"},
        decision_notice,
    ),
    # The public pages ask for no log-in: whoever is logged in, of whichever office.
    Endpoint("citizen case progress", ALL, ALL, citizen_case_progress),
    Endpoint("temporary card check", ALL, ALL, temp_card_check),
    # Except the rating: a logged-in staff user is refused it (the office rating its own cases).
    Endpoint("rate a finished case", set(), set(), citizen_rating),
    # The ratings (好差评): the office's supervisor follows up and appeals, an auditor decides.
    Endpoint(
        "rating list",
        EXPORTERS,
        {"Auditor"},
        shows(
            lambda w: admin_url("ratings_rating_changelist"),
            lambda w: w.poor_rating.case.reference,
        ),
    ),
    Endpoint(
        "follow-up list",
        EXPORTERS,
        {"Auditor"},
        shows(
            lambda w: admin_url("ratings_followup_changelist"),
            lambda w: w.poor_rating.case.reference,
        ),
    ),
    Endpoint("record follow-up outcome", {"Supervisor"}, set(), record_follow_up),
    Endpoint("appeal a rating", {"Supervisor"}, set(), appeal_rating),
    Endpoint("decide a rating's appeal", {"Auditor"}, {"Auditor"}, decide_rating_appeal),
]
CELLS = [
    pytest.param(endpoint, role, where, id=f"{endpoint.name}-{role}-{where}")
    for endpoint in ENDPOINTS
    for role in ROLES
    for where in ("own", "other")
]


@pytest.mark.parametrize(("endpoint", "role", "where"), CELLS)
def test_permission_matrix(db, client, endpoint, role, where):
    own, other = OfficeFactory(code="DC"), OfficeFactory(code="PD")
    user = UserFactory(username=f"acting-{role.lower()}", role=role, offices=[own])
    world = World(own if where == "own" else other)
    client.force_login(user)
    assert endpoint.run(client, world) == endpoint.allowed(role, where)


def test_the_matrix_has_every_cell():
    assert len(CELLS) == len(ENDPOINTS) * len(ROLES) * 2 == 480


def test_the_matrix_has_a_row_for_every_declared_step_of_a_case_and_a_claim():
    rows = {endpoint.run.step for endpoint in ENDPOINTS if hasattr(endpoint.run, "step")}
    declared = {m.name for workflow in (CASE_WORKFLOW, CLAIM_WORKFLOW) for m in workflow.steps}
    # A case is marked reimbursed by paying its claim (claims.services.claim_pay), no page.
    assert rows == declared - {"reimburse"}


@pytest.mark.parametrize("name", CLOCK_STEPS)
def test_a_clocks_step_is_the_system_accounts_alone_refused_to_a_superuser(
    db, client, admin_user, name
):
    """Declared for the System role only; a superuser, who holds every permission, is refused
    on the page, and the clock (as the system account) takes the step once it is due."""
    assert granted(CASE_WORKFLOW, name) == {"System"}
    world = World(OfficeFactory(code="DC"))
    client.force_login(admin_user)
    assert CLOCK_STEPS[name](client, world) is False

    taken = run_clocks()
    assert sum(vars(taken).values()) >= 1
    entry = ReissueCase.objects.latest("pk").audit_entries.get(action=name)
    assert entry.actor == system_user()


def test_the_system_account_cannot_open_the_admin(db, client):
    client.force_login(system_user())
    response = client.get(admin_url("reissue_reissuecase_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
