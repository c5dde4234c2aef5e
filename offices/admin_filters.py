"""The office filter of every scoped list: it offers only the offices the user may see."""

from django.contrib import admin

from .scoping import office_ids_visible_to, offices_visible_to


class OfficeScopedFilter(admin.RelatedFieldListFilter):
    """Offer only the offices the user may see."""

    def field_choices(self, field, request, model_admin):
        office_ids = office_ids_visible_to(request.user)
        if office_ids is not None and len(office_ids) < 2:
            # A clerk's one office is no choice: Django shows no filter of a single choice
            # (has_output), so its name is not read (a query on every page of the list).
            return [(office_id, "") for office_id in office_ids]
        return [(office.pk, str(office)) for office in offices_visible_to(request.user)]
