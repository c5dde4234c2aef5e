"""The admin's list of apps and models, drawn in Python, reads as Django's own template draws it."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.template import Context, engines
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation

from common.templatetags.admin_app_list import admin_app_list

# Django's own template, read from its admin app whatever templates/ overrides.
DJANGO_APP_LIST = engines["django"].engine.find_template(
    "admin/app_list.html", skip=[engines["django"].engine.find_template("admin/app_list.html")[1]]
)[0]


def assert_drawn_as_django_draws(context: dict) -> str:
    ours = admin_app_list(context)
    assert parse_html(ours) == parse_html(DJANGO_APP_LIST.render(Context(context)))
    return ours


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("show_changelinks", [True, False])
@pytest.mark.parametrize(
    "path",
    ["/admin/reissue/reissuecase/", "/admin/reissue/", "/admin/", "/admin/offices/office/1/"],
)
def test_each_users_app_list_is_drawn_as_django_would(rf_users, language, show_changelinks, path):
    for user in rf_users:
        request = RequestFactory().get(path)
        request.user = user
        with translation.override(language):
            apps = admin.site.get_app_list(request)
            drawn = assert_drawn_as_django_draws(
                {"app_list": apps, "request": request, "show_changelinks": show_changelinks}
            )
        if (
            apps
            and path.startswith("/admin/reissue/")
            and user.has_perm("reissue.view_reissuecase")
        ):
            assert "current-app" in drawn


@pytest.fixture
def rf_users(admin_user, clerk, supervisor, auditor):
    return [admin_user, clerk, supervisor, auditor]


def test_a_user_seeing_nothing_is_told_so_as_django_would(db):
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()
    with translation.override("zh-hans"):
        drawn = assert_drawn_as_django_draws({"app_list": [], "request": request})
    assert "<p>" in drawn


def test_a_view_only_model_and_one_without_add_are_drawn_as_django_would(db):
    apps = [
        {
            "name": "档案 <全>",
            "app_label": "files",
            "app_url": "/admin/files/",
            "models": [
                {"name": "卷宗", "object_name": "Folder", "admin_url": "/admin/files/folder/",
                 "add_url": None, "view_only": True},
                {"name": "无", "object_name": "Nothing", "admin_url": None, "add_url": None,
                 "view_only": False},
            ],
        }
    ]  # fmt: skip
    request = RequestFactory().get("/admin/files/folder/")
    for show in (True, False):
        assert_drawn_as_django_draws(
            {"app_list": apps, "request": request, "show_changelinks": show}
        )


def test_every_admin_page_draws_the_sidebar_with_it(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_changelist")).content.decode()
    assert 'class="app-reissue module current-app"' in page
    assert 'aria-current="page"' in page


def test_an_apps_own_page_lists_its_models_with_their_links(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:app_list", args=["reissue"])).content.decode()
    assert 'class="changelink"' in page or 'class="viewlink"' in page
    assert reverse("admin:reissue_reissuecase_changelist") in page
