"""The working-day calendar: public holidays and make-up working days."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("public holiday (no work)")
    MAKEUP_WORKDAY = "workday", _("make-up working day (work on a weekend)")


class CalendarDay(models.Model):
    """A day that breaks the Monday-to-Friday rule: a public holiday or a make-up working day.

    Weekdays not listed are working days and weekends not listed are not.
    """

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(
        pgettext_lazy("holiday", "name"),
        max_length=50,
        blank=True,
        help_text=_("For example: Spring Festival."),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("holidays and make-up working days")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"
