"""The audit trail and the log of looks at personal data: chained, append-only records.

Entries are filed under a case (`settings.AUDIT_CASE_MODEL`, as `AUTH_USER_MODEL` names the
user model), so the case page lists its history and the trail is scoped by the case's office;
the audit app itself imports no domain app.
"""

import ast
import json
import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .chain import ChainedRecord, ChainHead  # noqa: F401 (ChainHead: a model of this app)


def audit_entry_content(entry) -> dict:
    """Return what an audit entry's hash covers (also used by the migration that re-chained
    the entries when the actor's name joined the hash)."""
    return {
        "case": entry.case_id,
        "content_type": entry.content_type_id,
        "object_id": entry.object_id,
        "action": entry.action,
        "source_state": entry.source_state,
        "target_state": entry.target_state,
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "at": entry.at.isoformat(),
        "comment": entry.comment,
        "changes": entry.changes,
    }


class AuditAction(models.TextChoices):
    """What an audit entry records, besides the workflow steps (whose names and labels the
    workflows register: `register_step_labels`)."""

    REGISTERED = "registered", _("registered")
    ADDED = "added", _("added")
    EDITED = "edited", _("edited")
    DELETED = "deleted", _("deleted")
    RECEIPT_ADDED = "receipt_added", _("receipt added")
    RECEIPT_CHANGED = "receipt_changed", _("receipt changed")
    RECEIPT_REMOVED = "receipt_removed", _("receipt removed")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("two-factor log-in set up")
    RECOVERY_CODES_GENERATED = "recovery_codes_generated", _("recovery codes made")
    TWO_FACTOR_RESET = "two_factor_reset", _("two-factor log-in reset")
    DOCUMENT_PROMISED = "document_promised", _("document accepted as missing, on a promise")
    DOCUMENT_RECEIVED = "document_received", _("document promised brought")
    DEADLINE_RECOUNTED = "deadline_recounted", _("service deadline counted again (calendar)")


# {model label ("reissue.reissuecase"): {step name: label}}, filled by the apps that declare
# workflows (their AppConfig.ready), read when an entry is shown.
_STEP_LABELS: dict[str, dict[str, Any]] = {}  # lazy labels: read in the user's language


def register_step_labels(model: type[models.Model], labels: dict[str, Any]) -> None:
    """Name the steps of `model`'s workflow, so its audit entries show labels, not codes."""
    _STEP_LABELS.setdefault(model._meta.label_lower, {}).update(labels)


def step_labels() -> dict[str, str]:
    """Return {step name: label} over every workflow; a name two share is labelled by both."""
    merged: dict[str, list[str]] = {}
    for labels in _STEP_LABELS.values():
        for name, label in labels.items():
            if str(label) not in merged.setdefault(name, []):
                merged[name].append(str(label))
    return {name: " / ".join(labels) for name, labels in merged.items()}


def action_label(model: type[models.Model] | None, action: str) -> str:
    """Return how a person reads `action` recorded on an object of `model`."""
    if action in AuditAction.values:
        return str(AuditAction(action).label)
    if model is not None:
        label = _STEP_LABELS.get(model._meta.label_lower, {}).get(action)
        if label is not None:
            return str(label)
    return action


