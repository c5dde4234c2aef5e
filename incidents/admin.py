"""The incident register's screens. Declarations here; every write goes through `services`."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from common.changelists import LinkedOnceAdminMixin
from common.pagination import CappedCountPaginator
from incidents import selectors, services
from workflow.admin import WorkflowAdminMixin

from .incident_workflow import INCIDENT_WORKFLOW
from .models import Incident

DETAILS = ["title", "description", "occurred_at", "discovered_at"]
# Set by the report or by a workflow step, never typed into the change form.
RECORDED = INCIDENT_WORKFLOW.set_fields


@admin.register(Incident)
class IncidentAdmin(LinkedOnceAdminMixin, WorkflowAdminMixin, admin.ModelAdmin):
    change_form_template = "admin/incidents/incident/change_form.html"
    list_display = [
        "title",
        "state_badge",
        "discovered_at",
        "affected_case_count",
        "reported_by",
    ]
    list_filter = ["state"]
    search_fields = ["title"]
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator
    autocomplete_fields = ["affected_cases"]
    readonly_fields = RECORDED

    def get_queryset(self, request):
        return selectors.incidents_visible_to(user=request.user)

    @admin.display(description=gettext_lazy("affected cases"), ordering="affected_case_count")
    def affected_case_count(self, obj):
        return obj.affected_case_count

    # Which fields a user may edit --------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*DETAILS, "affected_cases"]})]
        # Those who may not edit read the affected cases in their own section, office-scoped.
        details = (
            [*DETAILS, "affected_cases"] if self.has_change_permission(request, obj) else DETAILS
        )
        return [
            (None, {"fields": details}),
            (gettext_lazy("Record"), {"fields": ["state", "reported_by", "reported_at"]}),
            (gettext_lazy("Remedial measures"), {"fields": ["containment_steps"]}),
            (
                gettext_lazy("Notification"),
                {
                    "fields": [
                        "persons_notified_at",
                        "notification_method",
                        "authority_informed_at",
                        "authority_name",
                    ]
                },
            ),
            (gettext_lazy("Closing"), {"fields": ["closing_summary"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "affected_cases":
            kwargs["queryset"] = selectors.cases_selectable_for_incident(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "affected_cases":
            # Cases are registered at the counter, not from an incident's page.
            formfield.widget.can_add_related = False
        return formfield

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.state in INCIDENT_WORKFLOW.finished_states:
            return False  # the record of a closed incident stays as it was closed
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # the register must keep every incident

    def get_actions(self, request):
        return {}

    # Writes through services ------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        cases = form.cleaned_data.get("affected_cases")
        if not change:
            services.incident_report(
                incident=obj, affected_cases=cases or [], acting_user=request.user
            )
            return
        services.incident_update(
            incident=obj,
            acting_user=request.user,
            data={name: form.cleaned_data[name] for name in form.changed_data if name in DETAILS},
            affected_cases=cases if "affected_cases" in form.changed_data else None,
        )

    def save_related(self, request, form, formsets, change):
        """The services saved the affected cases."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            visible = list(selectors.affected_cases_visible_to(incident=obj, user=request.user))
            context["affected_cases"] = visible
            context["hidden_affected_case_count"] = obj.affected_cases.count() - len(visible)
            context["audit_trail"] = selectors.incident_audit_trail(incident=obj, user=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)
