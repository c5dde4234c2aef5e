"""Writes: registering a case, editing it, and every workflow step, each atomic and audited."""

import datetime
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from audit.chain import chain_append, lock_chain_head
from audit.models import AccessKind, PersonalDataAccess
from audit.services import _apply_changes, audit_record, field_snapshot, snapshot_changes
from common.exceptions import ObjectNotFound, Refusal
from common.id_numbers import id_number_digest, mask_id_number, normalize_id_number
from common.text import required_text
from offices.models import Office
from workflow.services import LOCKED, WorkflowError, run_transition
from workflow.transitions import field_locks, transition_label

from .case_workflow import CASE_WORKFLOW, CaseFlag, CaseState, Collector, LossReportKind
from .deadlines import service_due_on
from .id_number_claims import BEING_REGISTERED, claim_id_numbers
from .models import (
    CASE_EDITABLE_FIELDS,
    Applicant,
    CardBatch,
    CaseSequence,
    DocumentPromise,
    ReissueCase,
)
from .permissions import (
    access_applicant_for_action,
    access_case_for_action,
    access_office_for_registration,
    can_see_full_id_number,
    scope_applicants,
    scope_cases,
)
from .registration import (
    MESSAGES,
    OPEN_CASE,
    Registration,
    check_registration,
    known_number,
)


class SearchLimitReached(Exception):
    """The user made as many searches by ID number as the window allows; the message says so."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Registration -------------------------------------------------------------------------------


def format_case_reference(office_code: str, year: int, number: int) -> str:
    """Return the reference of an office's case of the year, for example DC-2026-000042."""
    return f"{office_code}-{year}-{number:06d}"


def _next_reference(office: Office) -> str:
    """Return the next case reference of the office, for example DC-2026-000042."""
    year = timezone.localdate().year
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create(
        office=office, year=year
    )
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return format_case_reference(office.code, year, sequence.last_number)


def _save_applicant(registration: Registration, *, acting_user: AbstractUser) -> Applicant:
    """Save a new applicant, or a known one's new contact details with an audit entry."""
    applicant = registration.applicant
    if registration.is_new:
        try:
            with transaction.atomic():
                applicant.save()
        except IntegrityError as exc:
            # Another clerk registered this person a moment ago (the unique ID-number hash).
            raise ValidationError(
                _("Another clerk has just registered this person; look up their case instead.")
            ) from exc
    elif registration.contact_changes:
        applicant.save()
        audit_record(
            obj=applicant,
            case=None,
            action="edited",
            actor=acting_user,
            changes=registration.contact_changes,
        )
    return applicant


@transaction.atomic
def case_register(
    *, case: ReissueCase, applicant_fields: Mapping[str, Any], acting_user: AbstractUser
) -> ReissueCase:
    """Register a lost-card report: find or create the applicant, suspend the SS card, audit.

    `case` is an unsaved case with the report's fields filled in (office, what was lost, ...);
    what it must pass is `registration.check_registration`'s.
    """
    access_office_for_registration(acting_user, case.office)
    # The number first, before any lock: an import writing the same person refuses it then,
    # and neither waits for the other (id_number_claims). A blank number is refused by the
    # check below; claiming it would make every blank form wait for every other.
    id_number = normalize_id_number(applicant_fields.get("id_number") or "")
    if id_number and claim_id_numbers([id_number_digest(id_number)]):
        raise ValidationError(BEING_REGISTERED)
    known = known_number(
        id_number=applicant_fields["id_number"], acting_user=acting_user, lock=True
    )
    registration = check_registration(
        case=case,
        applicant_fields=applicant_fields,
        known=known,
        acting_user=acting_user,
        reported_at=timezone.now(),
    )
    # The office's sequence before the audit chain's head (taken by a known applicant's
    # "edited" entry), as the import takes them: the other order deadlocks with it.
    case.reference = _next_reference(case.office)
    case.applicant = _save_applicant(registration, acting_user=acting_user)
    case.sms_told_at = timezone.now()  # the form tells the clerk to say it (sms_opt_out)
    if case.loss_report_kind == LossReportKind.TEMPORARY:
        # Only a suspension for now: it lapses unless made formal (case_workflow).
        ReissueCase._meta.get_field("state").set_state(case, CaseState.REPORTED_TEMPORARILY)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:
        # Another clerk registered the same applicant a moment ago.
        raise ValidationError(MESSAGES[OPEN_CASE]) from exc
    audit_record(
        obj=case, case=case, action="registered", actor=acting_user, target_state=case.state
    )
    return case


