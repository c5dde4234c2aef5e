"""Validators shared by every model that keeps a phone number."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 -]{5,18}[0-9]$",
    _("Enter a phone number of digits, optionally with spaces, dashes or a leading +."),
)
