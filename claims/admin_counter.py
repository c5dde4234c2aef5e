"""The printable notice of a reimbursement decision, the claim's workflow picture, and the
claims' share of the work queue on the admin home."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from audit.selectors import object_audit_trail
from claims import selectors
from common.id_numbers import mask_id_number
from offices.scoping import scope_to_offices_worked_in
from reissue import work_queue
from reissue.slip import reference_qr_svg
from workflow.diagram import render_workflow_svg

from .models import ClaimState

DECIDED_STATES = [ClaimState.APPROVED, ClaimState.REJECTED, ClaimState.PAID]


class ClaimCounterMixin:
    notice_template = "admin/claims/expenseclaim/notice.html"

    def _notice_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_notice"

    def get_urls(self):
        view = self.admin_site.admin_view(self.notice_view)
        return [
            path("<path:object_id>/notice/", view, name=self._notice_url_name()),
            *super().get_urls(),
        ]

    def notice_view(self, request, object_id):
        """Show the printable notice of a decided claim the user may see."""
        claim = self.get_object(request, object_id)  # scoped: another office's claim is None
        if claim is None or claim.state not in DECIDED_STATES:
            raise Http404(_("No decided claim here."))
        if not self.has_view_permission(request, claim):
            raise PermissionDenied
        review = selectors.claim_review(claim=claim)
        case = claim.case
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": claim,
            "claim": claim,
            "case": case,
            "review": review,
            "approved": claim.state in (ClaimState.APPROVED, ClaimState.PAID),
            "rates": review.policy_rates,
            "masked_id_number": mask_id_number(case.applicant.id_number),
            "qr_svg": reference_qr_svg(case.reference),
            "title": _("Decision on the expense claim of %(reference)s")
            % {"reference": case.reference},
            "change_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[claim.pk]
            ),
        }
        response = TemplateResponse(request, self.notice_template, context)
        response["Cache-Control"] = "no-store, private"
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            if obj.state in DECIDED_STATES:
                url = reverse(f"admin:{self._notice_url_name()}", args=[obj.pk])
                context["print_links"] = [(_("Print decision notice"), url, "notice")]
            context["workflow_diagram"] = render_workflow_svg(
                obj, object_audit_trail(obj=obj), user=request.user
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _claims_changelist(query: str) -> str:
    return f"{reverse('admin:claims_expenseclaim_changelist')}?{query}"


def claim_queue(user) -> list[work_queue.QueueCount]:
    """Return the claims waiting for the user: to examine (reviewers), to pay (supervisors)."""
    if not user.has_perm("claims.view_expenseclaim"):
        return []
    counts = []
    if user.has_perm("claims.examine_claim"):
        counts.append(
            work_queue.QueueCount(
                "review",
                _("Claims waiting for my examination"),
                work_queue.capped_count(selectors.claims_waiting_for_review(user=user)),
                _claims_changelist("queue=waiting_for_me"),
            )
        )
    if user.has_perm("claims.pay_claim"):
        to_pay = scope_to_offices_worked_in(selectors.claims_visible_to(user=user), user).filter(
            state=ClaimState.APPROVED
        )
        counts.append(
            work_queue.QueueCount(
                "pay",
                _("Approved claims to pay"),
                work_queue.capped_count(to_pay),
                _claims_changelist(f"state__exact={ClaimState.APPROVED}"),
            )
        )
    return counts