# Editing -------------------------------------------------------------------------------------


def lock_case_for(*, case: ReissueCase, acting_user: AbstractUser) -> ReissueCase:
    """Return a fresh, row-locked copy of the case after checking the user works in its office."""
    # The applicant and office read with it (a step's SMS notice names both: two queries
    # fewer); only the case's own row is locked, as before.
    cases = ReissueCase.objects.select_related("applicant", "office")
    locked = cases.select_for_update(of=("self",)).get(pk=case.pk)
    access_case_for_action(acting_user, locked)
    return locked


@transaction.atomic
def case_update(
    *, case: ReissueCase, acting_user: AbstractUser, data: Mapping[str, Any]
) -> ReissueCase:
    """Change the editable details of an open case (documents presented, agent, ...) and audit."""
    locked = lock_case_for(case=case, acting_user=acting_user)
    if not acting_user.has_perm("reissue.change_reissuecase"):
        raise PermissionDenied(_("You may not change cases."))
    if not locked.is_open:
        raise WorkflowError(_("A finished case can no longer be changed."))
    _refuse_fields_not_editable(locked, data)
    _refuse_locked_fields(locked, data)
    before = field_snapshot(locked)
    for field, value in data.items():
        setattr(locked, field, value)
    locked.full_clean()  # may clear more, such as the details of an agent no longer acting
    changes = snapshot_changes(before, field_snapshot(locked))
    if changes:
        locked.save()
        audit_record(obj=locked, case=locked, action="edited", actor=acting_user, changes=changes)
    return locked


class FieldsNotEditable(Refusal):
    """A change of fields a clerk never edits on a case's page (the office, a card number)."""


def case_fields_editable(case: ReissueCase) -> frozenset[str]:
    """Return the fields a clerk may change on the case in its state: none once finished.

    The change form's details, less what registration and the steps set, what never moves
    (office, applicant, reference) and what the steps already taken locked (`field_locks`,
    with the locks other apps' steps add, such as a submitted claim's date of loss).
    """
    if not case.is_open:
        return frozenset()
    never = {*CASE_WORKFLOW.set_fields, "office", "applicant", "reference"}
    return frozenset(CASE_EDITABLE_FIELDS) - never - set(field_locks(case))


def _refuse_fields_not_editable(case: ReissueCase, data: Mapping[str, Any]) -> None:
    # A locked field is left to _refuse_locked_fields: its old value is no change, a new one
    # is refused by the step that locked it (the page may be older than the step).
    allowed = case_fields_editable(case) | set(field_locks(case))
    refused = [name for name in data if name not in allowed]
    if refused:
        raise FieldsNotEditable(
            _("Nothing was saved: %(fields)s cannot be changed on the case's page.")
            % {"fields": pgettext("list", ", ").join(_field_label(ReissueCase, n) for n in refused)}
        )


