"""Forms of the case screens: registering a report and the inputs of each workflow step."""

from django import forms
from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from common.id_numbers import (
    id_number_warnings,
    mask_id_number,
    normalize_id_number,
    validate_id_number,
)
from common.text import PlainTextField
from common.validators import phone_validator
from reissue import registration, selectors, services
from workflow.forms import StepForm

from .case_workflow import Collector, LossReportKind, ReportChannel
from .models import CASE_EDITABLE_FIELDS, Applicant, ReissueCase
from .registration import APPLICANT_FIELDS, REPORT_FIELDS

card_number_validator = RegexValidator(
    r"^[A-Za-z0-9-]{4,32}$", _("Use 4 to 32 letters, digits or dashes, as printed on the card.")
)


class CaseRegistrationForm(forms.ModelForm):
    """The report of a loss: who the applicant is, what was lost, and what they brought.

    `acting_user` (set by the admin) is who registers: the number's checks are theirs.
    """

    acting_user = None

    name = Applicant._meta.get_field("name").formfield()
    # A plain form field: the model's validators do not run on a field of another model.
    id_number = Applicant._meta.get_field("id_number").formfield(validators=[validate_id_number])
    phone = Applicant._meta.get_field("phone").formfield(validators=[phone_validator])
    # Up to 200 characters: a box of three lines shows a long address whole (a line break typed
    # in it is stored as a space, reissue.text).
    hukou_address = Applicant._meta.get_field("hukou_address").formfield(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )
    hukou_police_station = Applicant._meta.get_field("hukou_police_station").formfield()
    # A formal report at the counter unless the clerk says otherwise.
    loss_report_kind = forms.ChoiceField(
        label=capfirst(ReissueCase._meta.get_field("loss_report_kind").verbose_name),
        choices=LossReportKind.choices,
        initial=LossReportKind.FORMAL,
        required=False,
    )
    reported_via = forms.ChoiceField(
        label=capfirst(ReissueCase._meta.get_field("reported_via").verbose_name),
        choices=ReportChannel.choices,
        initial=ReportChannel.COUNTER,
        required=False,
    )

    class Meta:
        model = ReissueCase
        fields = [*REPORT_FIELDS, "sms_opt_out"]

    def clean_loss_report_kind(self) -> str:
        return self.cleaned_data.get("loss_report_kind") or LossReportKind.FORMAL

    def clean_reported_via(self) -> str:
        return self.cleaned_data.get("reported_via") or ReportChannel.COUNTER

    def clean_id_number(self) -> str:
        return normalize_id_number(self.cleaned_data["id_number"])

    def full_clean(self) -> None:
        """Check what registering checks too (`registration.check_registration`), on the form."""
        super().full_clean()  # the inputs, then the case as its model checks it
        if self.is_bound:
            self._check_registration()

    def _check_registration(self) -> None:
        known = self._known_number(self.cleaned_data.get("id_number"))
        refused = set(self.errors)  # shown already: checked again, they would show twice
        try:
            registration.check_registration(
                case=self.instance,
                applicant_fields={
                    name: self.cleaned_data.get(name, "") for name in APPLICANT_FIELDS
                },
                known=known,
                acting_user=self.acting_user,
                reported_at=timezone.now(),
                refused=refused,
            )
        except forms.ValidationError as refusal:
            for field, errors in refusal.error_dict.items():
                for error in errors:
                    self.add_error(field, self._leading_to_the_open_case(error))

    def _known_number(self, id_number: str | None) -> registration.KnownNumber | None:
        if not id_number:
            return None
        # Looking a number up is a search by it: counted and logged like the lists' searches.
        try:
            services.id_number_search_record(
                acting_user=self.acting_user, id_number=id_number, where=_("registration")
            )
        except services.SearchLimitReached as refusal:
            self.add_error("id_number", refusal.message)
            return None
        return registration.known_number(id_number=id_number, acting_user=self.acting_user)

    def _leading_to_the_open_case(self, error: forms.ValidationError):
        open_case = error.code == registration.OPEN_CASE and selectors.open_case_visible_to(
            id_number=self.cleaned_data["id_number"], user=self.acting_user
        )
        if not open_case:
            return error
        # The case may be seen (the answer is neutral otherwise): lead on to it.
        return format_html(
            _("This applicant already has an open case, {link}; continue that case instead."),
            link=format_html(
                '<a href="{}">{}</a>',
                reverse("admin:reissue_reissuecase_change", args=[open_case.pk]),
                open_case.reference,
            ),
        )

    def applicant_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in APPLICANT_FIELDS}

    def warnings(self) -> list[str]:
        """Return what the clerk should double-check although the report was accepted."""
        found = id_number_warnings(self.cleaned_data["id_number"])
        if self.cleaned_data.get("agent_id_number"):
            found += id_number_warnings(self.cleaned_data["agent_id_number"])
        return found


