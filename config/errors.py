"""Error pages in the admin's frame, in the user's language, each with a way back.

Django calls these for errors raised outside a view's own handling (DEBUG off). A 404 says
as little as the admin's own "not found": a foreign case and a missing one look the same.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token


def _admin_frame_page(request: HttpRequest, *, status: int, title: str, message: str):
    context = {
        **_frame_context(request),
        "title": title,
        "error_message": message,
        "status": status,
    }
    return HttpResponse(
        loader.render_to_string("errors/error.html", context, request), status=status
    )


def _frame_context(request: HttpRequest) -> dict:
    # An error raised before the authentication middleware ran (a bad Host header: 400) has
    # no user yet; the page is then the frame without the user's tools and apps.
    if not hasattr(request, "user"):
        return {"site_header": admin.site.site_header, "site_title": admin.site.site_title}
    return admin.site.each_context(request)


def _explanation(exception, default: str) -> str:
    # Our own refusals carry a sentence for the user; Django's bare ones do not.
    text = str(exception.args[0]) if getattr(exception, "args", None) else ""
    return text or default


@requires_csrf_token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _admin_frame_page(
        request,
        status=400,
        title=_("The request could not be understood"),
        message=_("The page was sent incomplete or changed on the way. Go back and try again."),
    )


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _admin_frame_page(
        request,
        status=403,
        title=_("Not allowed"),
        message=_explanation(exception, _("Your role does not allow this page or step.")),
    )


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _admin_frame_page(
        request,
        status=404,
        title=_("Not found"),
        message=_(
            "There is no such page, or it belongs to an office you do not work in. "
            "Check the address or search for the case."
        ),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _admin_frame_page(
        request,
        status=403,
        title=_("The form has expired"),
        message=_(
            "The page was open too long or you logged in again meanwhile, so it was not sent. "
            "Go back, reload the page and send it again."
        ),
    )


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    # No database here: the error may be the database itself.
    return HttpResponse(loader.render_to_string("errors/500.html", {}, request), status=500)
