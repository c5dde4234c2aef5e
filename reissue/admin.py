"""The clerks' screens. Declarations here; every write goes through `services`."""

import re
import unicodedata

from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources

from audit import staff as staff_services
from audit.models import AuditEntry, PersonalDataAccess
from common.changelists import LinkedOnceAdminMixin
from common.fields import EncryptedCharField
from common.pagination import CappedCountPaginator, ListCountCapMixin
from common.personal_numbers import (
    masked_column,
    masked_columns,
    masked_value,
    personal_number_mask,
)
from offices.admin_filters import OfficeScopedFilter
from offices.models import Office
from offices.scoping import (
    can_act_in_office,
    offices_visible_to,
    offices_worked_in,
    sees_all_offices,
)
from reissue import selectors, services
from workflow.admin import ServiceRefusalAdminMixin, WorkflowAdminMixin
from workflow.transitions import locked_fields

from . import admin_batches  # noqa: F401 (registers the card batches' screens)
from .admin_counter import CaseCounterMixin, HandledByMeFilter, WaitingForMeFilter
from .admin_documents import CaseDocumentsMixin
from .admin_exports import AuditExportMixin, CaseExportMixin, SafeExportMixin
from .admin_filters import (
    AccessedFieldListFilter,
    AuditActionListFilter,
    AuditTargetStateListFilter,
    ClockListFilter,
    OverdueListFilter,
    SupportedDateFieldListFilter,
)
from .admin_imports import CaseImportMixin
from .admin_receipt import CaseReceiptMixin
from .admin_search import (
    REFERENCE_START,
    ApplicantChangeList,
    IdNumberSearchMixin,
    SearchedCountMixin,
    case_reference_search_results,
    few_by_id,
    ids_of_cases_named,
)
from .case_workflow import CASE_WORKFLOW
from .forms import APPLICANT_FIELDS, CaseChangeForm, CaseRegistrationForm, RevealForm
from .models import Applicant, ReissueCase
from .permissions import can_act_for_applicant, can_see_full_id_number, scope_applicants
from .rating_link import text_shown_to_staff
from .timeline import timeline_for

User = get_user_model()


#: A case's number as a clerk reads it off a slip or hears it on the phone: "26", "000026",
#: "2026-26", "DC-26", "DC 2026 000026".
CASE_NUMBER = re.compile(
    r"^(?:(?P<office>[A-Z][A-Z0-9]{1,7})[- ]?)?(?:(?P<year>(?:19|20)[0-9]{2})[- ])?"
    r"(?P<number>[0-9]{1,6})$"
)
#: A reference start matching more cases than this ("B01-", an office's every case) is met
#: early walking the list newest first; fewer (an office's one year: 42,689 at 1M) are read
#: by the reference's index and sorted, 20 ms, where the walk took up to 226 ms.
REFERENCE_MATCHES_SORTED = 50_000


class OfficeMembershipInline(admin.TabularInline):
    model = Office.staff.through
    extra = 0
    verbose_name = gettext_lazy("office")
    verbose_name_plural = gettext_lazy("offices worked in")


