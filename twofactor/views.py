"""The second factor at log-in, the user's own two-factor page and the administrator's reset."""

import logging
import math

import segno
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from .forms import CodeForm, ResetForm
from .policy import otp_required
from .selectors import authenticator_of, has_authenticator, recovery_codes_left
from .services import (
    SecondFactorThrottled,
    otp_device_confirm,
    otp_device_enrol,
    otp_devices_reset,
    otp_recovery_codes_generate,
    otp_token_verify,
    secret_for_typing,
)

logger = logging.getLogger(__name__)

WRONG_NEW_CODE = gettext_lazy(
    "This code is not right. Check that the phone's clock is right and try the next code."
)


def _render(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, **context}
    response = TemplateResponse(request, f"admin/two_factor/{template}", context)
    response["Cache-Control"] = "no-store, private"  # secrets and codes must not stay in a cache
    return response


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else reverse("admin:index")


def _to(page: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(page)}?{urlencode({'next': _next_url(request)})}")


def _throttled_message(throttled: SecondFactorThrottled) -> str:
    seconds = max(1, math.ceil((throttled.until - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Wait %(seconds)d second, then try again.",
        "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}


def _log_in_with(request: HttpRequest, device) -> None:
    request.session.cycle_key()  # a new session key for the raised privilege
    otp_login(request, device)


def verify(request: HttpRequest) -> HttpResponse:
    """Ask for the one-time code (or a recovery code) after the password."""
    user = request.user
    if not otp_required(user) or user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    if not has_authenticator(user=user):
        return _to("two_factor:enrol", request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = otp_token_verify(user=user, token=form.cleaned_data["code"])
        except SecondFactorThrottled as throttled:
            form.add_error("code", _throttled_message(throttled))
        else:
            if device is not None:
                _log_in_with(request, device)
                if isinstance(device, StaticDevice):
                    _warn_recovery_code_used(request, recovery_codes_left(user=user))
                return HttpResponseRedirect(_next_url(request))
            # For the operators' log, beside axes' records of wrong passwords.
            logger.warning("Wrong one-time code for user %s", user.get_username())
            form.add_error("code", _("This code is not right, or it has been used already."))
    return _render(request, "verify.html", _("One-time code"), form=form, next=_next_url(request))


def _warn_recovery_code_used(request: HttpRequest, left: int) -> None:
    messages.warning(
        request,
        ngettext(
            "You logged in with a recovery code; %(left)d is left. If your phone is lost, set "
            "up the authenticator again and make new recovery codes.",
            "You logged in with a recovery code; %(left)d are left. If your phone is lost, set "
            "up the authenticator again and make new recovery codes.",
            left,
        )
        % {"left": left},
    )


def enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: a QR code and the secret, confirmed by one code."""
    user = request.user
    if not otp_required(user):
        return HttpResponseRedirect(reverse("two_factor:home"))
    if not user.is_verified() and has_authenticator(user=user):
        return _to("two_factor:verify", request)  # a new phone only after the old one's code
    device = otp_device_enrol(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = otp_device_confirm(device=device, token=form.cleaned_data["code"])
        except SecondFactorThrottled as throttled:
            form.add_error("code", _throttled_message(throttled))
        else:
            if confirmed:
                _log_in_with(request, device)
                if recovery_codes_left(user=user) == 0:
                    codes = otp_recovery_codes_generate(user=user)
                    return _recovery_codes_page(request, codes)
                messages.success(request, _("The authenticator app is set up."))
                return HttpResponseRedirect(_next_url(request))
            form.add_error("code", WRONG_NEW_CODE)
    qr = segno.make(device.config_url, error="m", micro=False)
    return _render(
        request,
        "enrol.html",
        _("Set up two-factor log-in"),
        form=form,
        qr_data_uri=qr.svg_data_uri(scale=5, border=4),
        secret=secret_for_typing(device),
        next=_next_url(request),
        is_nav_sidebar_enabled=user.is_verified(),
    )


def home(request: HttpRequest) -> HttpResponse:
    """The user's own two-factor page: what is set up, and the buttons to change it."""
    user = request.user
    return _render(
        request,
        "home.html",
        _("Two-factor log-in"),
        required=otp_required(user),
        authenticator=authenticator_of(user=user),
        codes_left=recovery_codes_left(user=user),
    )


@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make new recovery codes, replacing the old ones, and show them this once."""
    user = request.user
    if not otp_required(user) or not user.is_verified():
        return HttpResponseRedirect(reverse("two_factor:home"))
    return _recovery_codes_page(request, otp_recovery_codes_generate(user=user))


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> TemplateResponse:
    shown = [f"{code[:4]}-{code[4:]}" for code in codes]
    return _render(
        request, "recovery_codes.html", _("Recovery codes"), codes=shown, next=_next_url(request)
    )


def reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """An administrator removes a user's second factors (lost phone); audited with a reason."""
    if not request.user.is_superuser:
        raise PermissionDenied
    target = get_object_or_404(get_user_model(), pk=user_id)
    change_url = reverse("admin:auth_user_change", args=[target.pk])
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        otp_devices_reset(user=target, acting_user=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("The two-factor log-in of %(user)s was reset: they set it up again at next log-in.")
            % {"user": target.get_username()},
        )
        return HttpResponseRedirect(change_url)
    return _render(
        request,
        "reset.html",
        _("Reset two-factor log-in"),
        form=form,
        target=target,
        change_url=change_url,
        authenticator=authenticator_of(user=target),
        codes_left=recovery_codes_left(user=target),
    )