def _field_label(model: type[models.Model], name: str) -> str:
    try:
        return str(capfirst(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return name


def _refuse_locked_fields(case: ReissueCase, data: Mapping[str, Any]) -> None:
    """Refuse new values for what the steps taken relied on, and a loss after its cards."""
    locks = field_locks(case)
    errors = {
        name: ValidationError(
            _("%(field)s can no longer be changed: the step “%(step)s” has been taken.")
            % {
                "field": capfirst(ReissueCase._meta.get_field(name).verbose_name),
                "step": transition_label(locks[name]),
            },
            code=LOCKED,
        )
        for name, value in data.items()
        if name in locks and getattr(case, name) != value
    }
    issued = [d for d in (case.temp_card_issued_on, case.id_card_issued_on) if d is not None]
    loss_date = data.get("loss_date")
    if "loss_date" not in errors and loss_date and issued and loss_date > min(issued):
        errors["loss_date"] = _(
            "The date of loss cannot be after a card was issued for it (%(date)s)."
        ) % {"date": min(issued).isoformat()}
    if errors:
        raise ValidationError(errors)


APPLICANT_EDITABLE_FIELDS = ["name", "phone", "hukou_address", "hukou_police_station"]


@transaction.atomic
def applicant_update(
    *, applicant: Applicant, acting_user: AbstractUser, data: Mapping[str, Any]
) -> Applicant:
    """Change an applicant's name or contact details and audit the change."""
    if not acting_user.has_perm("reissue.change_applicant"):
        raise PermissionDenied(_("You may not change applicants."))
    locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
    access_applicant_for_action(acting_user, locked)
    refused = [name for name in data if name not in APPLICANT_EDITABLE_FIELDS]
    if refused:
        # The ID number (and what it gives: birth date, sex) is the person; it never changes.
        raise FieldsNotEditable(
            _("Nothing was saved: %(fields)s cannot be changed on the applicant's page.")
            % {"fields": pgettext("list", ", ").join(_field_label(Applicant, n) for n in refused)}
        )
    changes = _apply_changes(locked, data)
    if changes:
        locked.full_clean()
        locked.save()
        if "name" in changes:
            # The cases keep the name for their lists' search and sort (ReissueCase).
            ReissueCase.objects.filter(applicant=locked).update(applicant_name=locked.name)
        audit_record(obj=locked, case=None, action="edited", actor=acting_user, changes=changes)
    return locked


# Workflow steps ------------------------------------------------------------------------------


def _run_case_transition(
    *, case: ReissueCase, acting_user: AbstractUser, name: str, **options
) -> ReissueCase:
    """Lock the case, check the office, and take the step `name`, atomically."""
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        return run_transition(
            locked=locked, case=locked, acting_user=acting_user, name=name, **options
        )


def case_take_step(
    *, case: ReissueCase, acting_user: AbstractUser, name: str, **options
) -> ReissueCase:
    """Take a step that has no checks of its own; the form's inputs go to the transition.

    The service of a step whose declaration names none (case_workflow.CASE_WORKFLOW).
    """
    return _run_case_transition(case=case, acting_user=acting_user, name=name, **options)


def _not_before(day: datetime.date, earliest: datetime.date, what: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({"issued_on": _("The date cannot be in the future.")})
    if day < earliest:
        raise ValidationError({"issued_on": what})


def case_issue_temp_card(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    card_number: str,
    issued_on: datetime.date,
    **options,
) -> ReissueCase:
    """Record the temporary card (or paper collection certificate) that serves for doctor visits."""
    _not_before(issued_on, case.loss_date, _("The card cannot be issued before the loss."))
    return _run_case_transition(
        case=case,
        acting_user=acting_user,
        name="issue_temp_card",
        card_number=card_number.strip(),
        issued_on=issued_on,
        **options,
    )


def case_record_id_reissued(
    *, case: ReissueCase, acting_user: AbstractUser, issued_on: datetime.date, **options
) -> ReissueCase:
    """Record the new ID card issued by the police station of household registration."""
    _not_before(issued_on, case.loss_date, _("The new ID card cannot predate the loss."))
    return _run_case_transition(
        case=case,
        acting_user=acting_user,
        name="record_id_reissued",
        issued_on=issued_on,
        **options,
    )


def _refuse_temp_card_kept(case: ReissueCase, temp_card_returned: bool) -> None:
    if case.temp_card_number and not case.temp_card_returned and not temp_card_returned:
        raise WorkflowError(_("A temporary card was issued: take it back before handing over."))


def _fee(case: ReissueCase, fee_charged: Decimal | None, fee_waiver_reason: str):
    """Return (fee, reason) per the case's rules: the city's fee, or less with a reason."""
    fee = case.rules.card_fee if fee_charged is None else fee_charged
    reason = fee_waiver_reason.strip()
    if fee < 0 or fee > case.rules.card_fee:
        raise ValidationError(
            {
                "fee_charged": _("The card fee is ¥%(fee)s at most (the city's rules).")
                % {"fee": case.rules.card_fee}
            }
        )
    if fee < case.rules.card_fee and not reason:
        raise ValidationError({"fee_waiver_reason": _("Say why the fee is waived.")})
    return fee, reason if fee < case.rules.card_fee else ""


def case_reissue_ss_card(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    card_number: str,
    issued_on: datetime.date,
    fee_charged: Decimal | None = None,
    fee_waiver_reason: str = "",
    temp_card_returned: bool = False,
    **options,
) -> ReissueCase:
    """Make the new SS card at the counter and hand it over (instant issuance, 即时制卡)."""
    _not_before(issued_on, case.loss_date, _("The new SS card cannot predate the loss."))
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        _refuse_temp_card_kept(locked, temp_card_returned)
        fee, reason = _fee(locked, fee_charged, fee_waiver_reason)
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="reissue_ss_card",
            card_number=card_number.strip(),
            issued_on=issued_on,
            fee_charged=fee,
            fee_waiver_reason=reason,
            temp_card_returned=temp_card_returned,
            **options,
        )


def format_batch_reference(office_code: str, year: int, number: int) -> str:
    """Return a card batch's reference, for example DC-P2026-0007."""
    return f"{office_code}-P{year}-{number:04d}"


def open_card_batch(office: Office) -> CardBatch:
    """Return the office's batch taking orders, opening one (row-locked) if there is none."""
    batch = (
        CardBatch.objects.select_for_update().filter(office=office, sent_at__isnull=True).first()
    )
    if batch is not None:
        return batch
    year = timezone.localdate().year
    number = CardBatch.objects.filter(office=office, created_at__year=year).count() + 1
    try:
        with transaction.atomic():
            return CardBatch.objects.create(
                office=office, reference=format_batch_reference(office.code, year, number)
            )
    except IntegrityError:
        # Another clerk opened it a moment ago.
        return CardBatch.objects.select_for_update().get(office=office, sent_at__isnull=True)


def case_order_card(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    ordered_on: datetime.date,
    fee_charged: Decimal | None = None,
    fee_waiver_reason: str = "",
    **options,
) -> ReissueCase:
    """Order the new SS card from the card bank: the case joins its office's open batch."""
    _not_before(ordered_on, case.loss_date, _("The card cannot be ordered before the loss."))
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        fee, reason = _fee(locked, fee_charged, fee_waiver_reason)
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="order_card",
            batch=open_card_batch(locked.office),
            ordered_on=ordered_on,
            fee_charged=fee,
            fee_waiver_reason=reason,
            **options,
        )


def case_record_card_produced(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    card_number: str,
    produced_on: datetime.date,
    **options,
) -> ReissueCase:
    """Record the card the card bank made for the case (a row of its return file)."""
    _not_before(produced_on, case.card_ordered_on or case.loss_date, _("Not before the order."))
    return _run_case_transition(
        case=case,
        acting_user=acting_user,
        name="record_card_produced",
        card_number=card_number.strip(),
        produced_on=produced_on,
        **options,
    )


def case_record_card_arrived(
    *, case: ReissueCase, acting_user: AbstractUser, arrived_on: datetime.date, **options
) -> ReissueCase:
    """Record that the new card reached the office: the citizen can collect it."""
    _not_before(
        arrived_on, case.card_produced_on or case.loss_date, _("Not before it was produced.")
    )
    return _run_case_transition(
        case=case,
        acting_user=acting_user,
        name="record_card_arrived",
        arrived_on=arrived_on,
        **options,
    )


def case_collect_card(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    collected_by: str,
    collector_name: str,
    collector_id_checked: bool,
    collected_on: datetime.date,
    temp_card_returned: bool = False,
    **options,
) -> ReissueCase:
    """Hand the new card over to the citizen or their agent, the collector's ID checked; its
    SS function works from now (the bank function is activated at the bank)."""
    _not_before(collected_on, case.card_arrived_on or case.loss_date, _("Not before it arrived."))
    collector_name = required_text(
        collector_name, field="collector_name", message=_("Give the collector's name.")
    )
    if collected_by not in Collector.values:
        raise ValidationError({"collected_by": _("Say who collects the card.")})
    if not collector_id_checked:
        raise ValidationError(
            {"collector_id_checked": _("Check the collector's ID card before handing over.")}
        )
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        if collected_by == Collector.AGENT and not locked.agent_acts:
            raise ValidationError(
                {"collected_by": _("No agent is recorded on the case: record the agent first.")}
            )
        _refuse_temp_card_kept(locked, temp_card_returned)
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="collect_card",
            collected_on=collected_on,
            collected_by=collected_by,
            collector_name=collector_name,
            temp_card_returned=temp_card_returned,
            **options,
        )


