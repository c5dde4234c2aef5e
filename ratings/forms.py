from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import COMMENT_MAX_LENGTH, RatingLevel


class RatingForm(forms.Form):
    level = forms.ChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=RatingLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the five levels.")},
    )
    # The service strips control characters and counts the length after; the form only
    # refuses what is far too long to be worth reading.
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH * 4,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # In the visitor's language, at each request.
        self.fields["comment"].help_text = gettext(
            "At most %(limit)d characters. Do not write your ID number."
        ) % {"limit": COMMENT_MAX_LENGTH}


class FollowUpOutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the rating was made in error"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("E.g. rated by someone other than the citizen, or about another matter."),
    )


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("upheld", _("Uphold: leave the rating out of the figures")),
            ("rejected", _("Reject: the rating stands")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Reason for the decision"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)
