"""Offices and who works in them: the unit every case, claim and report is scoped to."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.validators import phone_validator


class Office(models.Model):
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,8}$", _("Use 2 to 8 capital letters or digits."))],
        help_text=_("Short code used in case references, for example DC."),
    )
    name = models.CharField(pgettext_lazy("office", "name"), max_length=100)
    # Printed on the slip and the decision notice, beside "give the case reference when you call".
    phone = models.CharField(
        _("phone"),
        max_length=20,
        blank=True,
        validators=[phone_validator],
        help_text=_("The number citizens call about their case; printed on slips and notices."),
    )
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=100,
        blank=True,
        help_text=_("As citizens read it, for example: Mon–Fri 9:00–17:00."),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="offices",
        blank=True,
        verbose_name=_("staff"),
        help_text=_("Users who work in this office and see its cases."),
    )

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["code"]
        permissions = [("view_all_offices", _("Can see the cases of every office"))]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
