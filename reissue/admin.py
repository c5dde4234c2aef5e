"""The clerks' screens. Declarations here; every write goes through `services`."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors, services
from .admin_workflow import WorkflowAdminMixin
from .forms import APPLICANT_FIELDS, CASE_STEP_FORMS, CaseRegistrationForm
from .id_numbers import mask_id_number, normalize_id_number
from .models import Applicant, AuditEntry, Office, ReissueCase
from .permissions import (
    can_see_full_id_number,
    offices_visible_to,
    offices_worked_in,
    scope_applicants,
)

User = get_user_model()


def shown_id_number(user, value: str) -> str:
    """Return the ID number as `user` may see it: full with the right, masked otherwise."""
    if not value:
        return ""
    return value if can_see_full_id_number(user) else mask_id_number(value)


class UserBoundColumnsMixin:
    """Show ID numbers through columns bound to the request's user.

    A ModelAdmin instance serves every request, so the user cannot be kept on it; each
    request gets its own display callables, cached on the request, and they stand in for the
    names of `user_bound_columns` in list_display, fieldsets and readonly_fields alike.
    """

    def column_values(self, user) -> dict:
        """Return {column name: (description, function of obj and user)}."""
        raise NotImplementedError

    def _columns(self, request) -> dict:
        cache = request.__dict__.setdefault("_user_bound_columns", {})
        if self not in cache:
            cache[self] = {
                name: _bound_column(request.user, name, description, value)
                for name, (description, value) in self.column_values(request.user).items()
            }
        return cache[self]

    def _bind(self, request, names):
        columns = self._columns(request)
        return [columns.get(name, name) if isinstance(name, str) else name for name in names]

    def get_list_display(self, request):
        return self._bind(request, super().get_list_display(request))

    def get_fieldsets(self, request, obj=None):
        return [
            (title, {**options, "fields": self._bind(request, options["fields"])})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request, obj=None):
        return self._bind(request, super().get_readonly_fields(request, obj))


def _bound_column(user, name, description, value):
    def column(obj):
        return value(obj, user)

    column.__name__ = name
    column.short_description = description
    return column


def id_number_search(queryset, search_term: str, lookup: str):
    """Return the queryset narrowed to an exact ID number, or None if the term is not one.

    Only exact numbers are searched: a partial match would let a user probe hidden digits.
    """
    term = normalize_id_number(search_term)
    if len(term) == 18 and term[:17].isdigit():
        return queryset.filter(**{lookup: term})
    return None


class OfficeScopedFilter(admin.RelatedFieldListFilter):
    """Offer only the offices the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(office.pk, str(office)) for office in offices_visible_to(request.user)]


