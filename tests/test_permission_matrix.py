"""Every role x own or other office x every screen, step and export, from one table.

Each cell builds its own data in the target office (through the services), acts as a user of
the role who works in the office DC, and asserts that the action was allowed (it happened, or
the object shows) or refused (403, 404, a redirect, or the object absent), with nothing changed.
"""

from dataclasses import dataclass
from functools import cached_property

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from claims.models import ExpenseClaim, ReimbursementPolicy
from reissue.models import LostItems, PersonalDataAccess, ReissueCase
from reissue.services import personal_data_reveal
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

    return run


def case_step(name, data, make=lambda w: w.case, done_state=None):
    def target(world):
        case = make(world)
        return case, admin_url("reissue_reissuecase_step", case.pk, name)

    return step(target, name, data, lambda case: case.state == done_state)


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
        record=world.case.applicant,
        field="id_number",
        case=world.case,
        acting_user=supervisor,
        reason="matrix probe",
    )
    response = client.get(admin_url("reissue_personaldataaccess_changelist"))
    return response.status_code == 200 and "matrix probe" in response.content.decode()


def access_log_export(client, world):
    response = client.post(
        reverse("admin:reissue_personaldataaccess_export"), {"format": "0", "resource": "0"}
    )
    return response.status_code == 200


ALL = set(ROLES)
CLERKS = {"Clerk", "Supervisor"}
reference = lambda w: w.case.reference  # noqa: E731

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
        CLERKS,
        set(),
        case_step(
            "issue_temp_card",
            {"card_number": "TMP-1234", "issued_on": TODAY()},
            done_state="temp_card_issued",
        ),
    ),
    Endpoint(
        "record new ID card",
        CLERKS,
        set(),
        case_step("record_id_reissued", {"issued_on": TODAY()}, done_state="id_reissued"),
    ),
    Endpoint(
        "reissue SS card",
        CLERKS,
        set(),
        case_step(
            "reissue_ss_card",
            {"card_number": "SS-M-1", "issued_on": TODAY()},
            make=World.ss_only_case,
            done_state="ss_card_reissued",
        ),
    ),
    Endpoint(
        "close case",
        CLERKS,
        set(),
        case_step("close", {}, make=lambda w: w.reissued, done_state="closed"),
    ),
    Endpoint(
        "cancel case",
        {"Supervisor"},
        set(),
        case_step("cancel", {"reason": "found"}, done_state="cancelled"),
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
        shows(lambda w: admin_url("reissue_auditentry_changelist"), reference),
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
    Endpoint("submit claim", CLERKS, set(), claim_step("submit", "draft", {}, "submitted")),
    Endpoint(
        "approve claim", {"Reviewer"}, set(), claim_step("approve", "submitted", {}, "approved")
    ),
    Endpoint(
        "reject claim",
        {"Reviewer"},
        set(),
        claim_step("reject", "submitted", {"reason": "copies"}, "rejected"),
    ),
    Endpoint(
        "pay claim",
        {"Supervisor"},
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
    assert len(CELLS) == len(ENDPOINTS) * len(ROLES) * 2 == 184
