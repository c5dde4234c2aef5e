"""The columns of a legacy file: their names, the headers that name them, their labels, and
how the preview shows their cells."""

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from common.personal_numbers import personal_number_fields

from ..case_workflow import CASE_WORKFLOW
from ..models import Applicant, LossKind, LostItems, ReissueCase
from .cells import cell_text, in_every_language, shown

# Column -> how its cells are read. The column names are the model's field names; the
# field's label (in any of our languages) is accepted as a header too.
APPLICANT_COLUMNS = {
    "name": "text",
    "id_number": "id_number",
    "phone": "text",
    "hukou_address": "text",
    "hukou_police_station": "text",
}
CASE_COLUMNS = {
    "office": "office",
    "lost_items": LostItems,
    "loss_kind": LossKind,
    "loss_date": "date",
    "reported_at": "date",
    "presented_hukou_book": "bool",
    "presented_id_card": "bool",
    "presented_photo": "bool",
    "converts_ic_card": "bool",
    "agent_acts": "bool",
    "agent_name": "text",
    "agent_id_number": "id_number",
}
COLUMNS = {**APPLICANT_COLUMNS, **CASE_COLUMNS}
REQUIRED_COLUMNS = [*APPLICANT_COLUMNS, "office", "lost_items", "loss_kind", "loss_date"]
# Set by registration or by a workflow step: an import must never set them.
WORKFLOW_COLUMNS = CASE_WORKFLOW.set_fields
# The file's columns are the fields' names: each personal number as its field declares it.
MASKED_IN_PREVIEW = {**personal_number_fields(Applicant), **personal_number_fields(ReissueCase)}
# The preview shows a cell at most this long (none of our fields needs more than 200).
PREVIEW_CHARS = 200


def normal_header(header: Any) -> str:
    """Return a header as it is looked up: lower case, blanks and dashes as one underscore."""
    return re.sub(r"[\s_\-]+", "_", cell_text(header).lstrip("\ufeff").lower())


def _field_label(name: str) -> Iterable[str]:
    for model in (Applicant, ReissueCase):
        try:
            yield model._meta.get_field(name).verbose_name
        except Exception:  # not a field of this model
            continue


def header_aliases() -> dict[str, str]:
    """Return {normalized header: column} for every column name and field label."""
    aliases = {}
    for column in [*COLUMNS, *WORKFLOW_COLUMNS]:
        for label in in_every_language(lambda column=column: _field_label(column)):
            aliases[normal_header(label)] = column
    aliases.update({normal_header(column): column for column in [*COLUMNS, *WORKFLOW_COLUMNS]})
    aliases[normal_header(_("office code"))] = "office"
    return aliases


def map_headers(headers: Sequence[Any], aliases: dict[str, str]) -> dict[str, int]:
    """Return {column: index in the row} for the columns we know (the first of a repeated one)."""
    columns = {}
    for index, header in enumerate(headers):
        column = aliases.get(normal_header(header))
        if column is not None and column not in columns:
            columns[column] = index
    return columns


def column_label(column: str) -> str:
    """Return a column's label in the user's language, with its name as the file has it."""
    model = Applicant if column in APPLICANT_COLUMNS else ReissueCase
    label = capfirst(model._meta.get_field(column).verbose_name)
    return _("%(label)s (%(column)s)") % {"label": label, "column": column}


def import_columns() -> list[tuple[str, str, bool]]:
    """Return (column, label, required) for each column a legacy file may hold."""
    return [(column, column_label(column), column in REQUIRED_COLUMNS) for column in COLUMNS]


def labelled_errors(errors: dict) -> dict:
    """Return a row's errors keyed by the column's label, as the import page shows them."""
    return {
        (column_label(column) if column in COLUMNS else column): messages
        for column, messages in errors.items()
    }


def cell(row: Sequence[Any], index: int) -> Any:
    """Return the row's cell at `index`; None past its end (a short row)."""
    return row[index] if index < len(row) else None


def preview_values(values: dict[str, Any]) -> dict[str, str]:
    """Return a row's values as the preview shows them: personal numbers masked, cut short."""
    return {
        column: MASKED_IN_PREVIEW[column](cell_text(value))
        if column in MASKED_IN_PREVIEW and cell_text(value)
        else shown(cell_text(value), PREVIEW_CHARS)
        for column, value in values.items()
    }
