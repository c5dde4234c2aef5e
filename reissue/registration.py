"""The rules of registering a lost-card report, in one place.

The registration form (`forms.CaseRegistrationForm`), the service (`services.case_register`)
and the legacy import (`legacy_import`) check a report with `check_registration`: the
applicant's details as `Applicant` checks them (the ID number, GB 11643; the name; the phone),
the report's as `ReissueCase` checks them (a loss date from 1984 to today, the agent's
details, what was lost), the loss against the birth date in the number given, and what is
known of the number (`KnownNumber`): one open case per applicant, the name it is registered
under, and one neutral answer about another office's applicant.

It neither queries nor writes: `known_numbers` reads the known numbers beforehand, for one
report or a batch of a thousand rows in the same few queries. Who may register in an office
is `permissions.access_office_for_registration`, asked by the service and the import alike.
"""

import datetime
import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.services import snapshot_changes
from common.id_numbers import birth_date_from_id_number, id_number_digest, sex_from_id_number
from common.instances import new_instance

from .case_workflow import CASE_WORKFLOW
from .models import CASE_EDITABLE_FIELDS, Applicant, ReissueCase, validate_loss_date
from .permissions import scope_applicants, scope_cases

APPLICANT_FIELDS = ["name", "id_number", "phone", "hukou_address", "hukou_police_station"]
# What a registration updates on a known applicant (the name and the number stay).
CONTACT_FIELDS = ["phone", "hukou_address", "hukou_police_station"]
# The case's fields a report gives; registering sets a few more, the workflow the others.
# (Whether the report is temporary or formal, and how it came, is said once, at registration.)
REPORT_FIELDS = ["office", "loss_report_kind", "reported_via", *CASE_EDITABLE_FIELDS]

OPEN_CASE = "open_case"
NOT_HERE = "not_here"
MESSAGES = {
    OPEN_CASE: _("This applicant already has an open case; continue that case instead."),
    NOT_HERE: _(
        "This ID number cannot be registered here. Ask your supervisor, who can clear it "
        "with the other offices."
    ),
}


@dataclass(frozen=True)
class KnownNumber:
    """What registering may know of the applicant an ID number is registered for already."""

    applicant: Applicant
    seen_here: bool  # one of its cases is in an office the user sees
    open_case: bool  # it has an open case, in any office
    open_here: bool  # ... in an office the user sees


def known_numbers(
    *, id_number_hashes: Iterable[str], acting_user: AbstractUser, lock: bool = False
) -> dict[str, KnownNumber]:
    """Return {ID-number hash: KnownNumber} of the numbers registered already, in 4 queries,
    by the numbers' hashes (`id_number_digest`: an import has them already).

    `lock` row-locks the applicants until the transaction ends (registration updates them).
    """
    applicants = Applicant.objects.filter(id_number_hash__in=set(id_number_hashes))
    found = {a.pk: a for a in (applicants.select_for_update() if lock else applicants)}
    if not found:
        return {}
    open_cases = ReissueCase.objects.filter(
        applicant_id__in=found, state__in=CASE_WORKFLOW.open_states
    )
    open_ids = set(open_cases.values_list("applicant_id", flat=True))
    seen = scope_applicants(Applicant.objects.filter(pk__in=found), acting_user)
    seen_ids = set(seen.values_list("pk", flat=True))
    open_here = set(scope_cases(open_cases, acting_user).values_list("applicant_id", flat=True))
    return {
        a.id_number_hash: KnownNumber(a, pk in seen_ids, pk in open_ids, pk in open_here)
        for pk, a in found.items()
    }


def known_number(
    *, id_number: str, acting_user: AbstractUser, lock: bool = False
) -> KnownNumber | None:
    """Return what is known of the applicant registered under `id_number`, if any."""
    hashes = [id_number_digest(id_number)] if id_number else []
    found = known_numbers(id_number_hashes=hashes, acting_user=acting_user, lock=lock)
    return next(iter(found.values()), None)


@dataclass
class Registration:
    """A report that may be registered: its applicant, new or known, both unsaved.

    A known applicant carries the contact details given (`contact_changes`, for the audit).
    """

    applicant: Applicant
    contact_changes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.applicant.pk is None


def check_registration(
    *,
    case: ReissueCase,
    applicant_fields: Mapping[str, Any],
    known: KnownNumber | None,
    acting_user: AbstractUser,
    reported_at: datetime.datetime,
    refused: Collection[str] = (),
    cells_checked: bool = False,
) -> Registration:
    """Check a report for registering and fill in what registering sets on the case.

    `case` is unsaved, its office and report fields set; `known` is what `known_numbers`
    found for the number. Raise ValidationError({field: errors}) of every rule it breaks,
    leaving out `refused`: the fields the caller refused already (a cell it could not read,
    a form input), whose own rules and those that build on them are not checked again.

    `cells_checked` says that these very values passed this check already (the import's
    write pass, for a batch whose cells its check pass read the same): the rules that read
    nothing but them (the fields' validators, the loss against the birth date) are not run
    again; the objects are built as ever (the fields converted and normalized as
    `full_clean` converts them, the models' `clean`), and the known number is checked.
    """
    errors: dict[str, list[ValidationError]] = {}
    applicant = _typed_applicant(applicant_fields, refused, errors, cells_checked)
    _check_case(case, acting_user, reported_at, refused, errors, cells_checked)
    failed = {*refused, *errors}
    if not cells_checked and not {"loss_date", "id_number"} & failed:
        _check_loss_after_birth(case.loss_date, applicant.birth_date, errors)
    if known is not None and "id_number" not in failed:
        _check_known_number(known, "" if "name" in failed else applicant.name, errors)
    if errors:
        raise ValidationError(errors)
    if known is None:
        return Registration(applicant)
    return Registration(known.applicant, _take_contact_details(known.applicant, applicant))


