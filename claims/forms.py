"""Forms of the claim screens: opening a claim, receipts, and each decision's inputs."""

from django import forms
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from common.text import PlainTextField, match_key
from workflow.forms import StepForm

from .models import ClaimItem
from .selectors import duplicate_receipt_message


class AmountField(forms.DecimalField):
    """A DecimalField that refuses NaN and infinities as soon as it reads them.

    Django compares a typed amount with the stored one (`has_changed`) before validating it,
    and comparing with a signalling NaN ("sNaN") raises instead of answering.
    """

    def to_python(self, value):
        amount = super().to_python(value)
        if amount is not None and not amount.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


class ClaimItemForm(forms.ModelForm):
    """One receipt. `acting_user` is set per request, to name a duplicate's earlier case."""

    acting_user = None

    class Meta:
        model = ClaimItem
        fields = ["provider", "visit_date", "receipt_number", "category", "amount"]
        field_classes = {"amount": AmountField}

    def clean(self):
        cleaned = super().clean()
        # Both fields arrive normalized (reissue.text), as they are stored and compared.
        if cleaned.get("provider") and cleaned.get("receipt_number"):
            probe = ClaimItem(
                pk=self.instance.pk,
                provider=cleaned["provider"],
                receipt_number=cleaned["receipt_number"],
            )
            message = duplicate_receipt_message(item=probe, user=self.acting_user)
            if message:
                # An error on the field also skips the model's bare uniqueness message.
                self.add_error("receipt_number", message)
        return cleaned


class ClaimItemFormSet(BaseInlineFormSet):
    """The receipts of one claim: the same receipt twice in one page is refused in words."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # A table row's inputs have no <label> (the column headers name them): name each input
        # by its column, for screen readers and voice control (axe: label, select-name).
        for field in form.fields.values():
            field.widget.attrs.setdefault("aria-label", capfirst(field.label))

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk or self._should_delete_form(form):
                continue
            data = form.cleaned_data
            if not data.get("provider") or not data.get("receipt_number"):
                continue
            key = (match_key(data["provider"]), data["receipt_number"])
            if key in seen:
                raise forms.ValidationError(
                    self.get_unique_error_message(["provider", "receipt_number"])
                )
            seen.add(key)

    def get_unique_error_message(self, unique_check):
        if set(unique_check) == {"provider", "receipt_number"}:
            return _(
                "The same receipt (hospital and receipt number) is entered twice on this page; "
                "remove one of them."
            )
        return super().get_unique_error_message(unique_check)


class ApproveClaimForm(StepForm):
    reason = PlainTextField(
        label=_("Remarks on the decision"),
        required=False,
        max_length=500,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["reason", "comment"]


class RejectClaimForm(StepForm):
    reason = PlainTextField(
        label=_("Reason for rejecting"),
        max_length=500,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for rejecting.")},
    )
    field_order = ["reason", "comment"]


class PayClaimForm(StepForm):
    payment_reference = PlainTextField(
        label=_("Payment reference"),
        max_length=64,
        fold=True,
        error_messages={"required": _("Give the payment reference.")},
        help_text=_("The reference of the bank transfer or cash voucher."),
    )
    field_order = ["payment_reference", "comment"]
