"""Import-export resources of the case list and the audit trail, made from their columns."""

from collections import OrderedDict
from collections.abc import Iterator

import tablib
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from audit.models import AuditEntry
from exports.files import CHUNK_SIZE, Column, Columns, csv_chunks

from .case_workflow import CASE_WORKFLOW
from .models import ReissueCase
from .permissions import can_see_full_id_number


class ColumnResource(resources.Resource):
    """A resource whose fields are `columns`, exported from `values_list` rows.

    Made with the requesting `user`: personal numbers (as their model fields declare them)
    are masked unless they may see them in full. Without a user (import-export's export form
    makes resources without arguments) they are masked. Cells are Python values; the
    spreadsheet formats escape formulae themselves.
    """

    columns = Columns(ReissueCase, [])

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.fields = OrderedDict(
            (column.name, fields.Field(column_name=cls.columns.header(column), readonly=True))
            for column in cls.columns
        )

    def __init__(self, *, user=None, **kwargs):
        super().__init__(**kwargs)
        self.full_numbers = bool(
            user is not None and self.columns.has_personal and can_see_full_id_number(user)
        )

    @classmethod
    def get_display_name(cls) -> str:
        return getattr(cls._meta, "name", None) or cls.__name__

    def rows(self, queryset: QuerySet, columns: Columns) -> QuerySet:
        """Return the `values_list` rows of the list's `queryset` that `columns` read."""
        return queryset.values_list(*columns.sources)

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """Return the rows of `queryset` as a Dataset of the chosen (`export_fields`) columns."""
        headers, cells = self.export_cells(queryset, kwargs.get("export_fields"))
        dataset = tablib.Dataset(headers=headers)
        for row in cells:
            dataset.append(row)
        return dataset

    def export_cells(self, queryset: QuerySet, export_fields=None) -> tuple[list, Iterator[list]]:
        """Return the headers of the chosen columns and an iterator of the rows' cells, read
        from the database as it is (an XLSX built in the background is written so)."""
        columns = self.columns.select(export_fields)
        row_cells = columns.row_cells(full_numbers=self.full_numbers, text=False)
        return columns.headers(), map(row_cells, self.rows(queryset, columns).iterator(CHUNK_SIZE))

    def export_csv(self, queryset: QuerySet, export_fields=None):
        """Return the CSV of `queryset` as an iterator of byte chunks, read as it is sent."""
        columns = self.columns.select(export_fields)
        rows = self.rows(queryset, columns)

        def read() -> Iterator[tuple]:
            # Outside a transaction Django declares PostgreSQL's cursor WITH HOLD, and the
            # server then reads every row before sending the first; inside one it streams.
            with transaction.atomic(using=rows.db):
                yield from rows.iterator(chunk_size=CHUNK_SIZE)

        return csv_chunks(read(), columns, full_numbers=self.full_numbers)

    def count_rows(self, queryset: QuerySet, *, up_to: int) -> int:
        """Return the number of rows the export of `queryset` has, counting no further than
        `up_to`."""
        return self.rows(queryset, self.columns)[:up_to].count()


CASE_COLUMNS = Columns(
    ReissueCase,
    [
        Column("reference"),
        Column("office", "office__code"),
        Column("state"),
        Column("applicant", "applicant__name"),
        Column("id_number", "applicant__id_number", header=_("ID number")),
        Column("phone", "applicant__phone"),
        Column("lost_items"),
        Column("loss_kind"),
        Column("loss_date"),
        Column("reported_at"),
        Column("handled_by", "handled_by__username"),
        Column("agent_acts"),
        Column("agent_name"),
        Column("agent_id_number"),
        Column("presented_hukou_book"),
        Column("presented_id_card"),
        Column("presented_photo"),
        Column("converts_ic_card"),
        Column("ss_card_suspended_at"),
        Column("loss_report_kind"),
        Column("reported_via"),
        Column("told_to_report_bank_loss"),
        Column("lapses_at"),
        Column("service_due_on"),
        # What the steps recorded (cards, dates, ...), as case_workflow declares it; a batch
        # by its reference.
        *(
            Column(name, "card_batch__reference") if name == "card_batch" else Column(name)
            for name in CASE_WORKFLOW.fields_set_by_steps
            if name not in ("lapses_at", "service_due_on")
        ),
    ],
)


class CaseResource(ColumnResource):
    """The case list: one row per case. Birth date and sex are left out: they are the digits
    a masked ID number hides."""

    columns = CASE_COLUMNS

    class Meta:
        name = _("reissue cases")


def _entry(content_type_id: int, **values) -> AuditEntry:
    # An unsaved entry, to read its labels the way the audit trail's own pages do.
    return AuditEntry(content_type=ContentType.objects.get_for_id(content_type_id), **values)


def _label_column(field: str, header, label_of) -> Column:
    """A column of `field` shown by its label, read as the audit trail's own pages read it."""
    return Column(
        field,
        sources=("content_type_id", field),
        display=lambda content_type_id, value: label_of(_entry(content_type_id, **{field: value})),
        header=header,
    )


def _changes_text(content_type_id: int, changes: dict) -> str:
    return "; ".join(
        f"{label}: {old} → {new}"
        for label, old, new in _entry(content_type_id, changes=changes).changes_display()
    )


AUDIT_COLUMNS = Columns(
    AuditEntry,
    [
        Column("sequence", header=_("entry number")),
        Column("at"),
        Column("case", "case__reference"),
        Column("office", "case__office__code", header=_("office")),
        Column(
            "record",
            header=_("record"),
            sources=("content_type_id", "object_id"),
            display=lambda content_type_id, object_id: (
                f"{ContentType.objects.get_for_id(content_type_id).name} #{object_id}"
            ),
        ),
        _label_column("action", _("action"), AuditEntry.action_display),
        _label_column("source_state", _("from state"), AuditEntry.source_state_display),
        _label_column("target_state", _("to state"), AuditEntry.target_state_display),
        Column("actor", "actor_name", header=_("by")),  # the name they had then
        Column("comment"),
        Column(
            "changes",
            sources=("content_type_id", "changes"),
            display=_changes_text,
            header=_("changed fields"),
        ),
    ],
)


class AuditEntryResource(ColumnResource):
    """The audit trail: one row per entry. It holds no full numbers (they are recorded
    masked), so it is never masked further."""

    columns = AUDIT_COLUMNS

    class Meta:
        name = _("audit trail")
