"""Django's form renderer, drawing its smallest templates in Python (`FORM_RENDERER`).

Every widget, label and list of errors of a form is a template rendered on its own: the case
page renders some fifty (eleven widgets, their labels, two error lists per field, most of
them empty), a tenth of its time (bench/requests.py --profile "case page"). The templates
drawn here are short and fixed: an input (text, date, checkbox, ...), its attributes, a
label, a list of errors, a select and its options. They are drawn as Django's own draw them,
byte for byte (`tests/common/test_form_renderer.py` renders every one both ways); every
other template (a textarea, radio buttons, a whole form) is Django's. This renderer reads
Django's templates only (`django/forms/templates` comes before the apps' folders), so none
of these can be overridden by a project's template.
"""

from collections.abc import Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

_WIDGETS = "django/forms/widgets/"
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
# Each of these is `{% include "django/forms/widgets/input.html" %}` and nothing else.
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "search",
        "tel",
        "color",
        "date",
        "datetime",
        "time",
        "checkbox",
    )
)
_LABEL = "django/forms/label.html"
# An error list's `{{ errors }}` renders default.html, which only includes ul.html.
_ERRORS = frozenset({"django/forms/errors/list/default.html", "django/forms/errors/list/ul.html"})


class _ForTheEngine(Exception):  # noqa: N818 (not an error: a value the engine must draw)
    """A value the engine draws otherwise: a callable (the engine calls it)."""


def _text(value: Any) -> str:
    """A value as `{{ value|stringformat:'s' }}` draws it: made text, then escaped unless it
    was marked safe (not merely HTML-like: stringformat gives a plain str)."""
    if callable(value):
        raise _ForTheEngine
    if isinstance(value, SafeData):
        return value
    return escape(str(value))


def _shown(value: Any) -> str:
    """A value as `{{ value }}` draws it: escaped unless it is HTML already."""
    if callable(value):
        raise _ForTheEngine
    return conditional_escape(value)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """`django/forms/widgets/attrs.html` (and `django/forms/attrs.html`, the same)."""
    return "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    return (
        f'<input type="{_shown(widget["type"])}" '
        f'name="{_shown(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _select(widget: Mapping[str, Any]) -> str:
    """`select.html` with its options, their newlines as the template's. An option drawn by
    another template, or labelled by a number (which the engine formats for the language),
    is the engine's."""
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name and not isinstance(group_name, str | Promise):
            raise _ForTheEngine
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in options:
            label = option["label"]
            if option["template_name"] != _OPTION or not isinstance(label, str | Promise):
                raise _ForTheEngine
            parts.append(
                f'\n  <option value="{_text(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_shown(label)}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _label(context: Mapping[str, Any]) -> str:
    label = _shown(context["label"])
    if not context["use_tag"]:
        return label.strip()  # as BaseRenderer.render strips what it renders
    tag = _shown(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>"


def _errors(context: Mapping[str, Any]) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    shown_id = f' id="{_shown(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_shown(error)}</li>" for error in errors)
    return f'<ul class="{_shown(context["error_class"])}"{shown_id}>{items}</ul>'


_DRAWN = {_LABEL: _label, **dict.fromkeys(_ERRORS, _errors)}


class DrawingRenderer(DjangoTemplates):
    """DjangoTemplates, with inputs, selects, labels and error lists drawn without the engine."""

    def render(self, template_name, context, request=None):
        try:
            if template_name in _INPUTS:
                return _input(context["widget"])
            if template_name == _SELECT:
                return _select(context["widget"])
            if template_name in _DRAWN:
                return _DRAWN[template_name](context)
        except _ForTheEngine:
            pass
        return super().render(template_name, context, request=request)
