"""Writes and reads of the city's case rules (`case_policy.CasePolicy`): saving a policy, the
dry run a supervisor sees before saving one, and the rules as a sentence.

A policy in force is never changed: the cases registered under it kept its values, and the
record of what was in force on a day must stay true. A new policy from a later day instead.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from audit.services import audit_record, field_snapshot, snapshot_changes
from common.display import format_yuan
from offices.scoping import can_act_in_office
from workdays.calendar import add_working_days
from workflow.services import WorkflowError

from .case_policy import CasePolicy, CaseRules, default_rules, lapse_moment
from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState
from .models import DocumentPromise, ReissueCase


def policy_in_force(policy: CasePolicy, today: datetime.date | None = None) -> bool:
    """Return whether the stored policy has started (and so may have cases under it)."""
    today = today or timezone.localdate()
    return policy.pk is not None and policy.effective_from <= today


@transaction.atomic
def case_policy_save(*, policy: CasePolicy, acting_user: AbstractUser) -> CasePolicy:
    """Add an office's case rules from a day on, or correct ones not yet in force; audited."""
    action = "add" if policy.pk is None else "change"
    if not acting_user.has_perm(f"reissue.{action}_casepolicy"):
        raise PermissionDenied(_("You may not set case rules."))
    if not can_act_in_office(acting_user, policy.office_id):
        raise PermissionDenied(_("You may not set the case rules of this office."))
    today = timezone.localdate()
    before = {}
    if policy.pk is not None:
        stored = CasePolicy.objects.select_for_update().get(pk=policy.pk)
        if policy_in_force(stored, today):
            raise WorkflowError(
                _(
                    "These rules have been in force since %(date)s and cases were handled under "
                    "them: add new rules from a later day instead."
                )
                % {"date": stored.effective_from.isoformat()}
            )
        if stored.office_id != policy.office_id:
            raise ValidationError({"office": _("The office of saved rules cannot be changed.")})
        before = field_snapshot(stored)
    if policy.effective_from is not None and policy.effective_from < today:
        raise ValidationError(
            {
                "effective_from": _(
                    "From today or a later day: the past was handled under the rules of its day."
                )
            }
        )
    policy.full_clean()
    policy.save()
    after = field_snapshot(policy)
    changes = snapshot_changes(before or dict.fromkeys(after), after, model=CasePolicy)
    audit_record(
        obj=policy,
        case=None,
        action="edited" if before else "added",
        actor=acting_user,
        changes=changes,
    )
    return policy


# The dry run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDryRun:
    """What the office's open cases would look like today under new rules, beside their own."""

    open_cases: int
    overdue_now: int
    overdue_under_new: int
    temp_cards_expired_now: int
    temp_cards_expired_under_new: int
    reports_lapsed_now: int
    reports_lapsed_under_new: int


def _deadline_start(case: dict) -> datetime.date | None:
    """The day the case's service deadline is counted from: its formal report, or the day a
    promised document arrived later (services.case_record_document_received)."""
    if case["formal_reported_on"] is None:
        return None
    start = case["formal_reported_on"]
    received = case["last_document_received_on"]
    return max(start, received) if received else start


def _temp_card_valid_until(case: dict, rules: CaseRules) -> datetime.date | None:
    """The temporary card's validity under `rules`: its first validity, or, if it was
    extended, the day it was extended to as far as the rules allow."""
    issued_on = case["temp_card_issued_on"]
    if issued_on is None:
        return None
    first = issued_on + datetime.timedelta(days=rules.temp_card_valid_days)
    kept_days = case["kept_valid_days"] or default_rules().temp_card_valid_days
    current = case["temp_card_valid_until"]
    if current is None or current <= issued_on + datetime.timedelta(days=kept_days):
        return first  # never extended
    longest = issued_on + datetime.timedelta(days=rules.temp_card_max_valid_days)
    return max(first, min(current, longest))


