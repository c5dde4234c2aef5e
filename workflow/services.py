"""Taking a workflow step: checked against the state after a row lock, saved within the
model's constraints, and audited. Shared by every FSM model (cases, claims, incidents)."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, field_snapshot, snapshot_changes
from common.exceptions import Refusal

from .registry import step_hooks
from .transitions import blocking_reasons, transition_label, transition_named

# The code of a refusal to change what a step taken relied on (a step taken meanwhile).
LOCKED = "locked"


class WorkflowError(Refusal):
    """A step that cannot be taken now; the message is written for the clerk."""


def save_within_constraints(instance: models.Model) -> None:
    """Save a validated instance; a constraint broken meanwhile becomes full_clean()'s error.

    `full_clean()` checks the constraints, but another clerk may commit the same SS card
    number between that check and this save. The save then fails in the database; by then
    the other row is committed, so checking again gives the clerk the same field error as
    when the two had not crossed.
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        try:
            instance.validate_unique()
            instance.validate_constraints()
        except ValidationError as error:
            raise error from exc
        raise ValidationError(
            _("Someone else saved the same details at this very moment; please look again.")
        ) from exc


def run_transition(
    *,
    locked: models.Model,
    case: models.Model | None,
    acting_user: AbstractUser,
    name: str,
    expected_state: str | None = None,
    comment: str = "",
    **arguments: Any,
) -> models.Model:
    """Take one workflow step on an already row-locked object, save it and audit it.

    Call inside `transaction.atomic()`. The state is checked after the lock, so of two users
    acting at once exactly one succeeds; the other gets a WorkflowError it can read.
    """
    if expected_state is not None and locked.state != expected_state:
        raise WorkflowError(
            _(
                "Someone else changed this meanwhile: it is now “%(state)s”. "
                "Please look at it again."
            )
            % {"state": locked.get_state_display()}
        )
    step = transition_named(locked, name)
    if step is None:
        raise WorkflowError(
            _("In state “%(state)s” this step cannot be taken.")
            % {"state": locked.get_state_display()}
        )
    if not step.has_perm(locked, acting_user):
        raise PermissionDenied(
            _("You may not take the step “%(step)s”.") % {"step": transition_label(step)}
        )
    reasons = blocking_reasons(step, locked)
    if reasons:
        raise WorkflowError(" ".join(reasons))
    source, before = locked.state, field_snapshot(locked)
    getattr(locked, name)(**arguments)
    changes = snapshot_changes(before, field_snapshot(locked), model=type(locked))
    _clean_what_the_step_set(locked, set(changes) | {"state"})
    save_within_constraints(locked)
    audit_record(
        obj=locked,
        case=case,
        action=name,
        actor=acting_user,
        source_state=source,
        target_state=locked.state,
        comment=comment,
        changes=changes,
    )
    for hook in step_hooks(locked, name):  # in this transaction: it stands or falls with the step
        hook(locked, case=case)
    return locked


def _clean_what_the_step_set(instance: models.Model, changed: set[str]) -> None:
    """Validate the fields a step set and the model's own rules, not every column again.

    The rest was valid when it was saved. Constraints are left to the database: a step that
    breaks one fails its save, and `save_within_constraints` gives the clerk full_clean()'s
    message then (a query per constraint on every step cost a third of its time).
    """
    unchanged = [f.name for f in instance._meta.concrete_fields if f.name not in changed]
    instance.full_clean(exclude=unchanged, validate_unique=False, validate_constraints=False)