class AuditEntry(ChainedRecord):
    """One recorded change: a registration, an edit or a transition. Never changed afterwards."""

    CHAIN = "audit"

    # Empty for changes to an applicant's own record, which belong to no single case.
    case = models.ForeignKey(
        settings.AUDIT_CASE_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("case"),
        db_index=False,  # audit_case_idx (case, at) serves its look-ups and PROTECT's check
    )
    # The case's office, kept on the entry so one office's trail is read through its own
    # indexes, not found among all entries through their cases (bench/lists.py). Filled when
    # the entry is written (`prepare_for_chain`); empty where the case is. Not in the hash: a
    # copy of what the hashed case tells (a case never changes office).
    office = models.ForeignKey(
        "offices.Office",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("office"),
        db_index=False,  # led by the office, the indexes below serve its look-ups
    )
    # Led by it, audit_object_idx serves its look-ups: one index less to keep on each entry.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)
    object_id = models.PositiveBigIntegerField()
    # An AuditAction or the name of a workflow step.
    action = models.CharField(_("action"), max_length=40)
    source_state = models.CharField(_("from state"), max_length=32, blank=True)
    target_state = models.CharField(_("to state"), max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # The user name at the time, in the hash: renaming users never changes who did what.
    actor_name = models.CharField(_("user name then"), max_length=150, blank=True, editable=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["at", "id"]
        default_permissions = ("view",)
        permissions = [("export_audit_trail", _("Can export the audit trail"))]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["case", "at"], name="audit_case_idx"),
            # The audit-trail list, in time order either way (a trail of millions of entries).
            models.Index(fields=["at", "id"], name="audit_time_idx"),
            # Filtered by action or by the state reached: a rare one is met only far down the
            # time index (bench/lists.py).
            models.Index(fields=["action", "at", "id"], name="audit_action_time_idx"),
            models.Index(fields=["target_state", "at", "id"], name="audit_target_time_idx"),
            # The same, for one office's trail (the list scoped to a supervisor's offices).
            models.Index(fields=["office", "at", "id"], name="audit_office_time_idx"),
            models.Index(
                fields=["office", "action", "at", "id"], name="audit_office_action_time_idx"
            ),
            models.Index(
                fields=["office", "target_state", "at", "id"], name="audit_office_target_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit entries cannot be deleted."))

    def chained_content(self) -> dict:
        return audit_entry_content(self)

    def prepare_for_chain(self) -> None:
        fill_actor_name(self)
        fill_office(self)

    def actor_display(self) -> str:
        return actor_display(self)

    def action_display(self) -> str:
        """Return the action as a person reads it: the step's label where it is a step."""
        return action_label(self.content_type.model_class(), self.action)

    def changes_display(self) -> list[tuple[str, str, str]]:
        """Return (field label, old, new) for each recorded change."""
        rows = []
        for name, (old, new) in self.changes.items():
            field = self._changed_field(name)
            if field is None:
                rows.append((name, old, new))
                continue
            # Choices are kept as stored values ("outpatient"); show them in the user's language.
            # (Not a relation's: its flatchoices would read the whole related table.)
            choices = () if field.is_relation else field.flatchoices
            labels = {str(value): str(label) for value, label in choices}
            shown = [labels.get(value, value) for value in (old, new)]
            if isinstance(field, models.JSONField):
                shown = [self._recorded_value_display(field, value) for value in shown]
            rows.append((str(field.verbose_name), *shown))
        return rows

    @staticmethod
    def _recorded_value_display(field, value: str) -> str:
        """Return a recorded JSON value (a claim's policy) as text: by its model's
        `audit_value_display` where it has one, else as "key: value, ..."."""
        data = recorded_data(value)
        if data is None:
            return value
        shown = getattr(field.model, "audit_value_display", lambda name, data: None)
        return shown(field.name, data) or plain_data_display(data)

    def _changed_field(self, name: str):
        # The object's own fields first, then those of its parts (a claim's receipts).
        model = self.content_type.model_class()
        for candidate in [model, *(rel.related_model for rel in model._meta.related_objects)]:
            try:
                return candidate._meta.get_field(name)
            except (FieldDoesNotExist, AttributeError):
                continue
        return None

    def source_state_display(self) -> str:
        return self._state_label(self.source_state)

    def target_state_display(self) -> str:
        return self._state_label(self.target_state)

    def _state_label(self, value: str) -> str:
        model = self.content_type.model_class()
        try:
            choices = dict(model._meta.get_field("state").choices)
        except FieldDoesNotExist:
            return value
        return str(choices.get(value, value))


# How Python wrote a TextChoices member inside a dict: ExpenseCategory.OUTPATIENT (its value
# is the member's name in lower case, "outpatient", in every choice of this project).
ENUM_REPR = re.compile(r"\b[A-Z][A-Za-z]+\.([A-Z][A-Z0-9_]*)\b")


def recorded_data(value: str):
    """Return the dict or list an audit entry recorded as text, or None if it is not one.

    Kept as JSON since the trail reads it back; entries from before kept Python's repr of the
    dict ("{'deductible': '100.00'}"), read as a literal (never evaluated).
    """
    if not isinstance(value, str) or not value.startswith(("{", "[")) or len(value) > 20_000:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        try:
            data = ast.literal_eval(ENUM_REPR.sub(lambda m: repr(m[1].lower()), value))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return data if isinstance(data, dict | list) else None


def plain_data_display(data) -> str:
    """Return recorded data as "key: value, key: (key: value)" for a person to read."""
    if isinstance(data, dict):
        return ", ".join(
            f"{key}: ({plain_data_display(value)})"
            if isinstance(value, dict)
            else f"{key}: {plain_data_display(value)}"
            for key, value in data.items()
        )
    if isinstance(data, list):
        return ", ".join(plain_data_display(value) for value in data)
    return "" if data is None else str(data)


class AccessKind(models.TextChoices):
    REVEAL = "reveal", _("full number seen")
    SEARCH = "search", _("search by ID number")
    EXPORT = "export", _("export with full numbers")
    # The public pages (public/): no staff user, the client's address in the reason.
    CITIZEN_LOOKUP = "lookup", _("citizen look-up of a case")
    TEMP_CARD_CHECK = "tempcard", _("temporary card check")
    CITIZEN_RATING = "rating", _("citizen rating of a case")


