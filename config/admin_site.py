"""The admin site of Reissue Desk: the counter's apps first, in the order of the work."""

from django.contrib import admin

# A case first, then its claim, then the supervisor's reports and the incident register;
# Django's own apps (users, log-in records) after them.
WORK_ORDER = ["reissue", "claims", "reports", "workdays", "incidents", "audit", "offices"]


class ReissueAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: place for place, label in enumerate(WORK_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))
