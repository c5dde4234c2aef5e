"""The collection receipt's page of a case (领卡回执), printed like the acknowledgement slip."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from .receipt import has_receipt, receipt_for
from .slip import rating_qr_svg


class CaseReceiptMixin:
    """Add the receipt's page to the case admin, and its print link once the card is handed
    over. Comes after CaseCounterMixin in the bases: its print links are there to add to."""

    receipt_template = "admin/reissue/reissuecase/receipt.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.receipt_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_receipt"
        return [path("<path:object_id>/receipt/", view, name=name), *super().get_urls()]

    def receipt_view(self, request, object_id):
        case = self.get_object(request, object_id)  # scoped: another office's case is None
        if case is None:
            raise Http404(_("No such case."))
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        if not has_receipt(case):
            raise Http404(_("The new card has not been handed over yet."))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "case": case,
            "receipt": receipt_for(case),
            "rating_qr_svg": rating_qr_svg(case),
            "title": _("Collection receipt %(reference)s") % {"reference": case.reference},
            "change_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[case.pk]
            ),
        }
        response = TemplateResponse(request, self.receipt_template, context)
        response["Cache-Control"] = "no-store, private"  # a name and a card on a shared computer
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and has_receipt(obj):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_receipt"
            context["print_links"] = [
                *context.get("print_links", []),
                (_("Print collection receipt"), reverse(name, args=[obj.pk]), "receipt"),
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)
