"""The admin's view-on-site shortcut (`admin/r/<content type>/<id>/`), scoped like the lists.

Django's own answers "no such object" for a missing one but "has no page" for another office's
case, and DEBUG pages show which: an existence oracle across offices. Here an object the user
may not see through its admin answers exactly as a missing one.
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _


def view_on_site(request, content_type_id, object_id):
    """Redirect to an object's page, as Django does, if the user may see the object."""
    content_type = ContentType.objects.filter(pk=_int_or_none(content_type_id)).first()
    model = content_type.model_class() if content_type is not None else None
    if model is not None and not _visible(request, model, object_id):
        raise Http404(
            _("Content type %(ct_id)s object %(obj_id)s doesn’t exist")
            % {"ct_id": content_type_id, "obj_id": object_id}
        )
    return shortcut(request, content_type_id, object_id)


def _visible(request, model, object_id) -> bool:
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        return False
    try:
        return model_admin.get_queryset(request).filter(pk=object_id).exists()
    except (ValueError, TypeError, ValidationError):
        return False


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None
