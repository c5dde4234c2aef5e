"""Forms of the claim screens: opening a claim, receipts, and each decision's inputs."""

from django import forms
from django.utils.translation import gettext_lazy as _

from reissue.forms import CaseStepForm

from .models import ClaimItem
from .selectors import duplicate_receipt_message


class ClaimItemForm(forms.ModelForm):
    """One receipt. `acting_user` is set per request, to name a duplicate's earlier case."""

    acting_user = None

    class Meta:
        model = ClaimItem
        fields = ["provider", "visit_date", "receipt_number", "category", "amount"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("provider") and cleaned.get("receipt_number"):
            probe = ClaimItem(
                pk=self.instance.pk,
                provider=cleaned["provider"],
                receipt_number=cleaned["receipt_number"],
            )
            probe.clean()
            message = duplicate_receipt_message(item=probe, user=self.acting_user)
            if message:
                # An error on the field also skips the model's bare uniqueness message.
                self.add_error("receipt_number", message)
        return cleaned


class ApproveClaimForm(CaseStepForm):
    reason = forms.CharField(
        label=_("Remarks on the decision"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["reason", "comment"]


class RejectClaimForm(CaseStepForm):
    reason = forms.CharField(
        label=_("Reason for rejecting"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    field_order = ["reason", "comment"]


class PayClaimForm(CaseStepForm):
    payment_reference = forms.CharField(
        label=_("Payment reference"),
        max_length=64,
        help_text=_("The reference of the bank transfer or cash voucher."),
    )
    field_order = ["payment_reference", "comment"]


CLAIM_STEP_FORMS = {
    "submit": CaseStepForm,
    "approve": ApproveClaimForm,
    "reject": RejectClaimForm,
    "pay": PayClaimForm,
}
