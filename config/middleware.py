"""Keep an active session alive without writing it on every request, and across the rename
of the authentication backend."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.utils import timezone

RENEWED_KEY = "_renewed_at"
# A session keeps the dotted path of the backend that logged its user in, and Django drops a
# user whose path is no longer in AUTHENTICATION_BACKENDS: {path before: path now}.
RENAMED_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "common.auth_backends.OneQueryModelBackend",
}


def _now() -> int:
    return int(timezone.now().timestamp())  # the clock sessions expire by


def mark_session_renewed(sender, request, user, **kwargs) -> None:
    """Note a log-in's session write as a renewal (receiver of `user_logged_in`)."""
    if hasattr(request, "session"):
        request.session[RENEWED_KEY] = _now()


class SessionRenewalMiddleware:
    """Renew a logged-in session's 30 idle minutes at most once a minute.

    `SESSION_SAVE_EVERY_REQUEST` wrote the session row on every request (the load run: a
    plain logged-in page at a fifth of its speed). Marking the session changed only when its
    last renewal is older than `SESSION_RENEW_AFTER_SECONDS` keeps the idle limit within that
    minute and saves the write on all other requests. Sits after SessionMiddleware, so its
    response step runs first and SessionMiddleware saves what it marked.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.modified and not session.is_empty():
            now = _now()
            if now - session.get(RENEWED_KEY, 0) >= settings.SESSION_RENEW_AFTER_SECONDS:
                session[RENEWED_KEY] = now
        return response


class RenamedBackendMiddleware:
    """Read a session logged in through a backend since renamed as logged in through the new.

    Without it, the release that brought common.auth_backends would have logged out every
    clerk at its deployment, and asked those with two factors for a code again. Sits after
    SessionMiddleware and before AuthenticationMiddleware's user is read.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.session_key is not None:  # no cookie, no session to read
            renamed = RENAMED_BACKENDS.get(session.get(BACKEND_SESSION_KEY))
            if renamed is not None:
                session[BACKEND_SESSION_KEY] = renamed
        return self.get_response(request)
