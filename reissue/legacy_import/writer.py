"""Writing checked rows in bulk, as `services.case_register` writes one report: the new
applicants, the known ones' contact details, the cases with their references, and the
chained audit entries (`registered`, and `edited` for changed contact details)."""

import datetime
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import chain_extend, lock_chain_head
from audit.models import AuditEntry
from common.instances import new_instance
from offices.models import Office

from ..models import Applicant, CaseSequence, ReissueCase
from ..registration import CONTACT_FIELDS
from ..services import format_case_reference
from ..signals import cases_inserted
from .rows import CheckedRow

# Parameters a statement on SQLite: its default limit.
MAX_PARAMETERS = 999


def insert_new(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT unsaved objects in bulk and set their primary keys.

    `bulk_create`, except on SQLite, where it compiles SQL for each value, the most of its
    time (three times slower here, bench/import_cases.py): there the rows go in multi-row
    statements whose values each field prepares itself, as for a save (`Field.pre_save`,
    `Field.get_db_prep_save`: personal numbers encrypted, dates as the database keeps them).
    On PostgreSQL the rows go by COPY, faster than bulk_create's INSERT ... UNNEST (whose
    arrays psycopg builds value by value), their keys drawn first from the table's sequence.
    """
    db = connections[router.db_for_write(model)]
    if objs and db.vendor == "postgresql":
        _copy_in(model, objs, db)
        return
    if not objs or db.vendor != "sqlite" or not db.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)
        return
    fields, values = _insert_fields(model), _values(model, db)
    per_statement = MAX_PARAMETERS // len(fields)
    with db.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [value for o in chunk for value in values(o)]
            cursor.execute(_insert_sql(model, fields, len(chunk), db), params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk


# Fields whose `pre_save` reads the attribute and whose preparation leaves a str, int, bool
# or None as it is (exactly these classes: a subclass, such as an encrypted field, may not).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveBigIntegerField,
)
_PLAIN_VALUES = (str, int, bool, type(None))


def _is_plain(field: models.Field) -> bool:
    if isinstance(field, models.ForeignKey) and type(field) is models.ForeignKey:
        return type(field.target_field) in (models.AutoField, models.BigAutoField)
    return type(field) in _PLAIN_FIELDS


def _taken_as_they_are(field: models.Field) -> tuple[type, ...]:
    """Return the classes of the values an INSERT takes as they are for `field`."""
    return _PLAIN_VALUES if _is_plain(field) else ()


# Fields whose `pre_save` reads the attribute and whose preparation depends on the value
# alone (exactly these classes), so that equal values prepare alike: each distinct value is
# prepared once an insert (a file's cases share the moment of their report, its deadlines,
# a loss day). Never an encrypted field: each of its values is sealed afresh.
_PREPARED_ONCE_PER_VALUE = (models.DateField, models.DateTimeField, models.DecimalField)


def _prepared_once_per_value(field: models.Field) -> bool:
    return type(field) in _PREPARED_ONCE_PER_VALUE and not (
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    )


def _values(model: type[models.Model], db):
    """Return a function giving an object's values for an INSERT, as a save prepares them
    (`Field.pre_save`, `Field.get_db_prep_save`): a plain field's plain value taken as it
    is, a date, a moment or a number prepared once a value."""
    plan = [
        (f, f.attname, _taken_as_they_are(f), {} if _prepared_once_per_value(f) else None)
        for f in _insert_fields(model)
    ]

    def values(obj: models.Model) -> list:
        row = []
        for field, attname, as_they_are, prepared in plan:
            if prepared is None:
                value = getattr(obj, attname) if as_they_are else None
                if type(value) not in as_they_are:
                    value = field.get_db_prep_save(field.pre_save(obj, True), db)
                row.append(value)
                continue
            value = getattr(obj, attname)
            # A date is no moment (though a datetime is a date); two moments a clock change
            # apart compare equal but for their fold.
            key = (type(value), value, getattr(value, "fold", 0))
            if key not in prepared:
                prepared[key] = field.get_db_prep_save(field.pre_save(obj, True), db)
            row.append(prepared[key])
        return row

    return values


def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.get_fields() if f.concrete and not f.primary_key]


def _copy_in(model: type[models.Model], objs: list[models.Model], db) -> None:
    """COPY unsaved objects into their table, their primary keys drawn from its sequence."""
    meta, quote = model._meta, db.ops.quote_name
    pk, values = meta.pk, _values(model, db)
    columns = ", ".join(quote(f.column) for f in [pk, *_insert_fields(model)])
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        for obj, (key,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = key
        # psycopg's own cursor (Django's has no COPY), its errors as Django's (IntegrityError).
        statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        with db.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for obj in objs:
                copy.write_row([obj.pk, *values(obj)])


def _insert_sql(model: type[models.Model], fields, rows: int, db) -> str:
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * rows)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values} "
        f"RETURNING {quote(model._meta.pk.column)}"
    )


# What `ReissueCase.fill_report_clocks` reads of a new case (its clocks not started: the
# import's are not), and what it sets.
_REPORT_FACTS = ("office_id", "reported_at", "loss_report_kind", "lost_items")
_REPORT_CLOCKS = (
    "policy_values",
    "lapses_at",
    "formal_reported_at",
    "old_card_cancel_on",
    "service_due_on",
)


class BulkWriter:
    """Write checked rows in bulk, a batch at a time, in the caller's transaction.

    Locks so that neither it nor registration (`services.case_register`) waits for the other
    holding what it needs: the offices' sequences first (all of the file's, in the order of
    their keys, at the start), the rows' ID numbers (claimed by the checker, never waiting),
    the applicants of those claimed; the audit chain's head last (registration too takes it
    after the sequence), in `finish`, where the audit entries and the
    dashboard's aggregates of all the batches are written at once. Until then every office's
    steps go on; only registrations in the file's offices wait (for their sequences).
    What `finish` needs of each case is kept meanwhile: its key and row (a few bytes each).
    """

    def __init__(
        self,
        *,
        acting_user: AbstractUser,
        source_name: str,
        now: datetime.datetime,
        office_ids: Iterable[int],
    ) -> None:
        self.user, self.source_name, self.now = acting_user, source_name, now
        self.comment = _("Imported from the legacy file “%(file)s”, row %(row)d.")
        self.year = timezone.localdate().year
        self.sequences: dict[int, CaseSequence] = {
            office_id: CaseSequence.objects.select_for_update().get_or_create(
                office_id=office_id, year=self.year
            )[0]
            for office_id in sorted(office_ids)
        }
        self.case_type = ContentType.objects.get_for_model(ReissueCase)
        self.applicant_type = ContentType.objects.get_for_model(Applicant)
        self.report_clocks: dict[tuple, dict] = {}  # a report's facts: the clocks they start
        self.written: list[_WrittenBatch] = []

    def write(self, rows: list[CheckedRow]) -> list[str]:
        """Write one batch's applicants and cases; return the references of its cases."""
        insert_new(Applicant, [r.applicant for r in rows if r.applicant.pk is None])
        changed = [r for r in rows if r.contact_changes]
        if changed:
            Applicant.objects.bulk_update([r.applicant for r in changed], CONTACT_FIELDS)
        for row in rows:
            row.case.applicant = row.applicant
            row.case.applicant_name = row.applicant.name  # as ReissueCase.save keeps it
            row.case.reference = self._next_reference(row.case.office)
            self._fill_report_clocks(row.case)
        insert_new(ReissueCase, [row.case for row in rows])
        self.written.append(_WrittenBatch.of(rows))
        return [row.case.reference for row in rows]

    def _fill_report_clocks(self, case: ReissueCase) -> None:
        """Keep the rules and start the clocks as `ReissueCase.save` would (bulk inserts skip
        it), once per office, moment and kind of report and what was lost (the facts they
        follow from, all a new case has of them): the file's other such cases take the same
        (the policy and the working-day calendar read once)."""
        facts = (*(getattr(case, name) for name in _REPORT_FACTS), case.reported_at.fold)
        clocks = self.report_clocks.get(facts)
        if clocks is None:
            case.fill_report_clocks()
            self.report_clocks[facts] = {name: getattr(case, name) for name in _REPORT_CLOCKS}
            return
        for name, value in clocks.items():
            setattr(case, name, value)

    def finish(self) -> None:
        """Write the audit entries and the dashboard's aggregates of every batch, then save
        the sequences and the chain's head past them; the head is locked from here on."""
        head = lock_chain_head(AuditEntry.CHAIN)
        for batch in self.written:
            cases_inserted.send(sender=ReissueCase, pks=list(batch.case_pks))
            entries = [self._edited(*edit) for edit in batch.edited]
            entries += [
                self._registered(pk, number, office_id, state)
                for pk, number, office_id, state in zip(
                    batch.case_pks, batch.numbers, batch.office_ids, batch.states, strict=True
                )
            ]
            insert_new(AuditEntry, chain_extend(head, entries))
        for sequence in self.sequences.values():
            sequence.save(update_fields=["last_number"])
        head.save(update_fields=["sequence", "last_hash"])

    def _next_reference(self, office: Office) -> str:
        sequence = self.sequences[office.pk]  # locked at the start: the checker saw the office
        sequence.last_number += 1
        return format_case_reference(office.code, self.year, sequence.last_number)

    def _registered(self, case_pk: int, number: int, office_id: int, state: str) -> AuditEntry:
        return new_instance(
            AuditEntry,
            case_id=case_pk,
            office_id=office_id,  # the case's, as fill_office would read it (a query each)
            content_type=self.case_type,
            object_id=case_pk,
            action="registered",
            target_state=state,
            actor=self.user,
            at=self.now,
            comment=self.comment % {"file": self.source_name, "row": number},
        )

    def _edited(self, applicant_pk: int, number: int, changes: dict) -> AuditEntry:
        return new_instance(
            AuditEntry,
            case=None,
            content_type=self.applicant_type,
            object_id=applicant_pk,
            action="edited",
            actor=self.user,
            at=self.now,
            comment=self.comment % {"file": self.source_name, "row": number},
            changes=changes,
        )


@dataclass(slots=True)
class _WrittenBatch:
    """What `BulkWriter.finish` needs of a written batch: its cases' keys, rows, offices and
    states (compact arrays), and the contact details changed (for the `edited` entries)."""

    case_pks: array
    numbers: array
    office_ids: array
    states: list[str]
    edited: list[tuple[int, int, dict]]

    @classmethod
    def of(cls, rows: list[CheckedRow]) -> "_WrittenBatch":
        return cls(
            case_pks=array("q", (row.case.pk for row in rows)),
            numbers=array("l", (row.number for row in rows)),
            office_ids=array("q", (row.case.office_id for row in rows)),
            states=[row.case.state for row in rows],
            edited=[
                (r.applicant.pk, r.number, r.contact_changes) for r in rows if r.contact_changes
            ],
        )
