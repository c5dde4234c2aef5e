"""Claims screens: receipts inline, the review table, decisions and payment as workflow steps."""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.selectors import object_audit_trail
from claims import selectors, services
from common.display import format_yuan
from common.pagination import ListCountCapMixin
from offices.admin_filters import OfficeScopedFilter
from offices.scoping import can_act_in_office, offices_worked_in, scope_to_offices_worked_in
from reissue.admin_search import (
    REFERENCE_START,
    MatchesSortedChangeList,
    SearchedCountMixin,
    few_by_id,
    ids_of_cases_named,
)
from reissue.case_workflow import CASE_WORKFLOW
from reissue.models import ReissueCase
from workflow.admin import ServiceRefusalAdminMixin, WorkflowAdminMixin

from .admin_counter import ClaimCounterMixin
from .admin_exports import ClaimExportMixin
from .forms import ClaimItemForm, ClaimItemFormSet
from .models import ClaimItem, ExpenseClaim, ReimbursementPolicy


class ReviewQueueFilter(admin.SimpleListFilter):
    title = gettext_lazy("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("waiting_for_me", gettext_lazy("Waiting for my examination"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting_for_me":
            return selectors.claims_waiting_for_review(user=request.user, queryset=queryset)
        return queryset


class ClaimItemInline(admin.TabularInline):
    model = ClaimItem
    form = ClaimItemForm
    formset = ClaimItemFormSet
    extra = 1
    fields = ["provider", "visit_date", "receipt_number", "category", "amount"]

    def get_formset(self, request, obj=None, **kwargs):
        # A form class of this request: the duplicate check names cases only the user may see.
        kwargs["form"] = type("ClaimItemForm", (ClaimItemForm,), {"acting_user": request.user})
        return super().get_formset(request, obj, **kwargs)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._editable(request, obj) else 0

    def _editable(self, request, claim) -> bool:
        return claim is None or (
            claim.is_editable and can_act_in_office(request.user, claim.case.office_id)
        )

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)


@admin.register(ExpenseClaim)
class ExpenseClaimAdmin(
    ClaimExportMixin,
    ClaimCounterMixin,
    SearchedCountMixin,
    ListCountCapMixin,
    WorkflowAdminMixin,
    admin.ModelAdmin,
):
    change_form_template = "admin/claims/expenseclaim/change_form.html"
    inlines = [ClaimItemInline]
    list_display = [
        "case_reference",
        "applicant_name",
        "office_code",
        "state_badge",
        "claimed_total",
        "reimbursable",
        "entered_by",
    ]
    list_filter = [ReviewQueueFilter, "state", ("office", OfficeScopedFilter)]
    # The start of the case's reference or of the applicant's name (get_search_results).
    search_fields = ["case__reference", "case__applicant_name"]
    search_help_text = gettext_lazy("Search by the start of a case reference or of a name.")
    # Newest first (the default) or by the case's reference: each read in index order.
    sortable_by = ["case_reference"]
    show_full_result_count = False
    list_per_page = 100
    readonly_fields = [
        "case",
        "state",
        "entered_by",
        "submitted_by",
        "submitted_at",
        "examined_by",
        "examined_at",
        "decision_reason",
        "reimbursable_total",
        "payment_reference",
        "paid_by",
        "paid_at",
    ]
    autocomplete_fields = ["case"]

    def get_queryset(self, request):
        # Sorted (by the case's reference, the one sortable column): scoped by the cases'
        # office, which that sort's index leads with.
        return selectors.claims_visible_to(
            user=request.user, by_case_office=bool(request.GET.get(ORDER_VAR))
        )

    def get_changelist(self, request, **kwargs):
        return MatchesSortedChangeList

    def get_search_results(self, request, queryset, search_term):
        """Search the start of one column, so an index answers it (`icontains` read them all)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if REFERENCE_START.match(term):
            return few_by_id(request, queryset, case__reference__startswith=term.upper()), False
        # The name the case keeps (ReissueCase.applicant_name), served by the case's index.
        case_ids = ids_of_cases_named(request, term)
        if case_ids is not None:
            # By the case's id: a related lookup normalizes each value (3 µs each).
            return few_by_id(request, queryset, case__id__in_array=case_ids), False
        return few_by_id(request, queryset, case__applicant_name__startswith=term), False

    def get_fields(self, request, obj=None):
        return ["case"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "case":
            # Only open cases of the user's own offices that have no claim yet.
            kwargs["queryset"] = scope_to_offices_worked_in(
                ReissueCase.objects.filter(
                    state__in=CASE_WORKFLOW.open_states, expense_claim__isnull=True
                ),
                request.user,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("case"), ordering="case__reference")
    def case_reference(self, obj):
        return obj.case.reference

    @admin.display(description=gettext_lazy("applicant"))
    def applicant_name(self, obj):
        return obj.case.applicant_name

    @admin.display(description=gettext_lazy("office"))
    def office_code(self, obj):
        return obj.office.code

    @admin.display(description=gettext_lazy("claimed (yuan)"))
    def claimed_total(self, obj):
        return format_yuan(obj.claimed_total)

    @admin.display(description=gettext_lazy("reimbursable amount"))
    def reimbursable(self, obj):
        return format_yuan(obj.reimbursable_total)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not can_act_in_office(request.user, obj.case.office_id):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def service_refused(self, request, error, *, back_url):
        if isinstance(error, services.ClaimAlreadyOpened):
            # Two clerks opened the claim of one case at once: take the loser to the claim.
            messages.warning(
                request,
                _("A claim was opened for case %(reference)s a moment ago; here it is.")
                % {"reference": error.claim.case.reference},
            )
            return HttpResponseRedirect(
                reverse("admin:claims_expenseclaim_change", args=[error.claim.pk])
            )
        return super().service_refused(request, error, back_url=back_url)

    def save_model(self, request, obj, form, change):
        if not change:
            claim = services.claim_start(case=obj.case, acting_user=request.user)
            obj.pk, obj._state.adding = claim.pk, False

    def save_formset(self, request, form, formset, change):
        """Save each receipt through the services; tell the admin's history what changed."""
        claim, user = form.instance, request.user
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for item_form in formset.deleted_forms:
            if item_form.instance.pk:
                services.claim_remove_item(item=item_form.instance, acting_user=user)
                formset.deleted_objects.append(item_form.instance)
        for item_form in formset.forms:
            if item_form in formset.deleted_forms or not item_form.has_changed():
                continue
            data = {name: item_form.cleaned_data[name] for name in ClaimItemForm.Meta.fields}
            if item_form.instance.pk:
                item = services.claim_change_item(
                    item=item_form.instance, acting_user=user, data=data
                )
                formset.changed_objects.append((item, item_form.changed_data))
            else:
                item = services.claim_add_item(claim=claim, acting_user=user, **data)
                formset.new_objects.append(item)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["review"] = selectors.claim_review(claim=obj)
            context["audit_trail"] = object_audit_trail(obj=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(ReimbursementPolicy)
class ReimbursementPolicyAdmin(ServiceRefusalAdminMixin, admin.ModelAdmin):
    list_display = [
        "office",
        "effective_from",
        "deductible",
        "rate_outpatient",
        "rate_inpatient",
        "rate_pharmacy",
        "cap_per_case",
    ]
    list_filter = [("office", OfficeScopedFilter)]

    def get_queryset(self, request):
        return selectors.policies_visible_to(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = offices_worked_in(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and (
            not can_act_in_office(request.user, obj.office_id) or obj.expenseclaim_set.exists()
        ):
            return False  # a policy applied to a decision stays as it was decided
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.policy_save(policy=obj, acting_user=request.user)