class PersonalDataAccess(ChainedRecord):
    """One look at personal data: a full number seen, a search by ID number or an export with
    full numbers; who, when, which record and why. Never changed."""

    CHAIN = "access"
    kind = models.CharField(
        _("kind"), max_length=10, choices=AccessKind.choices, default=AccessKind.REVEAL
    )
    # Empty for a look from the public pages (a citizen, a hospital): no staff user.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_name = models.CharField(_("user name then"), max_length=150, blank=True, editable=False)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # Empty for a search: it names a number, not a record.
    # Led by it, access_object_idx serves its look-ups.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    case = models.ForeignKey(
        settings.AUDIT_CASE_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    field = models.CharField(_("field"), max_length=40)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="access_object_idx"),
            models.Index(fields=["at", "id"], name="access_time_idx"),  # the list, newest first
            # A user's searches in the last minutes: the search limit counts them.
            models.Index(fields=["actor", "kind", "at"], name="access_actor_kind_at_idx"),
            # The list filtered by kind or by field, newest first.
            models.Index(fields=["kind", "at", "id"], name="access_kind_time_idx"),
            models.Index(fields=["field", "at", "id"], name="access_field_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.field} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Access records cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Access records cannot be deleted."))

    def prepare_for_chain(self) -> None:
        fill_actor_name(self)

    def actor_display(self) -> str:
        return actor_display(self)

    def chained_content(self) -> dict:
        return access_content(self)

    def field_display(self) -> str:
        """Return the personal data looked at as a person reads it: the field's label."""
        if self.kind == AccessKind.EXPORT or self.field == "export":
            return str(_("ID and phone numbers"))
        # A search names no record: its number is an applicant's or an agent's.
        own = [self.content_type.model_class()] if self.content_type_id else []
        for model in [*own, *personal_data_models()]:
            try:
                return str(model._meta.get_field(self.field).verbose_name)
            except (FieldDoesNotExist, AttributeError):
                continue
        return self.field

    def record_display(self) -> str:
        """Return the record looked at: the case's reference, an export's list, or nothing for
        a search (it names a number, not a record)."""
        if self.content_type_id is None:
            return ""
        model = self.content_type.model_class()
        if self.kind == AccessKind.EXPORT or self.field == "export":
            plural = model._meta.verbose_name_plural if model else self.content_type.name
            return str(_("export of the list of %(objects)s") % {"objects": plural})
        if model is case_model() and self.case_id == self.object_id and self.case is not None:
            return self.case.reference
        return f"{self.content_type.name} #{self.object_id}"


def case_model() -> type[models.Model]:
    return apps.get_model(settings.AUDIT_CASE_MODEL)


def personal_data_models() -> list[type[models.Model]]:
    """Return the case model and the models it points to (the applicant): where a search's
    number field is labelled."""
    case = case_model()
    related = [f.related_model for f in case._meta.concrete_fields if f.many_to_one]
    return [*related, case]


def access_content(access) -> dict:
    """Return what an access record's hash covers (also used by the migration that re-chained
    the records when the actor's name joined the hash)."""
    content = {
        "actor": access.actor_id,
        "actor_name": access.actor_name,
        "at": access.at.isoformat(),
        "content_type": access.content_type_id,
        "object_id": access.object_id,
        "case": access.case_id,
        "field": access.field,
        "reason": access.reason,
    }
    # Records written before kinds existed (and the migrations before 0022, whose model has
    # no kind) hash without one: their field told it. Any other kind is hashed.
    kind = getattr(access, "kind", "")
    implied = AccessKind.EXPORT if access.field == "export" else AccessKind.REVEAL
    if kind and kind != implied:
        content["kind"] = kind
    return content


def fill_actor_name(record) -> None:
    """Keep the acting user's name as it is now, so a later rename changes no trail."""
    if record.actor_id is not None and not record.actor_name:
        record.actor_name = record.actor.get_username()


def fill_office(entry: AuditEntry) -> None:
    """Keep the case's office on the entry: every writer (a step, the import's COPY) links its
    entries through `chain_extend`, which calls this."""
    if entry.office_id is None and entry.case_id is not None:
        # The case the writer holds (no query); else its office read by the case's key.
        case = entry.case if AuditEntry.case.is_cached(entry) else None
        if case is None:
            case = case_model().objects.only("office").get(pk=entry.case_id)
        entry.office_id = getattr(case, "office_id", None)


def misfiled_entries() -> models.QuerySet[AuditEntry]:
    """Return the entries whose office is not their case's (or that have an office and no
    case). The office is outside the hash (a copy of the hashed case's), and a supervisor sees
    the trail by it: an entry moved to another office, or to none, would be hidden from its
    office's supervisor while the chain still verifies, so `verify_audit` checks this too."""
    has_case = models.Q(case__isnull=False)
    return AuditEntry.objects.filter(
        (has_case & (models.Q(office__isnull=True) | ~models.Q(office_id=models.F("case__office"))))
        | models.Q(case__isnull=True, office__isnull=False)
    )


def actor_display(record) -> str:
    """Return who acted, by the name they had then, and their name now if it changed."""
    if record.actor_id is None:
        return ""
    now = record.actor.get_username()
    if not record.actor_name or record.actor_name == now:
        return now
    return _("%(then)s (now %(now)s)") % {"then": record.actor_name, "now": now}