def case_formalize_loss_report(
    *, case: ReissueCase, acting_user: AbstractUser, **options
) -> ReissueCase:
    """Make a temporary loss report formal at the counter (identity proven on the case): the
    card stays suspended, the old card's cancellation and the service deadline start today."""
    today = timezone.localdate()
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        rules = locked.rules
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="formalize_loss_report",
            # Only a lost SS card is cancelled (as at registration: fill_report_clocks).
            old_card_cancel_on=(
                today + datetime.timedelta(days=rules.old_card_cancelled_after_days)
                if locked.ss_card_lost
                else None
            ),
            service_due_on=service_due_on(today, rules),
            **options,
        )


def case_extend_temp_card(
    *, case: ReissueCase, acting_user: AbstractUser, valid_until: datetime.date, **options
) -> ReissueCase:
    """Extend the temporary card's validity, up to the city's longest from its issue."""
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        latest = locked.temp_card_latest_valid_until()
        current = locked.temp_card_valid_until
        if latest is not None and valid_until > latest:
            raise ValidationError(
                {
                    "valid_until": _("At most %(date)s (the city's longest validity).")
                    % {"date": latest.isoformat()}
                }
            )
        if current is not None and valid_until <= current:
            raise ValidationError(
                {
                    "valid_until": _("Give a day after %(date)s, its validity now.")
                    % {"date": current.isoformat()}
                }
            )
        if valid_until < timezone.localdate():
            raise ValidationError({"valid_until": _("The date cannot be in the past.")})
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="extend_temp_card",
            valid_until=valid_until,
            **options,
        )