def issued_on_field(case_field: str) -> forms.DateField:
    """Return a step's date input, labelled as the case page labels the date it sets."""
    # Range checks (not in the future, not before the loss) live in the services.
    label = capfirst(ReissueCase._meta.get_field(case_field).verbose_name)
    return forms.DateField(label=label, initial=timezone.localdate)


class IssueTempCardForm(StepForm):
    card_number = forms.CharField(
        label=_("Temporary card or collection certificate number"),
        validators=[card_number_validator],
    )
    issued_on = issued_on_field("temp_card_issued_on")
    field_order = ["card_number", "issued_on", "comment"]


class RecordIdReissuedForm(StepForm):
    issued_on = issued_on_field("id_card_issued_on")
    field_order = ["issued_on", "comment"]


class ReissueSsCardForm(StepForm):
    """Instant issuance: the card is made at the counter and handed over at once."""

    card_number = forms.CharField(label=_("New SS card number"), validators=[card_number_validator])
    issued_on = issued_on_field("ss_card_issued_on")
    field_order = [
        "card_number",
        "issued_on",
        "fee_charged",
        "fee_waiver_reason",
        "temp_card_returned",
        "comment",
    ]
    service_fields = {"ss_card_number": "card_number"}  # the model's errors shown on the input

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        fee_fields(self, instance)
        if instance.temp_card_number and not instance.temp_card_returned:
            self.fields["temp_card_returned"] = forms.BooleanField(
                label=_("The temporary card was handed back"),
                required=True,
                error_messages={"required": _("Take the temporary card back first.")},
            )
        self.order_fields(self.field_order)


class CancelCaseForm(StepForm):
    reason = PlainTextField(
        label=_("Reason for cancelling"),
        max_length=500,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the applicant found the cards."),
        error_messages={"required": _("Give the reason for cancelling.")},
    )
    field_order = ["reason", "comment"]


class LiftLossReportForm(StepForm):
    reason = PlainTextField(
        label=_("How the card was found"),
        max_length=500,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: found at home; the citizen brought it to the counter."),
        error_messages={"required": _("Say how the card was found.")},
    )
    temp_card_returned = forms.BooleanField(
        label=_("The temporary card was handed back"),
        required=True,
        error_messages={"required": _("Take the temporary card back first.")},
    )
    field_order = ["reason", "temp_card_returned", "comment"]

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        if not instance.temp_card_number:
            del self.fields["temp_card_returned"]  # none was issued

    def step_arguments(self) -> dict:
        return {"temp_card_returned": False, **super().step_arguments()}


class CaseChangeForm(forms.ModelForm):
    """The editable details of an open case. A stored agent's ID number is never sent back to
    the browser: the field starts empty, and typing a number replaces it."""

    class Meta:
        model = ReissueCase
        fields = CASE_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.agent_id_number
        if stored and "agent_id_number" in self.fields:
            self.initial["agent_id_number"] = ""
            self.fields["agent_id_number"].help_text = _(
                "On file: %(masked)s. Leave empty to keep it, or type a new number."
            ) % {"masked": mask_id_number(stored)}

    def clean_agent_id_number(self) -> str:
        typed = normalize_id_number(self.cleaned_data.get("agent_id_number", ""))
        return typed or self.instance.agent_id_number


