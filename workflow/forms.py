"""The base of every workflow-step form (cases, claims, incidents)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from common.text import PlainTextField


class StepForm(forms.Form):
    """Base of the workflow-step forms: an optional comment for the audit trail."""

    comment = PlainTextField(
        label=_("Comment"),
        required=False,
        max_length=500,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance

    def step_arguments(self) -> dict:
        return dict(self.cleaned_data)
