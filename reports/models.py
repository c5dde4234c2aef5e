"""The reports' permission: an admin entry with no table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupervisorDashboard(models.Model):
    """No table: the admin's entry for the supervisor dashboard, and the right to open it."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can see the supervisor dashboard and download it"))]
        verbose_name = _("supervisor dashboard")
        verbose_name_plural = _("supervisor dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
