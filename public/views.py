"""The public pages: no staff log-in, Chinese unless the visitor chose English.

A malformed or forged temporary-card code gets the same page as a code that names no card
(HTTP 200, "this code is not a valid temporary card"): a hospital's phone shows a message,
never an error page.
"""

from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import CaseProgressForm
from .services import TooManyLooks, check_temp_card_from_public, look_up_case_progress

PUBLIC_DEFAULT_LANGUAGE = "zh-hans"
TOO_MANY_LOOKS_STATUS = 429


def chinese_first(view):
    """Show the page in Chinese unless the visitor picked a language (the language cookie)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else PUBLIC_DEFAULT_LANGUAGE
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapped


def client_address(request) -> str:
    """Return the visitor's address as axes reads it (TRUSTED_PROXY_COUNT), for the limits."""
    return get_client_ip_address(request) or "unknown"


_client_address = client_address


@never_cache
@chinese_first
@require_http_methods(["GET", "POST"])
def case_progress(request):
    """我的卡办到哪了: the case reference and the ID number's last six characters."""
    context = {"form": CaseProgressForm()}
    status = 200
    if request.method == "POST":
        form = CaseProgressForm(request.POST)
        if not form.is_valid():
            context["form"] = form
        else:
            try:
                progress = look_up_case_progress(
                    reference=form.cleaned_data["reference"],
                    id_tail=form.cleaned_data["id_tail"],
                    client_address=_client_address(request),
                )
            except TooManyLooks as refusal:
                context["refusal"] = refusal.message
                status = TOO_MANY_LOOKS_STATUS
            else:
                if progress is None:
                    # Not echoing what was typed: a wrong reference and a wrong tail look alike.
                    context["not_found"] = True
                else:
                    context = {"progress": progress}
    return render(request, "public/case_progress.html", context, status=status)


@never_cache
@chinese_first
@require_http_methods(["GET"])
def temp_card_check(request, token: str):
    """临时卡有效性核验: what the QR code on a temporary card's slip opens."""
    try:
        card = check_temp_card_from_public(token=token, client_address=_client_address(request))
    except TooManyLooks as refusal:
        return render(
            request,
            "public/temp_card.html",
            {"refusal": refusal.message},
            status=TOO_MANY_LOOKS_STATUS,
        )
    return render(request, "public/temp_card.html", {"card": card})
