"""{% if request.user|must_use_two_factor %}: the "Two-factor log-in" link in the header."""

from django import template

from twofactor.policy import otp_required

register = template.Library()


@register.filter
def must_use_two_factor(user) -> bool:
    return otp_required(user)
