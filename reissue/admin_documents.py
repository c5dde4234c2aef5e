"""The case page's documents: the one-time notice, and documents accepted as missing (容缺受理).

Thin: the notice's content is reissue.one_time_notice, every write a service of reissue.services
(which checks the permission and the office again, whoever calls it).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from common.exceptions import Refusal
from workflow.admin import add_service_errors, refusal_message

from . import services
from .document_forms import DocumentReceivedForm, PromiseDocumentForm
from .one_time_notice import notice_for, promise_sheet_for


class CaseDocumentsMixin:
    notice_template = "admin/reissue/reissuecase/one_time_notice.html"
    promise_template = "admin/reissue/reissuecase/promise.html"
    document_form_template = "admin/reissue/reissuecase/document_form.html"

    def _url_name(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<path:object_id>/notice/", view(self.notice_view), name=self._url_name("notice")),
            path(
                "<path:object_id>/promise/",
                view(self.promise_add_view),
                name=self._url_name("promise_add"),
            ),
            path(
                "<path:object_id>/promise/<int:promise_id>/",
                view(self.promise_print_view),
                name=self._url_name("promise"),
            ),
            path(
                "<path:object_id>/promise/<int:promise_id>/received/",
                view(self.promise_received_view),
                name=self._url_name("promise_received"),
            ),
            *super().get_urls(),
        ]

    # Reading ----------------------------------------------------------------------------------

    def _case_seen(self, request, object_id):
        case = self.get_object(request, object_id)  # scoped: another office's case is None
        if case is None:
            raise Http404(_("No such case."))
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        return case

    def _change_url(self, case) -> str:
        return reverse(f"admin:{self._url_name('change')}", args=[case.pk])

    def _printable(self, request, template: str, case, **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "case": case,
            "change_url": self._change_url(case),
            **context,
        }
        response = TemplateResponse(request, template, context)
        response["Cache-Control"] = "no-store, private"  # a name and a case on a shared computer
        return response

    def notice_view(self, request, object_id):
        """Show the printable one-time notice of an open case the user may see."""
        case = self._case_seen(request, object_id)
        if not case.is_open:
            messages.info(request, _("The case is finished: no document is required any more."))
            return HttpResponseRedirect(self._change_url(case))
        return self._printable(
            request,
            self.notice_template,
            case,
            notice=notice_for(case),
            title=_("One-time notice %(reference)s") % {"reference": case.reference},
        )

    def promise_print_view(self, request, object_id, promise_id):
        """Show the printable promise (承诺书) the citizen signs for a document brought later."""
        case = self._case_seen(request, object_id)
        promise = case.document_promises.filter(pk=promise_id).first()
        if promise is None:
            raise Http404(_("Not found."))
        promise.case = case
        return self._printable(
            request,
            self.promise_template,
            case,
            sheet=promise_sheet_for(promise),
            title=_("Promise %(reference)s") % {"reference": case.reference},
        )

    # Writing ----------------------------------------------------------------------------------

    def _case_acted_on(self, request, object_id):
        case = self._case_seen(request, object_id)
        if not (case.is_open and self.has_change_permission(request, case)):
            raise PermissionDenied
        return case

    def promise_add_view(self, request, object_id):
        """Accept the case with a secondary document missing, on the citizen's promise."""
        case = self._case_acted_on(request, object_id)
        form = PromiseDocumentForm(request.POST or None, case=case)
        if request.method == "POST" and form.is_valid():
            try:
                promise = services.case_promise_document(
                    case=case,
                    acting_user=request.user,
                    document=form.cleaned_data["document"],
                    due_on=form.cleaned_data["due_on"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except (Refusal, PermissionDenied) as error:
                return self._refused(request, error, case)
            else:
                messages.success(
                    request,
                    _(
                        "Accepted with a document missing: %(document)s, to be brought by "
                        "%(date)s. Print the promise for the citizen to sign."
                    )
                    % {
                        "document": promise.get_document_display(),
                        "date": promise.due_on.isoformat(),
                    },
                )
                return HttpResponseRedirect(self._change_url(case))
        return self._document_form(
            request, case, form, title=_("Accept with a document missing"), promise=None
        )

    def promise_received_view(self, request, object_id, promise_id):
        """Record a promised document brought: the service deadline is counted again."""
        case = self._case_acted_on(request, object_id)
        promise = case.document_promises.filter(pk=promise_id).first()
        if promise is None:
            raise Http404(_("Not found."))
        if promise.received_on is not None:
            messages.warning(request, _("This document has already been recorded."))
            return HttpResponseRedirect(self._change_url(case))
        form = DocumentReceivedForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.case_record_document_received(
                    promise=promise,
                    acting_user=request.user,
                    received_on=form.cleaned_data["received_on"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except (Refusal, PermissionDenied) as error:
                return self._refused(request, error, case)
            else:
                case.refresh_from_db()
                messages.success(
                    request,
                    _("Recorded: %(document)s brought. The service deadline is now %(date)s.")
                    % {
                        "document": promise.get_document_display(),
                        "date": case.service_due_on.isoformat() if case.service_due_on else "—",
                    },
                )
                return HttpResponseRedirect(self._change_url(case))
        return self._document_form(
            request,
            case,
            form,
            title=_("Record the document brought: %(document)s")
            % {"document": promise.get_document_display()},
            promise=promise,
        )

    def _refused(self, request, error, case):
        message = refusal_message(error)
        if message is None:
            raise error
        messages.error(request, message)
        return HttpResponseRedirect(self._change_url(case))

    def _document_form(self, request, case, form, *, title, promise):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "form": form,
            "promise": promise,
            "change_url": self._change_url(case),
            "title": title,
        }
        return TemplateResponse(request, self.document_form_template, context)

    # The case page ----------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if obj is None:
            return response
        data = response.context_data
        if obj.is_open:
            notice = reverse(f"admin:{self._url_name('notice')}", args=[obj.pk])
            data["print_links"] = [
                *data.get("print_links", []),
                (_("Print one-time notice"), notice, "notice"),
            ]
        acts = obj.is_open and self.has_change_permission(request, obj)
        data["document_promises"] = [
            {
                "promise": promise,
                "print_url": reverse(
                    f"admin:{self._url_name('promise')}", args=[obj.pk, promise.pk]
                ),
                "received_url": reverse(
                    f"admin:{self._url_name('promise_received')}", args=[obj.pk, promise.pk]
                )
                if acts and promise.received_on is None
                else None,
            }
            for promise in obj.document_promises.all()
        ]
        data["promise_add_url"] = (
            reverse(f"admin:{self._url_name('promise_add')}", args=[obj.pk]) if acts else None
        )
        return response
