from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from reissue.admin_shortcut import view_on_site

admin.site.site_header = admin.site.site_title = _("Reissue Desk")
admin.site.index_title = _("Lost-card cases")
admin.site.site_url = None  # the admin is the whole site

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/two-factor/", include("twofactor.urls")),
    # Before the admin's own r/ (same URL): scoped to what the user may see.
    path(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        admin.site.admin_view(view_on_site),
    ),
    path("admin/", admin.site.urls),
    # Outside the admin, no log-in: a citizen's case progress, a hospital's temporary card check.
    # The citizen rates a case from the link in the SMS or on the collection receipt.
    path("public/rate/", include("ratings.urls")),
    path("public/", include("public.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