class RevealForm(forms.Form):
    reason = PlainTextField(
        label=_("Reason for viewing"),
        min_length=4,
        max_length=300,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need the full number, for example: identity check at the counter."),
    )


class FormalizeLossReportForm(StepForm):
    """Make a temporary loss report formal: its proof of identity is on the case's page."""

    field_order = ["comment"]


class ExtendTempCardForm(StepForm):
    valid_until = forms.DateField(label=_("Valid until"))
    field_order = ["valid_until", "comment"]

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        latest = instance.temp_card_latest_valid_until()
        if latest is not None:
            self.fields["valid_until"].initial = latest
            self.fields["valid_until"].help_text = _(
                "At most %(date)s (the city's longest validity)."
            ) % {"date": latest.isoformat()}


class ChangeSmsChoiceForm(StepForm):
    opt_out = forms.TypedChoiceField(
        label=_("The citizen"),
        choices=[("0", _("wants SMS notices")), ("1", _("does not want SMS notices"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        help_text=_("Tell the citizen what they chose: the case records when they were told."),
    )
    field_order = ["opt_out", "comment"]

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        self.fields["opt_out"].initial = "0" if instance.sms_opt_out else "1"  # the other one


def fee_fields(form: StepForm, case: ReissueCase) -> None:
    """Add the card fee of the case's rules: charged, or waived for a reason given."""
    rules = case.rules
    form.fields["fee_charged"] = forms.DecimalField(
        label=_("Card fee charged (yuan)"),
        initial=rules.card_fee,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        required=False,
        help_text=_("The city's fee is ¥%(fee)s; 0 when waived.") % {"fee": rules.card_fee},
    )
    form.fields["fee_waiver_reason"] = forms.CharField(
        label=_("Fee waived because"),
        required=False,
        max_length=100,
        help_text=(
            _("For example: %(groups)s") % {"groups": "、".join(rules.fee_waivers)}
            if rules.fee_waivers
            else ""
        ),
    )


class OrderCardForm(StepForm):
    ordered_on = issued_on_field("card_ordered_on")
    field_order = ["ordered_on", "fee_charged", "fee_waiver_reason", "comment"]

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        fee_fields(self, instance)
        self.order_fields(self.field_order)


class RecordCardProducedForm(StepForm):
    card_number = forms.CharField(label=_("New SS card number"), validators=[card_number_validator])
    produced_on = issued_on_field("card_produced_on")
    field_order = ["card_number", "produced_on", "comment"]
    service_fields = {"ss_card_number": "card_number"}


class RecordCardArrivedForm(StepForm):
    arrived_on = issued_on_field("card_arrived_on")
    field_order = ["arrived_on", "comment"]


class CollectCardForm(StepForm):
    collected_by = forms.ChoiceField(label=_("Collected by"), choices=Collector.choices)
    collector_name = PlainTextField(label=_("Collector's name"), max_length=50)
    collector_id_checked = forms.BooleanField(
        label=_("The collector's ID card was checked"),
        required=True,
        error_messages={"required": _("Check the collector's ID card before handing over.")},
    )
    temp_card_returned = forms.BooleanField(
        label=_("The temporary card was handed back"),
        required=True,
        error_messages={"required": _("Take the temporary card back first.")},
    )
    collected_on = issued_on_field("ss_card_issued_on")
    field_order = [
        "collected_by",
        "collector_name",
        "collector_id_checked",
        "temp_card_returned",
        "collected_on",
        "comment",
    ]

    def __init__(self, *args, instance, **kwargs) -> None:
        super().__init__(*args, instance=instance, **kwargs)
        self.fields["collector_name"].initial = instance.applicant.name
        if not instance.temp_card_number or instance.temp_card_returned:
            del self.fields["temp_card_returned"]  # none is out
