"""Keep a user who must give a one-time code out of every page until they have given it."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from .policy import otp_required
from .selectors import has_authenticator

# What a user may reach between the password and the code: the code and enrolment pages
# (each checks more itself), logging out or in again, the language switch.
OPEN_BEFORE_THE_CODE = {
    "two_factor:verify",
    "two_factor:enrol",
    "admin:login",
    "admin:logout",
    "set_language",
}
# Pages that need no staff log-in at all (public/: citizens, hospitals; ratings/: the citizen
# rating a case), even half logged in.
OPEN_NAMESPACES = {"public", "ratings"}


class SecondFactorRequiredMiddleware:
    """After django-otp's OTPMiddleware: send an unverified user who must use 2FA to the code.

    A user with an authenticator goes to the code page, one without (new, or reset by an
    administrator) to enrolment. Everything else under the site answers with that redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = request.user
        waiting = user.is_authenticated and not user.is_verified() and otp_required(user)
        if waiting and not self._open_before_the_code(request):
            return self._redirect(request, user)
        return self.get_response(request)

    @staticmethod
    def _open_before_the_code(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in OPEN_BEFORE_THE_CODE or match.namespace in OPEN_NAMESPACES

    @staticmethod
    def _redirect(request: HttpRequest, user) -> HttpResponseRedirect:
        page = "two_factor:verify" if has_authenticator(user=user) else "two_factor:enrol"
        target = reverse(page)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