def case_change_sms_choice(
    *, case: ReissueCase, acting_user: AbstractUser, opt_out: bool, **options
) -> ReissueCase:
    """Record that the citizen now does (or does not) want SMS notices, told now; the
    notices still queued of a citizen who opted out are then not sent (notices.py's hook)."""
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        if locked.sms_opt_out == opt_out:
            raise ValidationError(
                {
                    "opt_out": _("The citizen already does not want SMS notices.")
                    if opt_out
                    else _("The citizen already gets SMS notices.")
                }
            )
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="change_sms_choice",
            opt_out=opt_out,
            told_at=timezone.now(),
            **options,
        )


# Documents accepted as missing (容缺受理) ----------------------------------------------------


@transaction.atomic
def case_promise_document(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    document: str,
    due_on: datetime.date,
) -> DocumentPromise:
    """Accept the case with a secondary document missing, on the citizen's signed promise to
    bring it by `due_on` (no later than the service deadline)."""
    locked = lock_case_for(case=case, acting_user=acting_user)
    if not acting_user.has_perm("reissue.change_reissuecase"):
        raise PermissionDenied(_("You may not change cases."))
    if not locked.is_open:
        raise WorkflowError(_("A finished case can no longer be changed."))
    today = timezone.localdate()
    if due_on < today:
        raise ValidationError({"due_on": _("The date cannot be in the past.")})
    if locked.service_due_on is not None and due_on > locked.service_due_on:
        raise ValidationError(
            {
                "due_on": _("No later than the service deadline, %(date)s.")
                % {"date": locked.service_due_on.isoformat()}
            }
        )
    promise = DocumentPromise(case=locked, document=document, promised_on=today, due_on=due_on)
    promise.full_clean()
    promise.save()
    audit_record(
        obj=locked,
        case=locked,
        action="document_promised",
        actor=acting_user,
        changes={"document": [None, promise.get_document_display()], "due_on": [None, str(due_on)]},
    )
    return promise


