"""Forms of the incident screens: the inputs of each workflow step."""

from django import forms
from django.utils.translation import gettext_lazy as _

from common.dates import validate_supported_date
from workflow.forms import StepForm


def moment_field(label, help_text="") -> forms.DateTimeField:
    """Return a date-and-time input the browser offers a picker for, in local time."""
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        validators=[validate_supported_date],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class ContainIncidentForm(StepForm):
    containment_steps = forms.CharField(
        label=_("Containment steps taken"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What was done to stop the leak and limit the harm, for example: account locked, "
            "documents recovered, passwords changed."
        ),
    )
    field_order = ["containment_steps", "comment"]


class RecordNotificationsForm(StepForm):
    # Range checks (not in the future, not before the discovery) live in the model.
    persons_notified_at = moment_field(_("Affected persons notified at"))
    notification_method = forms.CharField(
        label=_("Notified by"), max_length=100, help_text=_("For example: SMS, letter, phone.")
    )
    authority_informed_at = moment_field(_("Authority informed at"))
    authority_name = forms.CharField(
        label=_("Authority informed"),
        max_length=100,
        help_text=_("For example: the municipal cyberspace administration."),
    )
    field_order = [
        "persons_notified_at",
        "notification_method",
        "authority_informed_at",
        "authority_name",
        "comment",
    ]


class CloseIncidentForm(StepForm):
    closing_summary = forms.CharField(
        label=_("Closing summary"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done, what the persons concerned were told, what changes now."),
    )
    field_order = ["closing_summary", "comment"]
