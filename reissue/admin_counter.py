"""Counter screens of a case: the acknowledgement slip, the workflow picture, the work queue."""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.selectors import object_audit_trail
from offices.scoping import offices_worked_in
from reissue import work_queue
from workflow.diagram import render_workflow_svg

from .slip import slip_for


class HandledByMeFilter(admin.SimpleListFilter):
    title = gettext_lazy("my cases")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Open cases handled by me"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return work_queue.cases_handled_by(user=request.user, queryset=queryset)
        return queryset


class WaitingForMeFilter(admin.SimpleListFilter):
    title = gettext_lazy("work queue")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Waiting for me"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return work_queue.cases_waiting_for(user=request.user, queryset=queryset)
        return queryset


class CaseCounterMixin:
    slip_template = "admin/reissue/reissuecase/slip.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.slip_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_slip"
        return [path("<path:object_id>/slip/", view, name=name), *super().get_urls()]

    def slip_view(self, request, object_id):
        """Show the printable acknowledgement slip of a case the user may see."""
        case = self.get_object(request, object_id)  # scoped: another office's case is None
        if case is None:
            raise Http404(_("No such case."))
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "slip": slip_for(case, absolute_url=request.build_absolute_uri),
            "title": _("Acknowledgement slip %(reference)s") % {"reference": case.reference},
            "change_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[case.pk]
            ),
        }
        response = TemplateResponse(request, self.slip_template, context)
        response["Cache-Control"] = "no-store, private"  # a name and a case on a shared computer
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_slip"
            context["print_links"] = [(_("Print slip"), reverse(name, args=[obj.pk]), "slip")]
            context["workflow_diagram"] = render_workflow_svg(
                obj, _own_entries(context.get("audit_trail"), obj), user=request.user
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _own_entries(trail, case) -> list:
    """Return the case's own audit entries (not its claim's), from its trail where the page
    has read it already: every entry about a case names the case."""
    if trail is None:
        return list(object_audit_trail(obj=case))
    case_type = ContentType.objects.get_for_model(type(case))
    return [e for e in trail if e.content_type_id == case_type.pk and e.object_id == case.pk]


def _changelist(query: str) -> str:
    return f"{reverse('admin:reissue_reissuecase_changelist')}?{query}"


def case_queue(user) -> list[work_queue.QueueCount]:
    """Return the case counts of the work queue for a user who moves cases in an office."""
    moves_cases = any(user.has_perm(p) for p in work_queue.office_steps_due())
    if not (moves_cases and offices_worked_in(user).exists()):
        return []  # reviewers and auditors read cases; their work is elsewhere
    counts = []
    if user.has_perm("reissue.add_reissuecase"):
        mine = work_queue.capped_count(work_queue.cases_handled_by(user=user))
        counts.append(
            work_queue.QueueCount("mine", _("My open cases"), mine, _changelist("mine=yes"))
        )
    waiting = work_queue.capped_count(work_queue.cases_waiting_for(user=user))
    overdue = work_queue.capped_count(work_queue.cases_overdue(user=user))
    # `overdue=1` is the case list's reports.admin_filters.OverdueListFilter.
    return [
        *counts,
        work_queue.QueueCount(
            "waiting", _("Cases waiting for me"), waiting, _changelist("waiting=yes")
        ),
        work_queue.QueueCount("overdue", _("Overdue cases"), overdue, _changelist("overdue=1")),
    ]
