"""The exceptions services raise, known to no protocol: the admin maps them to a page.

Services must know nothing of HTTP (no Http404, no responses): they say what happened, and
the admin (config.admin_site, workflow.admin) turns it into Django's 404 page or a message.
"""


class ObjectNotFound(Exception):
    """The object does not exist, or the user may not know that it does: the two look alike."""


class Refusal(Exception):
    """A service refused what it was asked; `message` is written for the user who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
