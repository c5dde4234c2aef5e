"""Log-in lock-out hooks for django-axes, named in the settings."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, ngettext

LOCKOUT_PAGE = (
    '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
    '<link rel="stylesheet" href="{css}"></head>'
    '<body><div id="content"><h1>{title}</h1><p>{message}</p>'
    '<p><a href="{login}">{back}</a></p></div></body></html>'
)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """Return the page shown instead of the log-in form after too many failures."""
    minutes = int(get_cool_off(request).total_seconds() // 60)
    message = ngettext(
        "Too many failed log-in attempts: this user name is locked on this computer for "
        "%(minutes)d minute. Try again later, or ask an administrator to unlock it.",
        "Too many failed log-in attempts: this user name is locked on this computer for "
        "%(minutes)d minutes. Try again later, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    page = format_html(
        LOCKOUT_PAGE,
        lang=get_language(),
        title=gettext("Log-in locked"),
        css=static("admin/css/base.css"),
        message=message,
        login=reverse("admin:login"),
        back=gettext("Back to the log-in page"),
    )
    return HttpResponse(page, status=settings.AXES_HTTP_RESPONSE_CODE)


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address, looking past TRUSTED_PROXY_COUNT proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    forwarded = [address.strip() for address in forwarded if address.strip()]
    if hops and len(forwarded) >= hops:
        # Each trusted proxy appends the address it saw; whatever lies further left is forgeable.
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


class AxesBackendForTestClient(AxesStandaloneBackend):
    """Test settings only: let the test client's `login()`, which passes no request, through."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
