"""The ratings, their follow-ups and appeals in the admin: lists scoped to the user's offices,
and one form per step, each calling its service."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from common.exceptions import ObjectNotFound, Refusal
from offices.admin_filters import OfficeScopedFilter
from offices.scoping import can_act_in_office

from . import selectors, services
from .forms import AppealDecisionForm, AppealForm, FollowUpOutcomeForm, add_errors
from .models import AppealDecision, FollowUp, Rating, RatingAppeal


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by services only: the change page shows, the step forms write."""

    change_form_template = "admin/ratings/change_form.html"
    # {url name suffix: (view method, label, may(user, obj))}, per admin.
    steps: dict = {}

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        steps = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(getattr(self, view)),
                name=f"{prefix}_{name}",
            )
            for name, (view, _label, _may) in self.steps.items()
        ]
        return [*steps, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        links = []
        if obj is not None:
            prefix = f"admin:{self.opts.app_label}_{self.opts.model_name}"
            links = [
                (str(label), reverse(f"{prefix}_{name}", args=[obj.pk]))
                for name, (_view, label, may) in self.steps.items()
                if may(request.user, obj)
            ]
        extra_context = {**(extra_context or {}), "step_links": links}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def step_view(self, request, object_id, *, form_class, label, permission, may, run):
        """Show the step's form; on a valid POST call `run(obj, cleaned_data)` (a service).

        Without `permission`: 403. Once the step is no longer open (done or decided meanwhile,
        by someone else perhaps): a message on the object's page, not an error.
        """
        obj = self.get_object(request, object_id)  # scoped: another office's is None
        if obj is None:
            raise Http404(_("Not found."))
        if not request.user.has_perm(permission):
            raise PermissionDenied
        if not may(request.user, obj):
            messages.warning(request, _("This step is not open on this record (any more)."))
            return HttpResponseRedirect(self.change_url(obj))
        form = form_class(request.POST) if request.method == "POST" else form_class()
        if request.method == "POST" and form.is_valid():
            try:
                run(obj, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            except ObjectNotFound as error:
                raise Http404(_("Not found.")) from error
            except Refusal as refusal:
                messages.error(request, refusal.message)
                return HttpResponseRedirect(self.change_url(obj))
            else:
                messages.success(request, _("Done: %(what)s.") % {"what": label})
                return HttpResponseRedirect(self.change_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": label,
            "label": label,
            "form": form,
            "change_url": self.change_url(obj),
        }
        return TemplateResponse(request, "admin/ratings/step_form.html", context)


def _may_record(user, follow_up: FollowUp) -> bool:
    return (
        user.has_perm("ratings.record_follow_up")
        and can_act_in_office(user, follow_up.office_id)
        and not follow_up.is_done
    )


def _may_appeal(user, rating: Rating) -> bool:
    return (
        user.has_perm("ratings.appeal_rating")
        and can_act_in_office(user, rating.office_id)
        and not hasattr(rating, "appeal")
    )


def _may_decide(user, appeal: RatingAppeal) -> bool:
    return (
        user.has_perm("ratings.decide_rating_appeal")
        and appeal.decision == AppealDecision.PENDING
        and appeal.appealed_by_id != user.pk
    )


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["case", "office", "level", "rated_at", "follow_up_state", "excluded"]
    list_filter = ["level", "excluded", ("office", OfficeScopedFilter)]
    search_fields = ["case__reference"]
    fields = ["case", "office", "level", "comment", "rated_at", "excluded"]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.ratings_visible_to(user=request.user)

    steps = {"appeal": ("appeal_view", gettext_lazy("Appeal this rating"), _may_appeal)}

    @admin.display(description=gettext_lazy("follow-up"))
    def follow_up_state(self, obj):
        follow_up = getattr(obj, "follow_up", None)
        if follow_up is None:
            return "—"
        return follow_up_state(follow_up)

    def appeal_view(self, request, object_id):
        return self.step_view(
            request,
            object_id,
            form_class=AppealForm,
            label=_("Appeal this rating"),
            permission="ratings.appeal_rating",
            may=_may_appeal,
            run=lambda rating, data: services.rating_appeal(
                rating=rating, acting_user=request.user, reason=data["reason"]
            ),
        )


def follow_up_state(follow_up: FollowUp) -> str:
    if follow_up.is_done:
        return _("done")
    if follow_up.due_on < timezone.localdate():
        return _("overdue (due %(date)s)") % {"date": follow_up.due_on.isoformat()}
    return _("open (due %(date)s)") % {"date": follow_up.due_on.isoformat()}


class FollowUpStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", pgettext_lazy("a follow-up", "open")),
            ("overdue", gettext_lazy("overdue")),
            ("done", gettext_lazy("done")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "overdue":
            return queryset.filter(selectors.overdue_follow_up_filter())
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["rating", "office", "due_on", "state", "done_at", "done_by"]
    list_filter = [FollowUpStateFilter, ("office", OfficeScopedFilter)]
    search_fields = ["rating__case__reference"]
    fields = ["rating", "comment", "office", "due_on", "state", "outcome", "done_at", "done_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.follow_ups_visible_to(user=request.user)

    steps = {"outcome": ("outcome_view", gettext_lazy("Record the outcome"), _may_record)}

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj):
        return follow_up_state(obj)

    @admin.display(description=gettext_lazy("the citizen's comment"))
    def comment(self, obj):
        return obj.rating.comment or "—"

    def outcome_view(self, request, object_id):
        return self.step_view(
            request,
            object_id,
            form_class=FollowUpOutcomeForm,
            label=_("Record the outcome"),
            permission="ratings.record_follow_up",
            may=_may_record,
            run=lambda follow_up, data: services.follow_up_record_outcome(
                follow_up=follow_up, acting_user=request.user, outcome=data["outcome"]
            ),
        )


@admin.register(RatingAppeal)
class RatingAppealAdmin(ReadOnlyAdmin):
    list_display = ["rating", "office", "appealed_at", "appealed_by", "decision", "decided_by"]
    list_filter = ["decision", ("office", OfficeScopedFilter)]
    search_fields = ["rating__case__reference"]
    fields = [
        "rating",
        "office",
        "reason",
        "appealed_by",
        "appealed_at",
        "decision",
        "decision_note",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.appeals_visible_to(user=request.user)

    steps = {"decide": ("decide_view", gettext_lazy("Decide the appeal"), _may_decide)}

    def decide_view(self, request, object_id):
        return self.step_view(
            request,
            object_id,
            form_class=AppealDecisionForm,
            label=_("Decide the appeal"),
            permission="ratings.decide_rating_appeal",
            may=_may_decide,
            run=lambda appeal, data: services.rating_appeal_decide(
                appeal=appeal,
                acting_user=request.user,
                upheld=data["decision"] == AppealDecision.UPHELD,
                note=data["note"],
            ),
        )
