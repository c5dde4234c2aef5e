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
from django.utils.html import conditional_escape

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
_ERRORS = "django/forms/errors/list/ul.html"


def _attrs(attrs: Mapping[str, Any]) -> str:
    """`django/forms/widgets/attrs.html` (and `django/forms/attrs.html`, the same)."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(value)}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _select(widget: Mapping[str, Any]) -> str | None:
    """`select.html` with its options, their newlines as the template's; None where an
    option is drawn by another template or labelled by a number (the engine would format
    it for the language)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name and not isinstance(group_name, str | Promise):
            return None
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            label = option["label"]
            if option["template_name"] != _OPTION or not isinstance(label, str | Promise):
                return None
            parts.append(
                f'\n  <option value="{conditional_escape(option["value"])}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(label)}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _label(context: Mapping[str, Any]) -> str:
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label.strip()  # as BaseRenderer.render strips what it renders
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>"


def _errors(context: Mapping[str, Any]) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    shown_id = f' id="{conditional_escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{conditional_escape(context["error_class"])}"{shown_id}>{items}</ul>'


class DrawingRenderer(DjangoTemplates):
    """DjangoTemplates, with inputs, labels and error lists drawn without the engine."""

    def render(self, template_name, context, request=None):
        if template_name in _INPUTS:
            return _input(context["widget"])
        if template_name == _SELECT and (drawn := _select(context["widget"])) is not None:
            return drawn
        if template_name == _LABEL:
            return _label(context)
        if template_name == _ERRORS:
            return _errors(context)
        return super().render(template_name, context, request=request)