@transaction.atomic
def case_record_document_received(
    *, promise: DocumentPromise, acting_user: AbstractUser, received_on: datetime.date
) -> DocumentPromise:
    """Record a promised document brought: the service deadline is counted again from today."""
    locked_case = lock_case_for(case=promise.case, acting_user=acting_user)
    if not acting_user.has_perm("reissue.change_reissuecase"):
        raise PermissionDenied(_("You may not change cases."))
    if not locked_case.is_open:
        raise WorkflowError(_("A finished case can no longer be changed."))
    locked = DocumentPromise.objects.select_for_update().get(pk=promise.pk)
    if locked.received_on is not None:
        raise WorkflowError(_("This document has already been recorded."))
    if received_on > timezone.localdate() or received_on < locked.promised_on:
        raise ValidationError(
            {
                "received_on": _("Give a day from the promise (%(date)s) to today.")
                % {"date": locked.promised_on.isoformat()}
            }
        )
    locked.received_on = received_on
    locked.save(update_fields=["received_on"])
    before = locked_case.service_due_on
    if locked_case.state in CASE_WORKFLOW.flagged(CaseFlag.AWAITS_NEW_CARD):
        locked_case.service_due_on = service_due_on(received_on, locked_case.rules)
        locked_case.save(update_fields=["service_due_on"])
    audit_record(
        obj=locked_case,
        case=locked_case,
        action="document_received",
        actor=acting_user,
        changes={
            "document": [None, locked.get_document_display()],
            "service_due_on": [str(before) if before else None, str(locked_case.service_due_on)],
        },
    )
    return locked


def case_reimburse(*, case: ReissueCase, acting_user: AbstractUser, **options) -> ReissueCase:
    """Finish the case once its expense claim has been paid."""
    return _run_case_transition(case=case, acting_user=acting_user, name="reimburse", **options)


def case_close(*, case: ReissueCase, acting_user: AbstractUser, **options) -> ReissueCase:
    """Finish the case when there is nothing to reimburse."""
    return _run_case_transition(case=case, acting_user=acting_user, name="close", **options)


def case_cancel(
    *, case: ReissueCase, acting_user: AbstractUser, reason: str, **options
) -> ReissueCase:
    """Cancel an open case, for example because the card was found."""
    reason = required_text(reason, field="reason", message=_("Give the reason for cancelling."))
    return _run_case_transition(
        case=case, acting_user=acting_user, name="cancel", reason=reason, **options
    )


def case_lift_loss_report(
    *,
    case: ReissueCase,
    acting_user: AbstractUser,
    reason: str,
    temp_card_returned: bool = False,
    **options,
) -> ReissueCase:
    """Lift the SS card's loss report (解挂): the card was found before a new one was made, so
    it works again and the case ends. A temporary card issued meanwhile must be handed back."""
    reason = required_text(reason, field="reason", message=_("Say how the card was found."))
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        if locked.temp_card_number and not temp_card_returned:
            raise WorkflowError(
                _("A temporary card was issued: take it back before lifting the loss report.")
            )
        return run_transition(
            locked=locked,
            case=locked,
            acting_user=acting_user,
            name="lift_loss_report",
            reason=reason,
            temp_card_returned=temp_card_returned,
            **options,
        )


class RevealedNumber(StrEnum):
    """A personal number shown masked that a user may look at in full (the value: its URL)."""

    APPLICANT_ID_NUMBER = "applicant"
    AGENT_ID_NUMBER = "agent"


