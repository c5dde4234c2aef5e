"""The admin's change-form fieldsets drawn in Python: `{% admin_fieldset fieldset ... %}`.

The same HTML as Django's `admin/includes/fieldset.html` (5.2), without the template engine's
cost of resolving some twenty variables per field: the case page draws 52 fields in eight
fieldsets, and that template was a third of the page's time (bench/requests.py --profile).
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _attribute(field, name: str):
    """Read `name` of an admin field's `field`: a BoundField, or a dict for a read-only one
    (the template's `field.field.name` reads either; a missing one reads as empty)."""
    if isinstance(field, dict):
        return field.get(name, "")
    return getattr(field, name, "")


@register.simple_tag
def admin_fieldset(
    fieldset, heading_level=2, prefix="fieldset", id_prefix=0, id_suffix=0
) -> SafeString:
    heading_id = f"{prefix}-{id_prefix}-{id_suffix}-heading"
    parts = [format_html('<fieldset class="module aligned {}"', fieldset.classes)]
    if fieldset.name:
        parts.append(format_html(' aria-labelledby="{}"', heading_id))
    parts.append(">")
    collapsible = fieldset.name and fieldset.is_collapsible
    if fieldset.name:
        parts.append("<details><summary>" if collapsible else "")
        parts.append(
            format_html(
                '<h{0} id="{1}" class="fieldset-heading">{2}</h{0}>',
                heading_level,
                heading_id,
                fieldset.name,
            )
        )
        parts.append("</summary>" if collapsible else "")
    if fieldset.description:
        parts.append(
            format_html('<div class="description">{}</div>', mark_safe(fieldset.description))  # noqa: S308 (as the template's |safe)
        )
    parts += [_line(line) for line in fieldset]
    parts.append("</details>" if collapsible else "")
    parts.append("</fieldset>")
    return mark_safe("".join(parts))  # noqa: S308 (every part above is escaped or safe)


def _line(line) -> str:
    fields = list(line)
    single = len(line.fields) == 1
    errors = line.errors()
    row = ["form-row"]
    row += ["errors"] if single and errors else []
    row += [] if line.has_visible_field else ["hidden"]
    row += [f"field-{name}" for f in fields if (name := _attribute(f.field, "name"))]
    parts = [format_html('<div class="{}">', " ".join(row))]
    parts.append(errors if single else '<div class="flex-container form-multiline">')
    for field in fields:
        parts.append("<div>")
        field_errors = "" if field.is_readonly else field.errors()
        if not single:
            parts.append(field_errors)
        box = ["flex-container"]
        if not single:
            name = _attribute(field.field, "name")
            box += ["fieldBox"] + ([f"field-{name}"] if name else [])
            box += ["errors"] if field_errors else []
            box += ["hidden"] if _attribute(field.field, "is_hidden") else []
        box += ["checkbox-row"] if field.is_checkbox else []
        parts.append(format_html('<div class="{}">', " ".join(box)))
        if field.is_checkbox:
            parts += [str(field.field), field.label_tag()]
        elif field.is_readonly:
            parts.append(field.label_tag())
            parts.append(format_html('<div class="readonly">{}</div>', field.contents()))
        else:
            parts += [field.label_tag(), str(field.field)]
        parts.append("</div>")
        help_text = _attribute(field.field, "help_text")
        if help_text:
            label_id = _attribute(field.field, "id_for_label")
            parts.append(
                format_html(
                    '<div class="help{}"{}><div>{}</div></div>',
                    " hidden" if _attribute(field.field, "is_hidden") else "",
                    format_html(' id="{}_helptext"', label_id) if label_id else "",
                    mark_safe(help_text),  # noqa: S308 (as the template's |safe)
                )
            )
        parts.append("</div>")
    parts.append("" if single else "</div>")
    parts.append("</div>")
    return "".join(parts)
