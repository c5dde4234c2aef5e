from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.signals import user_logged_in


class ReissueAdminConfig(AdminConfig):
    default_site = "config.admin_site.ReissueAdminSite"

    def ready(self) -> None:
        super().ready()
        from . import checks  # noqa: F401 (registers the deploy checks of the keys)
        from .middleware import mark_session_renewed

        # A log-in writes the session anyway: it counts as its first renewal.
        user_logged_in.connect(mark_session_renewed, dispatch_uid="session_renewed_at_login")