# Where each number is kept, from the case or the applicant it is looked at on: (record, field).
NUMBER_LOCATIONS = {
    (ReissueCase, RevealedNumber.APPLICANT_ID_NUMBER): lambda case: (case.applicant, "id_number"),
    (ReissueCase, RevealedNumber.AGENT_ID_NUMBER): lambda case: (case, "agent_id_number"),
    (Applicant, RevealedNumber.APPLICANT_ID_NUMBER): lambda person: (person, "id_number"),
}


def number_location(
    obj: ReissueCase | Applicant, number: RevealedNumber
) -> tuple[models.Model, str]:
    """Return (the record that keeps `number`, its field), seen from a case or an applicant."""
    locate = NUMBER_LOCATIONS.get((type(obj), number))
    if locate is None:
        raise ObjectNotFound(_("Not found."))  # an applicant has no agent
    return locate(obj)


def _visible_for_reveal(
    *, case: ReissueCase | None, applicant: Applicant | None, acting_user: AbstractUser
) -> ReissueCase | Applicant:
    # Read again, within the user's offices: the number comes from the stored row, whatever
    # object the caller held.
    if (case is None) == (applicant is None):
        raise TypeError("Give the case or the applicant.")
    if case is not None:
        found = scope_cases(ReissueCase.objects.select_related("applicant"), acting_user)
        found = found.filter(pk=case.pk).first()
    else:
        found = scope_applicants(Applicant.objects.filter(pk=applicant.pk), acting_user).first()
    if found is None:
        raise ObjectNotFound(_("Not found."))
    return found


@transaction.atomic
def personal_data_reveal(
    *,
    case: ReissueCase | None = None,
    applicant: Applicant | None = None,
    number: RevealedNumber,
    acting_user: AbstractUser,
    reason: str,
) -> str:
    """Return a full number of a case or an applicant after logging who looked, when and why."""
    if not can_see_full_id_number(acting_user):
        raise PermissionDenied(_("You may not see full ID numbers."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for looking.")})
    found = _visible_for_reveal(case=case, applicant=applicant, acting_user=acting_user)
    record, field = number_location(found, RevealedNumber(number))
    chain_append(
        PersonalDataAccess(
            kind=AccessKind.REVEAL,
            actor=acting_user,
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            case=found if case is not None else None,
            field=field,
            reason=reason.strip(),
        )
    )
    return getattr(record, field)


@transaction.atomic
def id_number_search_record(
    *, acting_user: AbstractUser, id_number: str, where: str
) -> PersonalDataAccess:
    """Log a search by a whole ID number in the access log, within the user's search budget.

    Raise SearchLimitReached, logging nothing, once the user made ID_NUMBER_SEARCH_LIMIT
    searches in the last ID_NUMBER_SEARCH_WINDOW seconds: guessing a hidden number one try
    at a time then takes days, in plain sight. The budget is counted from the log itself, so
    it holds across app servers; the chain's lock makes the count and the append one step.
    """
    lock_chain_head(PersonalDataAccess.CHAIN)
    limit, window = settings.ID_NUMBER_SEARCH_LIMIT, settings.ID_NUMBER_SEARCH_WINDOW
    since = timezone.now() - datetime.timedelta(seconds=window)
    made = PersonalDataAccess.objects.filter(
        actor=acting_user, kind=AccessKind.SEARCH, at__gte=since
    ).count()
    if made >= limit:
        raise SearchLimitReached(
            _(
                "You have searched by ID number %(limit)d times in the last %(minutes)d minutes, "
                "the most allowed. Search by name or reference, or try again later."
            )
            % {"limit": limit, "minutes": max(window // 60, 1)}
        )
    return chain_append(
        PersonalDataAccess(
            kind=AccessKind.SEARCH,
            actor=acting_user,
            field="id_number",
            reason=_("search by ID number %(number)s (%(where)s)")
            % {"number": mask_id_number(id_number), "where": where},
        )
    )
