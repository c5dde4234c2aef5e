"""The admin site of Reissue Desk: the counter's apps first, in the order of the work."""

from functools import wraps

from django.contrib import admin
from django.http import Http404

from common.exceptions import ObjectNotFound

# A case first, then its claim and its rating, then the supervisor's reports and the incident
# register; Django's own apps (users, log-in records) after them.
WORK_ORDER = [
    "reissue",
    "claims",
    "ratings",
    "reports",
    "workdays",
    "incidents",
    "audit",
    "offices",
]


def not_found_as_404(view):
    """Show a service's ObjectNotFound as Django's 404 page, as for a missing object's URL."""

    @wraps(view)
    def inner(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ObjectNotFound as error:
            raise Http404(*error.args) from error

    return inner


class ReissueAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        # Every admin page passes here (ModelAdmin.get_urls and our own views alike).
        return super().admin_view(not_found_as_404(view), cacheable)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: place for place, label in enumerate(WORK_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))
