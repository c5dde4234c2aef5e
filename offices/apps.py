from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    name = "offices"
    verbose_name = _("Offices")

    def ready(self) -> None:
        from .roles import sync_after_migrate

        post_migrate.connect(sync_after_migrate, dispatch_uid="offices_sync_role_groups")
