from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReissueConfig(AppConfig):
    name = "reissue"
    verbose_name = _("Card reissue")
