"""Writes: registering a case, editing it, and every workflow step, each atomic and audited."""

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.chain import chain_append, lock_chain_head
from audit.models import AccessKind, PersonalDataAccess
from audit.services import _apply_changes, audit_record, field_snapshot, snapshot_changes
from common.id_numbers import (
    mask_id_number,
)
from common.text import required_text
from offices.models import Office
from workflow.services import LOCKED, WorkflowError, run_transition
from workflow.transitions import field_locks, transition_label

from .models import Applicant, CaseSequence, ReissueCase
from .permissions import (
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


def _save_applicant(registration: Registration, *, acting_user) -> Applicant:
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
    *, case: ReissueCase, applicant_fields: Mapping[str, Any], acting_user
) -> ReissueCase:
    """Register a lost-card report: find or create the applicant, suspend the SS card, audit.

    `case` is an unsaved case with the report's fields filled in (office, what was lost, ...);
    what it must pass is `registration.check_registration`'s.
    """
    access_office_for_registration(acting_user, case.office)
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
    case.applicant = _save_applicant(registration, acting_user=acting_user)
    case.reference = _next_reference(case.office)
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


def lock_case_for(*, case: ReissueCase, acting_user) -> ReissueCase:
    """Return a fresh, row-locked copy of the case after checking the user works in its office."""
    locked = ReissueCase.objects.select_for_update().get(pk=case.pk)
    access_case_for_action(acting_user, locked)
    return locked


@transaction.atomic
def case_update(*, case: ReissueCase, acting_user, data: Mapping[str, Any]) -> ReissueCase:
    """Change the editable details of an open case (documents presented, agent, ...) and audit."""
    locked = lock_case_for(case=case, acting_user=acting_user)
    if not acting_user.has_perm("reissue.change_reissuecase"):
        raise PermissionDenied(_("You may not change cases."))
    if not locked.is_open:
        raise WorkflowError(_("A finished case can no longer be changed."))
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


@transaction.atomic
def applicant_update(*, applicant: Applicant, acting_user, data: Mapping[str, Any]) -> Applicant:
    """Change an applicant's name or contact details and audit the change."""
    if not acting_user.has_perm("reissue.change_applicant"):
        raise PermissionDenied(_("You may not change applicants."))
    locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
    changes = _apply_changes(locked, {k: v for k, v in data.items() if k != "id_number"})
    if changes:
        locked.full_clean()
        locked.save()
        audit_record(obj=locked, case=None, action="edited", actor=acting_user, changes=changes)
    return locked


# Workflow steps ------------------------------------------------------------------------------


def _run_case_transition(*, case: ReissueCase, acting_user, name: str, **options) -> ReissueCase:
    """Lock the case, check the office, and take the step `name`, atomically."""
    with transaction.atomic():
        locked = lock_case_for(case=case, acting_user=acting_user)
        return run_transition(
            locked=locked, case=locked, acting_user=acting_user, name=name, **options
        )


def _not_before(day: datetime.date, earliest: datetime.date, what: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({"issued_on": _("The date cannot be in the future.")})
    if day < earliest:
        raise ValidationError({"issued_on": what})


def case_issue_temp_card(
    *, case: ReissueCase, acting_user, card_number: str, issued_on: datetime.date, **options
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
    *, case: ReissueCase, acting_user, issued_on: datetime.date, **options
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


def case_reissue_ss_card(
    *, case: ReissueCase, acting_user, card_number: str, issued_on: datetime.date, **options
) -> ReissueCase:
    """Record the new social security card."""
    _not_before(issued_on, case.loss_date, _("The new SS card cannot predate the loss."))
    return _run_case_transition(
        case=case,
        acting_user=acting_user,
        name="reissue_ss_card",
        card_number=card_number.strip(),
        issued_on=issued_on,
        **options,
    )


def case_reimburse(*, case: ReissueCase, acting_user, **options) -> ReissueCase:
    """Finish the case once its expense claim has been paid."""
    return _run_case_transition(case=case, acting_user=acting_user, name="reimburse", **options)


def case_close(*, case: ReissueCase, acting_user, **options) -> ReissueCase:
    """Finish the case when there is nothing to reimburse."""
    return _run_case_transition(case=case, acting_user=acting_user, name="close", **options)


def case_cancel(*, case: ReissueCase, acting_user, reason: str, **options) -> ReissueCase:
    """Cancel an open case, for example because the card was found."""
    reason = required_text(reason, field="reason", message=_("Give the reason for cancelling."))
    return _run_case_transition(
        case=case, acting_user=acting_user, name="cancel", reason=reason, **options
    )


CASE_STEP_SERVICES = {
    "issue_temp_card": case_issue_temp_card,
    "record_id_reissued": case_record_id_reissued,
    "reissue_ss_card": case_reissue_ss_card,
    "reimburse": case_reimburse,
    "close": case_close,
    "cancel": case_cancel,
}


@transaction.atomic
def personal_data_reveal(
    *, record: models.Model, field: str, case: ReissueCase | None, acting_user, reason: str
) -> str:
    """Return a full ID number after logging who looked, at which record, when and why."""
    if not can_see_full_id_number(acting_user):
        raise PermissionDenied(_("You may not see full ID numbers."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for looking.")})
    visible = (
        scope_cases(ReissueCase.objects.filter(pk=case.pk), acting_user)
        if case is not None
        else scope_applicants(Applicant.objects.filter(pk=record.pk), acting_user)
    )
    if not visible.exists():
        raise Http404(_("Not found."))
    chain_append(
        PersonalDataAccess(
            kind=AccessKind.REVEAL,
            actor=acting_user,
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            case=case,
            field=field,
            reason=reason.strip(),
        )
    )
    return getattr(record, field)


@transaction.atomic
def id_number_search_record(*, acting_user, id_number: str, where: str) -> PersonalDataAccess:
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
