"""The card batches' screens: the list with its counts, a batch's page with its cases, and its
three buttons (the production file, the bank's return file, the cards' arrival).

Thin: every write is `card_batches`' (permission, office, one transaction, audit); a refusal
is shown on the admin's page, never as an error page.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common.exceptions import Refusal
from common.id_numbers import mask_id_number
from common.pagination import CappedCountPaginator
from offices.admin_filters import OfficeScopedFilter
from offices.scoping import can_act_in_office

from . import card_batches
from .legacy_import import megabytes
from .models import CardBatch

NO_VALUE = "\u2014"


class ReturnFileForm(forms.Form):
    return_file = forms.FileField(label=gettext_lazy("Return file of the card bank"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["return_file"].help_text = _(
            "The CSV file of card numbers the bank sends back (layout RDCARD-RET 1), at most "
            "%(size)s MB."
        ) % {"size": megabytes(settings.IMPORT_MAX_UPLOAD_BYTES)}

    def clean_return_file(self):
        upload = self.cleaned_data["return_file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("This file is %(size)s MB; a return file is at most %(most)s MB.")
                % {
                    "size": megabytes(upload.size),
                    "most": megabytes(settings.IMPORT_MAX_UPLOAD_BYTES),
                },
                code="too_large",
            )
        return upload


class ArrivalForm(forms.Form):
    arrived_on = forms.DateField(
        label=gettext_lazy("Cards arrived on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


@admin.register(CardBatch)
class CardBatchAdmin(admin.ModelAdmin):
    change_form_template = "admin/reissue/cardbatch/change_form.html"
    refused_template = "admin/reissue/cardbatch/return_file_refused.html"
    list_display = [
        "reference",
        "office",
        "created_at",
        "sent_at",
        "ordered_count",
        "returned_count",
        "missing_count",
        "arrived_count",
        "collected_count",
        "age_days",
        "checksum_short",
    ]
    list_filter = [("office", OfficeScopedFilter)]
    search_fields = ["reference"]
    search_help_text = gettext_lazy("Search by the start of a batch reference.")
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    fields = readonly_fields = [
        "reference",
        "office",
        "created_at",
        "sent_at",
        "file_sha256",
        "returned_at",
        "arrived_on",
        "ordered_count",
        "returned_count",
        "missing_count",
        "arrived_count",
        "collected_count",
        "age_days",
    ]

    def get_queryset(self, request):
        return card_batches.batches_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(reference__startswith=term), False

    # The columns -------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("ordered"))
    def ordered_count(self, obj):
        return obj.ordered

    @admin.display(description=gettext_lazy("returned"))
    def returned_count(self, obj):
        return obj.returned

    @admin.display(description=gettext_lazy("missing"))
    def missing_count(self, obj):
        missing = card_batches.batch_missing(obj)
        return NO_VALUE if missing is None else missing

    @admin.display(description=gettext_lazy("arrived"))
    def arrived_count(self, obj):
        return obj.arrived

    @admin.display(description=gettext_lazy("collected"))
    def collected_count(self, obj):
        return obj.collected

    @admin.display(description=gettext_lazy("days since sent"))
    def age_days(self, obj):
        age = card_batches.batch_age_days(obj)
        return NO_VALUE if age is None else age

    @admin.display(description=gettext_lazy("checksum"))
    def checksum_short(self, obj):
        return obj.file_sha256[:12] if obj.file_sha256 else NO_VALUE

    # Read only: the batch changes through its buttons -----------------------------------------

    def has_add_permission(self, request):
        return False  # a batch opens with its first order (services.open_card_batch)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._batch_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _batch_context(self, request, obj, *, return_form=None) -> dict:
        user = request.user
        acts = can_act_in_office(user, obj.office_id)
        cases = [
            (
                case,
                reverse("admin:reissue_reissuecase_change", args=[case.pk]),
                mask_id_number(case.applicant.id_number),
            )
            for case in card_batches.batch_cases(obj)
        ]
        return {
            "batch_cases": cases,
            "can_send": acts and user.has_perm(card_batches.SEND_PERMISSION),
            "can_import": acts
            and obj.sent_at is not None
            and user.has_perm(card_batches.PRODUCED_PERMISSION),
            "can_record_arrival": acts
            and obj.returned > obj.arrived
            and user.has_perm(card_batches.ARRIVED_PERMISSION),
            "return_form": return_form or ReturnFileForm(),
            "arrival_form": ArrivalForm(initial={"arrived_on": timezone.localdate()}),
            "production_file_url": self._url("production_file", obj),
            "return_file_url": self._url("return_file", obj),
            "arrived_url": self._url("arrived", obj),
        }

    # The buttons -----------------------------------------------------------------------------

    def get_urls(self):
        def view(function, name):
            wrapped = self.admin_site.admin_view(require_POST(function))
            return path(
                f"<path:object_id>/{name.replace('_', '-')}/", wrapped, name=self._name(name)
            )

        return [
            view(self.production_file_view, "production_file"),
            view(self.return_file_view, "return_file"),
            view(self.arrived_view, "arrived"),
            *super().get_urls(),
        ]

    def _name(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def _url(self, what: str, obj) -> str:
        return reverse(f"admin:{self._name(what)}", args=[obj.pk])

    def _batch_or_404(self, request, object_id) -> CardBatch:
        batch = self.get_object(request, object_id)  # scoped: another office's is None
        if batch is None:
            raise Http404(_("No such card batch."))
        return batch

    def _back(self, obj) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:reissue_cardbatch_change", args=[obj.pk]))

    def production_file_view(self, request, object_id):
        batch = self._batch_or_404(request, object_id)
        try:
            content, sha256 = card_batches.batch_production_file(
                batch=batch, acting_user=request.user
            )
        except Refusal as refusal:
            messages.error(request, refusal.message)
            return self._back(batch)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
        response["X-Content-SHA256"] = sha256
        response["Cache-Control"] = "no-store, private"  # full ID numbers
        return response

    def return_file_view(self, request, object_id):
        batch = self._batch_or_404(request, object_id)
        form = ReturnFileForm(request.POST, request.FILES)
        problems = []
        if form.is_valid():
            try:
                result = card_batches.batch_return_file_import(
                    batch=batch, file=form.cleaned_data["return_file"], acting_user=request.user
                )
            except card_batches.ReturnFileRefused as refusal:
                problems = refusal.problems
            except Refusal as refusal:
                messages.error(request, refusal.message)
                return self._back(batch)
            else:
                messages.success(
                    request,
                    _(
                        "Return file imported: %(produced)d cards produced; %(missing)d cases "
                        "of the batch still wait for theirs."
                    )
                    % {"produced": result.produced, "missing": result.missing},
                )
                return self._back(batch)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": batch,
            "title": _("Return file refused: %(batch)s") % {"batch": batch.reference},
            "form": form,
            "problems": problems,
            "change_url": reverse("admin:reissue_cardbatch_change", args=[batch.pk]),
        }
        return TemplateResponse(request, self.refused_template, context, status=400)

    def arrived_view(self, request, object_id):
        batch = self._batch_or_404(request, object_id)
        form = ArrivalForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("arrived_on", [])))
            return self._back(batch)
        try:
            moved = card_batches.batch_record_arrived(
                batch=batch, arrived_on=form.cleaned_data["arrived_on"], acting_user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except Refusal as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("%(count)d cards recorded as arrived: their holders can collect them.")
                % {"count": moved},
            )
        return self._back(batch)
