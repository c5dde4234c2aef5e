import re

from django import forms
from django.utils.translation import gettext_lazy as _

from common.text import normalize_text

ID_TAIL = re.compile(r"^[0-9]{5}[0-9X]$")


class CaseProgressForm(forms.Form):
    reference = forms.CharField(
        label=_("Case reference"),
        max_length=32,
        help_text=_("As printed on your acknowledgement slip."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    id_tail = forms.CharField(
        label=_("Last six characters of your ID number"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}
        ),
    )

    def clean_reference(self) -> str:
        return normalize_text(self.cleaned_data["reference"], upper=True)

    def clean_id_tail(self) -> str:
        tail = normalize_text(self.cleaned_data["id_tail"], upper=True)
        if not ID_TAIL.match(tail):
            raise forms.ValidationError(_("Six characters: digits, the last may be X."))
        return tail
