"""The city's case rules in the admin: read by everyone who may, added by supervisors for
their offices, after a dry run on the office's open cases shown on a confirmation step."""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from offices.admin_filters import OfficeScopedFilter
from offices.scoping import can_act_in_office, offices_worked_in, scope_to_offices
from workflow.admin import ServiceRefusalAdminMixin

from . import policy_services
from .case_policy import CasePolicy

CONFIRMED = "_confirmed"


@admin.register(CasePolicy)
class CasePolicyAdmin(ServiceRefusalAdminMixin, admin.ModelAdmin):
    confirmation_template = "admin/reissue/casepolicy/confirm.html"
    list_display = [
        "office",
        "effective_from",
        "temporary_report_lapse_days",
        "old_card_cancelled_after_days",
        "temp_card_valid_days",
        "temp_card_max_valid_days",
        "service_deadline_working_days",
        "card_fee",
        "instant_issuance",
    ]
    list_filter = [("office", OfficeScopedFilter)]

    def get_queryset(self, request):
        return scope_to_offices(CasePolicy.objects.select_related("office"), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = offices_worked_in(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and (
            not can_act_in_office(request.user, obj.office_id)
            or policy_services.policy_in_force(obj)
        ):
            return False  # in force: cases were handled under it (a new one from a later day)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        policy_services.case_policy_save(policy=obj, acting_user=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and CONFIRMED not in request.POST:
            confirmation = self._confirmation(request, object_id)
            if confirmation is not None:
                return confirmation
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _confirmation(self, request, object_id):
        """Return the dry run's page for a valid form; None lets the form show its errors."""
        obj = self.get_object(request, object_id) if object_id else None
        allowed = (
            self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(
            request.POST, request.FILES, instance=obj
        )
        if not form.is_valid():
            return None
        policy = form.save(commit=False)
        dry_run = policy_services.policy_dry_run(policy=policy, acting_user=request.user)
        posted = [
            (name, value)
            for name, values in request.POST.lists()
            if name != "csrfmiddlewaretoken"
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Check the new case rules before saving"),
            "policy": policy,
            "summary": policy_services.rules_summary(policy.rules()),
            "dry_run": dry_run,
            "posted": posted,
            "confirmed": CONFIRMED,
            "back_url": self._back_url(obj, posted),
        }
        return TemplateResponse(request, self.confirmation_template, context)

    def _back_url(self, obj, posted) -> str:
        """The form again: a new policy's page filled in with what was typed (the add page
        reads its initial values from the query), a saved one's own page."""
        if obj is not None:
            return reverse("admin:reissue_casepolicy_change", args=[obj.pk])
        unticked = [
            (field.name, "")
            for field in CasePolicy._meta.fields
            if isinstance(field, models.BooleanField) and field.name not in dict(posted)
        ]
        query = urlencode([*posted, *unticked])
        return f"{reverse('admin:reissue_casepolicy_add')}?{query}"