def _typed_applicant(fields: Mapping[str, Any], refused, errors, cells_checked) -> Applicant:
    """Return the applicant as typed, checked as `Applicant.full_clean` checks it, unsaved."""
    applicant = new_instance(Applicant, **{name: fields.get(name, "") for name in APPLICANT_FIELDS})
    _full_clean(applicant, [*refused, "birth_date", "sex"], refused, errors, cells_checked)
    if "id_number" not in {*refused, *errors}:
        # What save() derives from the number; a bulk insert skips save(), and the loss is
        # checked against it.
        applicant.birth_date = birth_date_from_id_number(applicant.id_number)
        applicant.sex = sex_from_id_number(applicant.id_number)
    return applicant


@functools.cache
def _not_reported() -> tuple[str, ...]:
    """Return the case's fields a report does not give, and the office: no typed value but
    where the user acts, which the caller checks."""
    return (*(f.name for f in ReissueCase._meta.fields if f.name not in REPORT_FIELDS), "office")


def _check_case(
    case: ReissueCase, acting_user: AbstractUser, reported_at, refused, errors, cells_checked
) -> None:
    case.handled_by = acting_user
    case.reported_at = reported_at
    if case.ss_card_lost:
        # Suspended at once, so that nobody can use the lost card.
        case.ss_card_suspended_at = reported_at
    _full_clean(case, [*_not_reported(), *refused], refused, errors, cells_checked)


@functools.lru_cache(maxsize=128)  # a few sets of refused cells at most
def _converted_fields(model: type[models.Model], exclude: frozenset[str]) -> tuple:
    """The fields `Model.clean_fields(exclude)` converts: a case's ten of its 52 (the import
    asks for the same few sets, row after row)."""
    return tuple(f for f in model._meta.fields if f.name not in exclude and not f.generated)


def _full_clean(obj: models.Model, exclude, refused, errors, cells_checked: bool) -> None:
    """`obj.full_clean` (neither unique nor constraints: the caller checks the number); if
    its `cells_checked`, only what full_clean changes on the object: each field's value
    converted (a name normalized: `common.text.PlainCharField`), then the model's `clean`."""
    try:
        if not cells_checked:
            obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            return
        # As Model.clean_fields assigns each value, without the field's validation: these
        # values passed it, and it depends on them alone (and on today, for a date "in the
        # future": what passed before passes later). Neither model's validators query.
        for f in _converted_fields(type(obj), frozenset(exclude)):
            raw_value = getattr(obj, f.attname)
            if f.blank and raw_value in f.empty_values:
                continue
            setattr(obj, f.attname, f.to_python(raw_value))
        obj.clean()
    except ValidationError as exc:
        _merge(errors, exc, refused)


def _check_loss_after_birth(loss_date, birth_date, errors) -> None:
    # Only here, against the number given: checked against a stored number (on an edit), the
    # refusal would tell the birth date to someone who may not see it.
    if loss_date is None:
        return
    try:
        validate_loss_date(loss_date, birth_date=birth_date)
    except ValidationError as exc:
        errors.setdefault("loss_date", []).extend(exc.error_list)


def _check_known_number(known: KnownNumber, name: str, errors) -> None:
    """Refuse an open case and another name; of another office's applicant tell neither.

    Precise about what the user may know (an open case, an applicant of their own offices);
    about another office's applicant one answer whatever the reason, so that the number's
    existence elsewhere, the name it is registered under or its open case there do not leak.
    """
    try:
        if name:
            known.applicant.validate_name(name)
        other_name = None
    except ValidationError as exc:
        other_name = exc
    if (other_name and not known.seen_here) or (known.open_case and not known.open_here):
        errors.setdefault("id_number", []).append(ValidationError(MESSAGES[NOT_HERE], NOT_HERE))
        return
    if known.open_here:
        errors.setdefault("id_number", []).append(ValidationError(MESSAGES[OPEN_CASE], OPEN_CASE))
    if other_name:
        _merge(errors, other_name, ())


def _take_contact_details(known: Applicant, typed: Applicant) -> dict[str, list[str]]:
    """Give the known applicant the contact details typed; return the changes for the audit."""
    before = {name: getattr(known, name) for name in CONTACT_FIELDS}
    for name in CONTACT_FIELDS:
        setattr(known, name, getattr(typed, name))
    return snapshot_changes(before, {name: getattr(known, name) for name in CONTACT_FIELDS})


def _merge(errors: dict[str, list[ValidationError]], exc: ValidationError, refused) -> None:
    for name, found in exc.update_error_dict({}).items():
        if name in refused:
            continue
        shown = errors.setdefault(name, [])
        shown.extend(e for e in found if e.messages not in [s.messages for s in shown])
