from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = _("Shared tools")

    def ready(self) -> None:
        from common import lookups  # noqa: F401  (registers field__in_array)
