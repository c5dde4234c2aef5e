"""Forms of the documents accepted as missing (容缺受理): the promise, and the document brought."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.dates import validate_supported_date

from .case_workflow import SecondaryDocument
from .models import ReissueCase


class PromiseDocumentForm(forms.Form):
    """Only secondary documents are offered: proof of identity and the hukou book never."""

    document = forms.ChoiceField(label=_("Document brought later"))
    due_on = forms.DateField(label=_("To be brought by"), validators=[validate_supported_date])

    def __init__(self, *args, case: ReissueCase, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        promised = set(case.document_promises.values_list("document", flat=True))
        self.fields["document"].choices = [
            (value, label) for value, label in SecondaryDocument.choices if value not in promised
        ]
        if case.service_due_on is not None:
            self.fields["due_on"].initial = case.service_due_on
            self.fields["due_on"].help_text = _("No later than the service deadline, %(date)s.") % {
                "date": case.service_due_on.isoformat()
            }


class DocumentReceivedForm(forms.Form):
    received_on = forms.DateField(
        label=_("Brought on"), initial=timezone.localdate, validators=[validate_supported_date]
    )
