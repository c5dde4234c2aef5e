"""The office filter of every scoped list: it offers only the offices the user may see."""

from django.contrib import admin

from .scoping import offices_visible_to


class OfficeScopedFilter(admin.RelatedFieldListFilter):
    """Offer only the offices the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(office.pk, str(office)) for office in offices_visible_to(request.user)]
