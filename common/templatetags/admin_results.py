"""The admin's change-list rows drawn with a plan made once per page: `{% result_list cl %}`.

Django's `items_for_result` finds out, for every cell of every row, what its column is (a
field, a method of the admin, an attribute), with a failed field lookup per method column:
on the case list (100 rows, 8 columns) that was a third of its drawing. Here each column is
looked up once per page and each cell only reads its value and draws it, as Django draws it
(`tests/common/test_admin_results.py` compares the two on every list). The rows are drawn
here too and handed to `change_list_results_planned.html` (Django's `change_list_results.html`
but for its loop over the rows): the engine's `{{ item }}` per cell (800 a page) cost more than
drawing them. A list with editable columns (`list_editable`, none of ours) is drawn by Django's
own code and template loop.
"""

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    result_list,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import Library
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

register = Library()


@dataclass(frozen=True)
class _Column:
    name: Any
    plain_classes: list[str]  # "field-<name>": a cell whose value could not be read
    classes: list[str]  # with "nowrap" for a date or foreign key field, "action-checkbox"
    linked: bool  # the cell links to the row's change page
    tag: str  # "th" for the first linked cell, else "td"
    field: models.Field | None
    value: Callable[[Any], tuple[Any, Any]]  # row -> (attr, value), as lookup_field gives
    empty: str  # the column's own (admin.display's empty_value), else the admin's
    unread: str  # the admin's: a value that could not be read shows it, whatever the column
    fixed: bool  # a field or the admin's method: a value draws the same on every row


def _plan(cl) -> list[_Column]:
    """Return what each column of `cl` is, found once for the page (as lookup_field finds)."""
    model_admin, opts = cl.model_admin, cl.lookup_opts
    empty_default = model_admin.get_empty_value_display()
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        if cl.list_display_links is None:
            linked = False
        else:
            linked = (first and not cl.list_display_links) or name in cl.list_display_links
        tag = "th" if linked and first else "td"
        first = first and not linked
        field, attr = None, None
        try:
            field = _get_non_gfk_field(opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                attr = name
            elif hasattr(model_admin, name) and name != "__str__":
                attr = getattr(model_admin, name)
        plain = classes = [f"field-{_coerce_field_name(name, index)}"]
        fixed = True
        if field is not None:
            value = _field_value(name)
            if not field.auto_created and isinstance(
                field, (models.DateField, models.TimeField, models.ForeignKey)
            ):
                classes = [*plain, "nowrap"]
        elif attr is not None:
            value = _call(attr)
        else:  # an attribute of the row (a property, a method, a__b): Django's lookup per row
            value, fixed = _looked_up(name, model_admin), False
        if name == "action_checkbox" and (field is None or field.auto_created):
            classes = ["action-checkbox"]
        empty = getattr(attr, "empty_value_display", empty_default)
        columns.append(
            _Column(name, plain, classes, linked, tag, field, value, empty, empty_default, fixed)
        )
    return columns


def _field_value(name):
    return lambda row: (None, getattr(row, name))


def _call(attr):
    return lambda row: (attr, attr(row))


def _looked_up(name, model_admin):
    def value(row):
        _field, attr, value = lookup_field(name, row, model_admin)
        return attr, value

    return value


# Values whose cell a page draws once however many rows hold them (a number of days, a
# date, a state): equal values of one type draw the same in one language and time zone. Not
# decimals or floats (1.0 and 1.00, 0.0 and -0.0 are equal but drawn apart), nor times of day
# (equal at other offsets, drawn at their own).
_DRAWN_ONCE = (int, str, datetime.date, type(None))


def _cells(cl, columns: list[_Column], row, drawn: list[dict]) -> Iterator[str]:
    """Yield the row's cells, as Django's items_for_result draws them (no editable form).

    `drawn` holds each column's cells drawn so far on the page, by value."""
    for column, drawn_here in zip(columns, drawn, strict=True):
        key = None
        try:
            attr, value = column.value(row)
        except ObjectDoesNotExist:
            classes, shown = column.plain_classes, column.unread
        else:
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if column.fixed and not column.linked and isinstance(value, _DRAWN_ONCE):
                key = (value.__class__, value)
                if key in drawn_here:
                    yield drawn_here[key]
                    continue
            classes, shown = _shown(column, attr, value, row)
        content = conditional_escape(_link(cl, row, shown) if column.linked else shown)
        cell = _cell(column, classes, content)
        if key is not None:
            drawn_here[key] = cell
        yield cell


def _shown(column: _Column, attr, value, row) -> tuple[list[str], Any]:
    classes, field, empty = column.classes, column.field, column.empty
    empty = getattr(attr, "empty_value_display", empty) if attr is not None else empty
    if field is None or field.auto_created:
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        shown = display_for_value(value, empty, boolean)
        if isinstance(value, (datetime.date, datetime.time)):
            classes = [*classes, "nowrap"]
    elif isinstance(field.remote_field, models.ManyToOneRel):
        related = getattr(row, field.name)
        shown = empty if related is None else related
    else:
        shown = display_for_field(value, field, empty, avoid_link=column.linked)
    return classes, shown


def _cell(column: _Column, classes: list[str], content: str) -> str:
    # format_html's work, without its parsing of a format per cell: the classes are column
    # names, the content escaped as format_html escapes it.
    return f'<{column.tag} class="{" ".join(classes)}">{content}</{column.tag}>'


def _link(cl, row, shown):
    try:
        url = cl.url_for_result(row)
    except NoReverseMatch:
        return shown
    # (Given no filters and no query it gives the URL as it is; nor does it change a query
    # it made itself, as a list whose url_for_result carries its filters says.)
    if cl.preserved_filters or ("?" in url and not getattr(cl, "result_urls_final", False)):
        context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        url = add_preserved_filters(context, url)
    popup = ""
    if cl.is_popup:
        value = row.serializable_value(
            str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
        )
        popup = format_html(' data-popup-opener="{}"', value)
    return SafeString(f'<a href="{conditional_escape(url)}"{popup}>{conditional_escape(shown)}</a>')


def planned_results(cl) -> list[ResultList]:
    """Return the page's rows as Django's `results(cl)` gives them, each column planned once
    and each row one item: its cells, drawn."""
    columns = _plan(cl)
    drawn = [{} for _column in columns]
    return [
        ResultList(None, [SafeString("".join(_cells(cl, columns, row, drawn)))])
        for row in cl.result_list
    ]


def planned_result_list(cl) -> dict:
    if cl.formset:
        return result_list(cl)
    headers = list(result_headers(cl))
    results = planned_results(cl)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
        # The rows as the template's loop draws them, drawn here (a page's 100 rows were
        # some 700 nodes of the engine's).
        "rows": SafeString("".join(f"<tr>{''.join(row)}</tr>\n" for row in results)),
    }


@register.tag(name="result_list")
def result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=planned_result_list,
        template_name="change_list_results_planned.html",
        takes_context=False,
    )
