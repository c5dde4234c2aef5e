"""The admin's list of apps and models drawn in Python: `{% admin_app_list %}`.

The same HTML as Django's `admin/app_list.html` (5.2) draws, but for its whitespace. The nav
sidebar draws it on every admin page, and its template was a quarter of the stock office
list's time (bench/requests.py: some 300 nodes, `request.path|urlencode` three times a model
and five translations an app). `templates/admin/app_list.html` calls it;
`tests/common/test_admin_app_list.py` compares it with Django's template.
"""

from urllib.parse import quote

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


def _within(url, path: str) -> bool:
    # The template's `url in path`: a URL not given (None) is in no path.
    return url is not None and str(url) in path


@register.simple_tag(takes_context=True)
def admin_app_list(context) -> SafeString:
    apps = context.get("app_list")
    if not apps:
        refused = gettext("You don’t have permission to view or edit anything.")
        return SafeString(f"<p>{conditional_escape(refused)}</p>")
    request = context.get("request")
    path = quote(request.path, safe="/") if request is not None else ""
    show_changelinks = context.get("show_changelinks")
    headings = "".join(
        f'<th scope="col">{conditional_escape(gettext(text))}</th>'
        for text in ("Model name", "Add link", "Change or view list link")
    )
    add, view, change = (conditional_escape(gettext(t)) for t in ("Add", "View", "Change"))
    parts = []
    for app in apps:
        label, url = conditional_escape(app["app_label"]), app["app_url"]
        name = conditional_escape(app["name"])
        # As blocktranslate: the name escaped, the translation as it is.
        title = gettext("Models in the %(name)s application") % {"name": name}
        current = " current-app" if _within(url, path) else ""
        parts.append(
            f'<div class="app-{label} module{current}"><table><caption>'
            f'<a href="{conditional_escape(url)}" class="section" title="{title}">{name}</a>'
            f'</caption><thead class="visually-hidden"><tr>{headings}</tr></thead>'
        )
        for model in app["models"]:
            model_name = conditional_escape(str(model["object_name"]).lower())
            row_id = f"{label}-{model_name}"
            admin_url, add_url = model.get("admin_url"), model.get("add_url")
            here = _within(admin_url, path)
            shown = conditional_escape(model["name"])
            if admin_url:
                aria = ' aria-current="page"' if here else ""
                shown = f'<a href="{conditional_escape(admin_url)}"{aria}>{shown}</a>'
            parts.append(
                f'<tr class="model-{model_name}{" current-model" if here else ""}">'
                f'<th scope="row" id="{row_id}">{shown}</th>'
            )
            if add_url:
                parts.append(
                    f'<td><a href="{conditional_escape(add_url)}" class="addlink" '
                    f'aria-describedby="{row_id}">{add}</a></td>'
                )
            else:
                parts.append("<td></td>")
            if admin_url and show_changelinks:
                kind, word = (
                    ("viewlink", view) if model.get("view_only") else ("changelink", change)
                )
                parts.append(
                    f'<td><a href="{conditional_escape(admin_url)}" class="{kind}" '
                    f'aria-describedby="{row_id}">{word}</a></td>'
                )
            elif show_changelinks:
                parts.append("<td></td>")
            parts.append("</tr>")
        parts.append("</table></div>")
    return SafeString("".join(parts))