class StaffChangesAuditedMixin:
    """Write every add, change and delete made on this screen to the audit trail, old -> new.

    `snapshot` reads the object from the database: before the save, and after its relations
    (groups, permissions, offices, staff) were saved too.
    """

    snapshot = None  # a staff_services.*_snapshot function

    def save_model(self, request, obj, form, change):
        request._staff_before = self.snapshot(obj) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        staff_services.staff_change_audited(
            obj=form.instance,
            before=request._staff_before,
            after=self.snapshot(form.instance),
            acting_user=request.user,
            action="edited" if change else "added",
        )

    def delete_model(self, request, obj):
        self._audit_deleted(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit_deleted(request, obj)
        super().delete_queryset(request, queryset)

    def _audit_deleted(self, request, obj):
        staff_services.staff_change_audited(
            obj=obj,
            before=self.snapshot(obj),
            after={},
            acting_user=request.user,
            action="deleted",
        )


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(StaffChangesAuditedMixin, UserAdmin):
    """Django's user admin, with the offices each user works in; every change audited."""

    inlines = [*UserAdmin.inlines, OfficeMembershipInline]
    snapshot = staticmethod(staff_services.user_snapshot)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            hashes = User.objects.filter(pk=id).values_list("password", flat=True)
            before = hashes.first()
            response = super().user_change_password(request, id, form_url)
            if before is not None and hashes.first() != before:
                staff_services.user_password_change_audited(
                    user=User.objects.get(pk=id), acting_user=request.user
                )
        return response


@admin.register(Group)
class AuditedGroupAdmin(StaffChangesAuditedMixin, GroupAdmin):
    snapshot = staticmethod(staff_services.group_snapshot)


@admin.register(Office)
class OfficeAdmin(StaffChangesAuditedMixin, admin.ModelAdmin):
    snapshot = staticmethod(staff_services.office_snapshot)
    list_display = ["code", "name", "phone", "opening_hours"]
    search_fields = ["code", "name"]
    filter_horizontal = ["staff"]

    def get_queryset(self, request):
        return offices_visible_to(request.user)


class RevealAdminMixin:
    """A deliberate look at a full ID number: the user gives a reason, the look is logged.

    `revealable` maps each number that may be looked at (services.RevealedNumber, its value
    the name in the URL) to its label; the service finds the number on the object itself.
    """

    # Encrypted numbers are text columns; the admin would give them a textarea.
    formfield_overrides = {EncryptedCharField: {"widget": widgets.AdminTextInputWidget}}

    revealable: dict = {}
    reveal_argument = "case"  # the keyword under which personal_data_reveal takes the object
    reveal_template = "admin/reissue/reveal.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.reveal_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_reveal"
        return [
            path("<path:object_id>/reveal/<str:which>/", view, name=name),
            *super().get_urls(),
        ]

    def reveal_view(self, request, object_id, which):
        obj = self.get_object(request, object_id)
        if obj is None or which not in self.revealable:
            raise Http404(_("Not found."))
        if not can_see_full_id_number(request.user):
            raise PermissionDenied
        number = services.RevealedNumber(which)
        form = RevealForm(request.POST or None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            revealed = services.personal_data_reveal(
                **{self.reveal_argument: obj},
                number=number,
                acting_user=request.user,
                reason=form.cleaned_data["reason"],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("See the full %(label)s") % {"label": self.revealable[number]},
            "masked": self._masked_number_on_file(obj, number),
            "revealed": revealed,
            "form": form,
            "change_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
            ),
        }
        response = TemplateResponse(request, self.reveal_template, context)
        response["Cache-Control"] = "no-store, private"  # the number must not stay in a cache
        return response

    @staticmethod
    def _number_on_file(obj, number) -> str:
        record, field = services.number_location(obj, number)
        return getattr(record, field)

    @staticmethod
    def _masked_number_on_file(obj, number) -> str:
        record, field = services.number_location(obj, number)
        return masked_value(
            getattr(record, field), personal_number_mask(record._meta.get_field(field))
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and can_see_full_id_number(request.user):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_reveal"
            context["reveal_links"] = [
                (label, reverse(name, args=[obj.pk, number.value]))
                for number, label in self.revealable.items()
                if self._number_on_file(obj, number)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)


# The loss report's kind and clocks, shown together (some are set by its steps and clocks).
LOSS_REPORT = [
    "loss_report_kind",
    "reported_via",
    "told_to_report_bank_loss",
    "lapses_at",
    "formal_reported_at",
    "old_card_cancel_on",
    "old_card_cancelled_at",
    "service_due_on",
    "overdue_flagged_at",
]
SMS_NOTICES = ["sms_opt_out", "sms_told_at"]


@admin.register(ReissueCase)
class ReissueCaseAdmin(
    CaseImportMixin,
    CaseExportMixin,
    CaseCounterMixin,
    CaseReceiptMixin,
    CaseDocumentsMixin,
    SearchedCountMixin,
    IdNumberSearchMixin,
    RevealAdminMixin,
    WorkflowAdminMixin,
    admin.ModelAdmin,
):
    id_number_lookup = "applicant__id_number_hash"
    change_form_template = "admin/reissue/reissuecase/change_form.html"
    revealable = {
        services.RevealedNumber.APPLICANT_ID_NUMBER: gettext_lazy("applicant's ID number"),
        services.RevealedNumber.AGENT_ID_NUMBER: gettext_lazy("agent's ID number"),
    }
    list_display = [
        "reference",
        "applicant_name",
        "masked_id_number",
        "office",
        "state_badge",
        "days_open",
        "handled_by",
    ]
    # All that a row of the list reads (list_display): the page's cases are fetched with these
    # columns only (IdNumberSearchChangeList.get_results; tests/reissue/test_request_costs.py).
    list_columns = [
        "reference",
        "state",
        "reported_at",
        "finished_at",
        "office__code",  # what the office and the clerk show as (Office and User __str__):
        "office__name",  # not the office's phone and hours, nor the clerk's password hash
        "handled_by__username",
        "applicant_name",
        "applicant__id_number",
    ]
    list_filter = [
        HandledByMeFilter,
        WaitingForMeFilter,
        "state",
        ("office", OfficeScopedFilter),
        "lost_items",
        "loss_kind",
        ("reported_at", SupportedDateFieldListFilter),
        OverdueListFilter,
        ClockListFilter,
    ]
    # Searched by get_search_results: a reference's start, a name's start, or a whole ID number.
    search_fields = ["reference", "applicant_name"]
    # Only the sorts an index serves in every office (newest first, the default, by reference
    # and by the applicant's name the case keeps): sorting by office, state or clerk sorted
    # every visible case before the page's 100 (1.5-3.4 s at 1M cases; bench/lists.py).
    sortable_by = ["reference", "applicant_name"]
    paginator = CappedCountPaginator
    search_help_text = gettext_lazy(
        "Search by reference or case number (26), name, or a complete ID number."
    )
    list_per_page = 100
    show_full_result_count = False
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
            gettext_lazy("Loss report"),
            {"fields": LOSS_REPORT},
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
        (gettext_lazy("SMS notices"), {"fields": SMS_NOTICES}),
        # What the steps recorded (the cards, their dates, ...), as case_workflow declares it.
        (
            gettext_lazy("Cards"),
            {
                "fields": [
                    f
                    for f in CASE_WORKFLOW.fields_set_by_steps
                    if f not in LOSS_REPORT and f not in SMS_NOTICES
                ]
            },
        ),
    ]
    # Set by registration or by a workflow step, never typed into the change form.
    readonly_fields = [
        *CASE_WORKFLOW.set_fields,
        "loss_report_kind",
        "reported_via",
        "old_card_cancelled_at",
        "office",
        "reported_at",
        "applicant_name",
        "masked_id_number",
        "applicant_phone",
    ]

    # Lists and pages --------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.cases_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        """Search one column, chosen by the shape of the term, so an index answers it.

        A whole ID number (searched through the search box, admin_search.py) is matched by its
        hash; a case number ("26", "2026-26", "DC-26") by the references it has in the user's
        offices; "DC-2026-00..." by the start of the reference; anything else by the start of
        the applicant's name (a surname, a full name).
        """
        exact = self.id_number_search_results(request, queryset, search_term)
        if exact is not None:
            return exact
        term = search_term.strip()
        if not term:
            return queryset, False
        lookups = Q()
        numbered = self._numbered_references(request, term)
        if numbered is not None:
            lookups |= Q(reference__in=numbered)
        if REFERENCE_START.match(term):
            lookups |= Q(reference__startswith=term.upper())
        digits = unicodedata.normalize("NFKC", term).isascii() and term.isdigit()
        if digits and not numbered:
            # No case has this number, or it is too long to be one: perhaps part of an ID number.
            self._hint_no_case_number(request, term)
            if numbered is None:
                return queryset.none(), False
        if numbered is None and not lookups:
            # The name the case keeps: the case's own index, no join to the applicants.
            lookups = Q(applicant_name__startswith=term)
        sorted_up_to = REFERENCE_MATCHES_SORTED if REFERENCE_START.match(term) else 0
        return few_by_id(request, queryset, lookups, sorted_up_to=sorted_up_to), False

    def _hint_no_case_number(self, request, term: str) -> None:
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "reissue_reissuecase_changelist":
            messages.info(
                request,
                _(
                    "No case of your offices has the number %(number)s. "
                    "An ID number is searched whole: type all 18 characters."
                )
                % {"number": term},
            )

    def _numbered_references(self, request, term: str) -> list[str] | None:
        """Return the references the case number `term` stands for, or None if it is none."""
        # Full-width digits and letters, as a Chinese input method types them, read as ASCII.
        match = CASE_NUMBER.match(unicodedata.normalize("NFKC", term).upper())
        if match is None or int(match["number"]) == 0:
            return None
        return selectors.case_references_numbered(
            offices=offices_visible_to(request.user),
            number=int(match["number"]),
            office_code=match["office"] or "",
            year=int(match["year"]) if match["year"] else None,
        )

    masked_id_number = staticmethod(
        masked_column(ReissueCase, "applicant__id_number", gettext_lazy("ID number"))
    )

    @admin.display(description=gettext_lazy("phone"))
    def applicant_phone(self, obj):
        return obj.applicant.phone

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
        masked = self._masked_read_only(request, obj)
        return [
            (title, {**opts, "fields": [masked.get(f, f) for f in opts["fields"]]})
            for title, opts in fieldsets
        ]

    def _masked_read_only(self, request, obj) -> dict:
        """Return {field: its masked column} for the personal numbers the page shows but does
        not let edit (all of a case only seen; those locked by a step taken, or set by one)."""
        masked = masked_columns(ReissueCase)
        if not self._editable(request, obj):
            return masked
        read_only = {*super().get_readonly_fields(request, obj), *locked_fields(obj)}
        return {name: column for name, column in masked.items() if name in read_only}

    def _editable(self, request, obj) -> bool:
        return obj.is_open and self.has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = CaseRegistrationForm if obj is None else CaseChangeForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            form.base_fields["office"].queryset = offices_worked_in(request.user)
            form.acting_user = request.user  # a class made for this request
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
        if not self._editable(request, obj):
            return [f for _title, opts in self.get_fieldsets(request, obj) for f in opts["fields"]]
        # What the steps taken relied on (workflow.field_locks; case_update refuses it too).
        read_only = [*super().get_readonly_fields(request, obj), *sorted(locked_fields(obj))]
        masked = self._masked_read_only(request, obj)
        return [masked.get(f, f) for f in read_only]

    def has_change_permission(self, request, obj=None):
        if obj is not None and not can_act_in_office(request.user, obj.office_id):
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
        if not form.changed_data:
            # Nothing typed, or nothing editable: a finished case's page (perhaps finished by
            # someone else since this one was opened) has no inputs, so there is nothing to save.
            return
        services.case_update(
            case=obj,
            acting_user=request.user,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited on this page."""

    def response_change(self, request, obj):
        if "_enter_claim" in request.POST:  # saved first, then on to the new claim
            url = reverse("admin:claims_expenseclaim_add")
            return HttpResponseRedirect(f"{url}?case={obj.pk}")
        return super().response_change(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            # Read once: the trail below, and the path the diagram draws (CaseCounterMixin).
            context["audit_trail"] = list(selectors.case_audit_trail(case=obj))
            context["case_timeline"] = timeline_for(obj)
            context["sms_messages"] = selectors.case_sms_messages(case=obj)
            for message in context["sms_messages"]:
                message.text_shown = text_shown_to_staff(message.text)  # no working rating link
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Applicant)
class ApplicantAdmin(
    ServiceRefusalAdminMixin,
    SearchedCountMixin,
    ListCountCapMixin,
    IdNumberSearchMixin,
    RevealAdminMixin,
    admin.ModelAdmin,
):
    id_number_lookup = "id_number_hash"
    change_form_template = "admin/reissue/applicant/change_form.html"
    revealable = {services.RevealedNumber.APPLICANT_ID_NUMBER: gettext_lazy("ID number")}
    reveal_argument = "applicant"
    # The list masks the phone as exports do; the applicant's own page shows it, to call them.
    # Birth date and sex are never shown: they are digits the masked number hides.
    list_display = ["name", "masked_id_number", "masked_phone"]
    sortable_by = ["name"]  # by the name index (Applicant.Meta); the numbers are encrypted
    # By the start of a name (get_search_results), which the name's prefix index answers.
    search_fields = ["name"]
    search_help_text = gettext_lazy("Search by name or a complete ID number.")
    fields = [
        "name",
        "masked_id_number",
        "phone",
        "hukou_address",
        "hukou_police_station",
    ]
    readonly_fields = ["masked_id_number"]
    show_full_result_count = False

    masked_id_number = staticmethod(
        masked_column(Applicant, "id_number", gettext_lazy("ID number"))
    )

    def get_queryset(self, request):
        return scope_applicants(super().get_queryset(request), request.user)

    def get_changelist(self, request, **kwargs):
        return ApplicantChangeList

    def get_search_results(self, request, queryset, search_term):
        exact = self.id_number_search_results(request, queryset, search_term)
        if exact is not None:
            return exact
        term = search_term.strip()
        if not term:
            return queryset, False
        # The start of a name, as on the case list: `icontains` read every applicant.
        if sees_all_offices(request.user):
            return few_by_id(request, queryset, name__startswith=term), False
        # Found through the names the office's cases keep (case_office_name_prefix_idx): the
        # applicants' own name index met every office's namesakes, each probed for a case in
        # the user's offices (王 in a small office at 1M: 1 s; bench/lists.py).
        named = ids_of_cases_named(request, term, column="applicant_id")
        if named is None:  # many: met early in the list's order
            named = selectors.applicant_ids_named(user=request.user, name_start=term)
        return few_by_id(request, queryset, pk__in_array=named), False

    masked_phone = staticmethod(masked_column(Applicant, "phone"))

    def has_add_permission(self, request):
        return False  # applicants are registered together with their first case

    def has_change_permission(self, request, obj=None):
        # Seeing an office is not working in it (an auditor): the page is then read-only.
        if obj is not None and not self._acts_for(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def _acts_for(self, request, obj) -> bool:
        # Asked several times per page: once per request and applicant.
        answers = request.__dict__.setdefault("_acts_for_applicant", {})
        if obj.pk not in answers:
            answers[obj.pk] = can_act_for_applicant(request.user, obj)
        return answers[obj.pk]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.applicant_update(
            applicant=obj,
            acting_user=request.user,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )


class AppendOnlyRecordAdmin(LinkedOnceAdminMixin, ListCountCapMixin, admin.ModelAdmin):
    """The audit trail and the access log: read only, with who acted by their name then."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("by"), ordering="actor_name")
    def by(self, obj):
        return obj.actor_display()  # the name they had then


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditExportMixin, AppendOnlyRecordAdmin):
    list_display = [
        "at",
        "case",
        "record",
        "action_label",
        "source_state_label",
        "target_state_label",
        "by",
        "comment",
        "changed_fields",
    ]
    list_filter = [AuditActionListFilter, AuditTargetStateListFilter]
    # An entry's own page reads as its row does: labels, not the stored codes.
    fields = readonly_fields = list_display
    # By time, either way (audit_time_idx): any other column sorted millions of entries.
    sortable_by = ["at"]
    # The start of a case's reference (get_search_results), answered by the case's index.
    search_fields = ["case__reference"]
    list_select_related = ["case", "actor"]
    show_full_result_count = False

    @admin.display(description=gettext_lazy("record"))
    def record(self, obj):
        return f"{obj.content_type.name} #{obj.object_id}"  # a staff change has no case

    # Labels in the reader's language, as the case page's own trail shows them.
    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_label(self, obj):
        return obj.action_display()

    @admin.display(description=gettext_lazy("from state"), ordering="source_state")
    def source_state_label(self, obj):
        return obj.source_state_display() or "-"

    @admin.display(description=gettext_lazy("to state"), ordering="target_state")
    def target_state_label(self, obj):
        return obj.target_state_display() or "-"

    @admin.display(description=gettext_lazy("changed fields"))
    def changed_fields(self, obj):
        return "; ".join(
            f"{label}: {old or '—'} → {new or '—'}" for label, old, new in obj.changes_display()
        )

    def get_queryset(self, request):
        return selectors.audit_entries_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        return case_reference_search_results(request, queryset, search_term)


class PersonalDataAccessResource(resources.ModelResource):
    """The access log as auditors export it: who looked at which record, when and why."""

    actor = fields.Field(attribute="actor_name", column_name=gettext_lazy("by"))
    case = fields.Field(attribute="case__reference", column_name=gettext_lazy("case"))
    record = fields.Field(attribute="record_display", column_name=gettext_lazy("record"))
    kind = fields.Field(attribute="get_kind_display", column_name=gettext_lazy("kind"))
    field = fields.Field(attribute="field_display", column_name=gettext_lazy("field"))

    class Meta:
        model = PersonalDataAccess
        fields = ["sequence", "at", "kind", "actor", "case", "record", "field", "reason"]
        export_order = fields


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(SafeExportMixin, AppendOnlyRecordAdmin):
    resource_classes = [PersonalDataAccessResource]
    list_display = ["at", "kind", "by", "case", "record", "field_label", "reason"]
    list_filter = ["kind", AccessedFieldListFilter]
    fields = readonly_fields = ["at", "kind", "by", "case", "record", "field_label", "reason"]
    sortable_by = ["at"]  # access_time_idx, as the audit trail
    # The start of a case's reference or a user name (get_search_results), each by an index.
    search_fields = ["case__reference", "actor__username"]
    list_select_related = ["actor", "case", "content_type"]
    show_full_result_count = False

    @admin.display(description=gettext_lazy("record"))
    def record(self, obj):
        return obj.record_display() or "-"

    @admin.display(description=gettext_lazy("field"), ordering="field")
    def field_label(self, obj):
        return obj.field_display()

    def get_queryset(self, request):
        return selectors.access_log_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and not REFERENCE_START.match(term):
            return queryset.filter(actor__username=term), False
        return case_reference_search_results(request, queryset, search_term)

    def has_export_permission(self, request):
        return self.has_view_permission(request)


# Register their admins: the city's case rules, the SMS notices' list.
from . import admin_outbox, admin_policies  # noqa: E402, F401
