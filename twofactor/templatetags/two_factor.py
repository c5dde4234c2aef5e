"""{% if request.user|must_use_two_factor %}: the "Two-factor log-in" link in the header."""

from django import template

from twofactor.policy import otp_required

register = template.Library()


@register.filter
def must_use_two_factor(user) -> bool:
    # Whoever gave a code had to (no group query then); django-otp's middleware adds is_verified.
    is_verified = getattr(user, "is_verified", None)
    return (is_verified is not None and is_verified()) or otp_required(user)
