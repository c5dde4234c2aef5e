from django.contrib.admin.apps import AdminConfig


class ReissueAdminConfig(AdminConfig):
    default_site = "config.admin_site.ReissueAdminSite"