def policy_dry_run(
    *, policy: CasePolicy, now: datetime.datetime | None = None, acting_user: AbstractUser
) -> PolicyDryRun:
    """Count the office's open cases that would be overdue, whose temporary card would be
    expired and whose temporary report would have lapsed, had they been handled under the
    policy's values; and the same under the rules they keep. Nothing is changed."""
    if not can_act_in_office(acting_user, policy.office_id):
        raise PermissionDenied(_("You may not set the case rules of this office."))
    now = now or timezone.now()
    today = timezone.localdate(now)
    new = policy.rules()
    awaiting = set(CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD))
    holds_card = set(CASE_WORKFLOW.flagged(CaseFlag.HOLDS_TEMP_CARD))
    cases = (
        ReissueCase.objects.filter(office_id=policy.office_id, state__in=CASE_WORKFLOW.open_states)
        .annotate(
            formal_reported_on=TruncDate("formal_reported_at"),  # in the bureau's time zone
            kept_valid_days=Cast(KT("policy_values__temp_card_valid_days"), IntegerField()),
            last_document_received_on=Subquery(
                DocumentPromise.objects.filter(case=OuterRef("pk"), received_on__isnull=False)
                .order_by("-received_on")
                .values("received_on")[:1]
            ),
        )
        .values(
            "state",
            "reported_at",
            "formal_reported_on",
            "last_document_received_on",
            "service_due_on",
            "lapses_at",
            "temp_card_number",
            "temp_card_returned",
            "temp_card_issued_on",
            "temp_card_valid_until",
            "kept_valid_days",
        )
    )
    due_from: dict[datetime.date, datetime.date] = {}  # few distinct days: one count each
    lapses: dict[datetime.date, datetime.datetime] = {}  # (working days: one count per day)
    counts = dict.fromkeys(
        ["open", "overdue", "overdue_new", "expired", "expired_new", "lapsed", "lapsed_new"], 0
    )
    for case in cases.iterator(chunk_size=2000):
        counts["open"] += 1
        if case["state"] in awaiting:
            start = _deadline_start(case)
            if case["service_due_on"] is not None and case["service_due_on"] < today:
                counts["overdue"] += 1
            if start is not None:
                if start not in due_from:
                    due_from[start] = add_working_days(start, new.service_deadline_working_days)
                counts["overdue_new"] += due_from[start] < today
        if (
            case["state"] in holds_card
            and case["temp_card_number"]
            and not case["temp_card_returned"]
        ):
            if case["temp_card_valid_until"] and case["temp_card_valid_until"] < today:
                counts["expired"] += 1
            under_new = _temp_card_valid_until(case, new)
            counts["expired_new"] += under_new is not None and under_new < today
        if case["state"] == CaseState.REPORTED_TEMPORARILY:
            counts["lapsed"] += case["lapses_at"] is not None and case["lapses_at"] <= now
            if new.temporary_report_lapse_in_working_days:
                day = timezone.localdate(case["reported_at"])
                if day not in lapses:
                    lapses[day] = lapse_moment(case["reported_at"], new)
                moment = lapses[day]  # the end of a working day: the same for the whole day
            else:
                moment = lapse_moment(case["reported_at"], new)
            counts["lapsed_new"] += moment <= now
    return PolicyDryRun(
        open_cases=counts["open"],
        overdue_now=counts["overdue"],
        overdue_under_new=counts["overdue_new"],
        temp_cards_expired_now=counts["expired"],
        temp_cards_expired_under_new=counts["expired_new"],
        reports_lapsed_now=counts["lapsed"],
        reports_lapsed_under_new=counts["lapsed_new"],
    )


# The rules as a sentence ---------------------------------------------------------------------


def rules_summary(rules: CaseRules) -> str:
    """Return the rules a case is handled under as a sentence a clerk reads aloud."""
    separator = pgettext("list separator", ", ")
    if rules.temporary_report_lapse_in_working_days:
        lapse = ngettext(
            "a temporary loss report lapses after %(count)s working day",
            "a temporary loss report lapses after %(count)s working days",
            rules.temporary_report_lapse_days,
        )
    else:
        lapse = ngettext(
            "a temporary loss report lapses after %(count)s day",
            "a temporary loss report lapses after %(count)s days",
            rules.temporary_report_lapse_days,
        )
    parts = [
        lapse % {"count": rules.temporary_report_lapse_days},
        _("the old card is cancelled %(count)s days after a formal report")
        % {"count": rules.old_card_cancelled_after_days},
        _("a temporary card is valid %(valid)s days, extended to at most %(max)s days")
        % {"valid": rules.temp_card_valid_days, "max": rules.temp_card_max_valid_days},
        _("the new SS card within %(count)s working days")
        % {"count": rules.service_deadline_working_days},
        _("the police issue the new ID card within %(count)s days")
        % {"count": rules.id_card_issue_days},
        _("card fee %(fee)s") % {"fee": format_yuan(rules.card_fee)}
        + (
            _(" (waived for: %(groups)s)") % {"groups": separator.join(rules.fee_waivers)}
            if rules.fee_waivers
            else ""
        ),
        _("cards made at the counter")
        if rules.instant_issuance
        else _("cards ordered from the card bank"),
    ]
    since = (
        _("Rules in force from %(date)s") % {"date": rules.effective_from}
        if rules.effective_from
        else _("Default rules (no city rules entered)")
    )
    return _("%(since)s: %(rules)s.") % {"since": since, "rules": separator.join(parts)}
