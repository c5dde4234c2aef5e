"""The citizen's rating page (好差评): no staff log-in, Chinese first, as the public pages.

A damaged, forged or expired link gets a page saying so (HTTP 200), never an error page; a
case rated already gets the same polite page whether the rating came a minute or a month ago.
A logged-in staff user gets a page refusing the rating (HTTP 403), GET and POST.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from public.services import TooManyLooks
from public.views import TOO_MANY_LOOKS_STATUS, chinese_first, client_address

from .forms import RatingForm, add_errors
from .services import rating_page_look, rating_submit

TEMPLATE = "ratings/rate.html"
STAFF_REFUSED_STATUS = 403


@never_cache
@chinese_first
@require_http_methods(["GET", "POST"])
def rate(request, token: str):
    """评价服务: five levels and an optional comment, once per case; never by the staff."""
    if request.user.is_authenticated and request.user.is_staff:
        # Staff rating their own office's cases: refused, nothing looked up or recorded.
        refusal = _(
            "You are logged in as office staff: the staff may not rate the service. "
            "Log out first if you are rating your own case as a citizen."
        )
        return render(request, TEMPLATE, {"refusal": refusal}, status=STAFF_REFUSED_STATUS)
    address = client_address(request)
    agent = request.headers.get("User-Agent", "")
    form = RatingForm(request.POST) if request.method == "POST" else RatingForm()
    try:
        page = None
        if request.method == "POST" and form.is_valid():
            try:
                page = rating_submit(
                    token=token,
                    level=form.cleaned_data["level"],
                    comment=form.cleaned_data["comment"],
                    client_address=address,
                    user_agent=agent,
                )
            except ValidationError as error:
                add_errors(form, error)
        if page is None:
            page = rating_page_look(token=token, client_address=address, user_agent=agent)
    except TooManyLooks as refusal:
        return render(request, TEMPLATE, {"refusal": refusal.message}, status=TOO_MANY_LOOKS_STATUS)
    return render(request, TEMPLATE, {"page": page, "form": form})
