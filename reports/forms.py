"""The dashboard's period and office."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.dates import validate_supported_date
from offices.scoping import offices_visible_to

DEFAULT_WEEKS = 12
LONGEST_PERIOD = datetime.timedelta(days=5 * 366)


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """Return the last 12 weeks: from the Monday 11 weeks before this week's, to today."""
    today = today or timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    return this_monday - datetime.timedelta(weeks=DEFAULT_WEEKS - 1), today


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DashboardForm(forms.Form):
    date_from = forms.DateField(
        label=_("from"), widget=DateInput(), validators=[validate_supported_date]
    )
    date_to = forms.DateField(
        label=_("to"), widget=DateInput(), validators=[validate_supported_date]
    )
    office = forms.ModelChoiceField(
        label=_("office"), queryset=None, required=False, empty_label=_("all my offices")
    )

    def __init__(self, data=None, *, user, **kwargs):
        date_from, date_to = default_period()
        if data is not None:
            # A link may name only one end of the period; the other keeps its default.
            data = data.copy()
            data.setdefault("date_from", date_from.isoformat())
            data.setdefault("date_to", date_to.isoformat())
        super().__init__(data, initial={"date_from": date_from, "date_to": date_to}, **kwargs)
        self.fields["office"].queryset = offices_visible_to(user)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                raise forms.ValidationError(_("The period must start before it ends."))
            if date_to - date_from > LONGEST_PERIOD:
                raise forms.ValidationError(_("Choose a period of at most five years."))
        return cleaned