class OfficeMembershipInline(admin.TabularInline):
    model = Office.staff.through
    extra = 0
    verbose_name = gettext_lazy("office")
    verbose_name_plural = gettext_lazy("offices worked in")


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin, with the offices each user works in."""

    inlines = [*UserAdmin.inlines, OfficeMembershipInline]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["staff"]

    def get_queryset(self, request):
        return offices_visible_to(request.user)


@admin.register(ReissueCase)
class ReissueCaseAdmin(WorkflowAdminMixin, UserBoundColumnsMixin, admin.ModelAdmin):
    change_form_template = "admin/reissue/reissuecase/change_form.html"
    step_forms = CASE_STEP_FORMS
    step_services = services.CASE_STEP_SERVICES
    list_display = [
        "reference",
        "applicant_name",
        "masked_id_number",
        "office",
        "state_badge",
        "days_open",
        "handled_by",
    ]
    list_filter = ["state", ("office", OfficeScopedFilter), "lost_items", "loss_kind"]
    search_fields = ["reference", "applicant__name"]
    search_help_text = gettext_lazy("Search by reference, name, or a complete ID number.")
    list_per_page = 100
    show_full_result_count = False
    date_hierarchy = "reported_at"
    fieldsets = [
        (
            gettext_lazy("Case"),
            {"fields": ["reference", "state", "office", "handled_by", "reported_at"]},
        ),
        (
            gettext_lazy("Applicant"),
            {"fields": ["applicant_name", "masked_id_number", "applicant_phone"]},
        ),
        (
            gettext_lazy("Loss"),
            {"fields": ["lost_items", "loss_kind", "loss_date", "ss_card_suspended_at"]},
        ),
        (
            gettext_lazy("Documents presented"),
            {
                "fields": [
                    "presented_hukou_book",
                    "presented_id_card",
                    "presented_photo",
                    "converts_ic_card",
                ]
            },
        ),
        (gettext_lazy("Agent"), {"fields": ["agent_acts", "agent_name", "agent_id_number"]}),
        (
            gettext_lazy("Cards"),
            {
                "fields": [
                    "temp_card_number",
                    "temp_card_issued_on",
                    "id_card_issued_on",
                    "ss_card_number",
                    "ss_card_issued_on",
                    "cancel_reason",
                    "finished_at",
                ]
            },
        ),
    ]
    # Set by registration or by a workflow step, never typed into the change form.
    readonly_fields = [
        "reference",
        "state",
        "office",
        "handled_by",
        "reported_at",
        "applicant_name",
        "masked_id_number",
        "applicant_phone",
        "ss_card_suspended_at",
        "temp_card_number",
        "temp_card_issued_on",
        "id_card_issued_on",
        "ss_card_number",
        "ss_card_issued_on",
        "cancel_reason",
        "finished_at",
    ]

    def column_values(self, user):
        return {
            "masked_id_number": (
                gettext_lazy("ID number"),
                lambda case, user: shown_id_number(user, case.applicant.id_number),
            ),
            "shown_agent_id_number": (
                gettext_lazy("agent's ID number"),
                lambda case, user: shown_id_number(user, case.agent_id_number),
            ),
        }

    # Lists and pages --------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.cases_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        exact = id_number_search(queryset, search_term, "applicant__id_number")
        if exact is not None:
            return exact, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=gettext_lazy("ID number"))
    def masked_id_number(self, obj):
        # Stand-in for system checks; each request shows its own user-bound column instead.
        return mask_id_number(obj.applicant.id_number)

    @admin.display(description=gettext_lazy("applicant"), ordering="applicant__name")
    def applicant_name(self, obj):
        return obj.applicant.name

    @admin.display(description=gettext_lazy("phone"))
    def applicant_phone(self, obj):
        return obj.applicant.phone

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj):
        return format_html(
            '<span class="state-badge state-{}">{}</span>', obj.state, obj.get_state_display()
        )

    @admin.display(description=gettext_lazy("days open"))
    def days_open(self, obj):
        return obj.days_open()

    # Which fields a user may edit --------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (_("Applicant"), {"fields": APPLICANT_FIELDS}),
                (_("Report"), {"fields": CaseRegistrationForm.Meta.fields}),
            ]
        fieldsets = super().get_fieldsets(request, obj)
        if self._agent_id_number_hidden(request, obj):
            columns = self._columns(request)
            fieldsets = [
                (
                    title,
                    {
                        **opts,
                        "fields": [
                            columns["shown_agent_id_number"] if f == "agent_id_number" else f
                            for f in opts["fields"]
                        ],
                    },
                )
                for title, opts in fieldsets
            ]
        return fieldsets

    def _agent_id_number_hidden(self, request, obj) -> bool:
        # Once typed, the agent's number is shown masked to users without the right.
        return bool(obj.agent_id_number) and not can_see_full_id_number(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CaseRegistrationForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            form.base_fields["office"].queryset = offices_worked_in(request.user)
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        offices = list(offices_worked_in(request.user)[:2])
        if len(offices) == 1:
            initial.setdefault("office", offices[0].pk)  # most clerks work in one office
        return initial

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not obj.is_open or not self.has_change_permission(request, obj):
            return [f for _title, opts in self.get_fieldsets(request, obj) for f in opts["fields"]]
        readonly = super().get_readonly_fields(request, obj)
        if self._agent_id_number_hidden(request, obj):
            readonly.append(self._columns(request)["shown_agent_id_number"])
        return readonly

    def has_change_permission(self, request, obj=None):
        if (
            obj is not None
            and not offices_worked_in(request.user).filter(pk=obj.office_id).exists()
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # cases are cancelled, never deleted: the record must not be lost

    def get_actions(self, request):
        return {}

    # Writes through services ------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            services.case_register(
                case=obj, applicant_fields=form.applicant_fields(), acting_user=request.user
            )
            for warning in form.warnings():
                messages.warning(request, warning)
            return
        services.case_update(
            case=obj,
            acting_user=request.user,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited on this page."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["audit_trail"] = selectors.case_audit_trail(case=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Applicant)
class ApplicantAdmin(UserBoundColumnsMixin, admin.ModelAdmin):
    list_display = ["name", "masked_id_number", "birth_date", "sex", "phone"]
    search_fields = ["name"]
    search_help_text = gettext_lazy("Search by name or a complete ID number.")
    fields = [
        "name",
        "masked_id_number",
        "birth_date",
        "sex",
        "phone",
        "hukou_address",
        "hukou_police_station",
    ]
    readonly_fields = ["masked_id_number", "birth_date", "sex"]
    show_full_result_count = False

    def column_values(self, user):
        return {
            "masked_id_number": (
                gettext_lazy("ID number"),
                lambda applicant, user: shown_id_number(user, applicant.id_number),
            )
        }

    @admin.display(description=gettext_lazy("ID number"))
    def masked_id_number(self, obj):
        # Stand-in for system checks; each request shows its own user-bound column instead.
        return mask_id_number(obj.id_number)

    def get_queryset(self, request):
        return scope_applicants(super().get_queryset(request), request.user)

    def get_search_results(self, request, queryset, search_term):
        exact = id_number_search(queryset, search_term, "id_number")
        if exact is not None:
            return exact, False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False  # applicants are registered together with their first case

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.applicant_update(
            applicant=obj,
            acting_user=request.user,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "case", "action", "source_state", "target_state", "actor", "comment"]
    list_filter = ["action"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "actor"]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.audit_entries_visible_to(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
