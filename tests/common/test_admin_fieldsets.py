"""The change forms' fieldsets, drawn in Python, read as Django's own template draws them."""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import AdminForm
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.urls import reverse

from common.templatetags.admin_fieldsets import admin_fieldset
from offices.models import Office
from reissue import services
from tests.factories import register_case


def assert_drawn_as_django_draws(adminform) -> None:
    fieldsets = list(adminform)
    assert fieldsets
    for k, fieldset in enumerate(fieldsets):
        options = {"heading_level": 2, "prefix": "fieldset", "id_prefix": 0, "id_suffix": k}
        django_html = render_to_string(
            "admin/includes/fieldset.html", {"fieldset": fieldset, **options}
        )
        assert parse_html(admin_fieldset(fieldset, **options)) == parse_html(django_html)


def test_a_clerks_case_page_draws_every_field_as_django_would(client, clerk, office):
    case = register_case(clerk=clerk, office=office)
    client.force_login(clerk)
    response = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    page = response.content.decode()
    assert 'class="readonly"' in page and "<select" in page and 'type="checkbox"' in page
    assert_drawn_as_django_draws(response.context["adminform"])


def test_a_finished_case_read_only_is_drawn_as_django_would(
    client, clerk, supervisor, auditor, office
):
    case = register_case(clerk=clerk, office=office)
    services.case_cancel(case=case, acting_user=supervisor, reason="申请人撤回，卡已找到。")
    client.force_login(auditor)
    response = client.get(reverse("admin:reissue_reissuecase_change", args=[case.pk]))
    assert "申请人撤回，卡已找到。" in response.content.decode()
    assert_drawn_as_django_draws(response.context["adminform"])


def test_a_refused_user_form_shows_its_errors_and_help_as_django_would(admin_user, client):
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    response = client.post(url, {"username": "", "is_active": "on"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert_drawn_as_django_draws(response.context["adminform"])


class _Form(forms.Form):
    required_css_class = "needed"

    first = forms.CharField(help_text="<b>姓</b>在前")
    second = forms.CharField(required=False, label="名 <和> 字", label_suffix="：")
    agrees = forms.BooleanField(help_text="须勾选")
    asked = forms.CharField(label="Agreed?", required=False)
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


@pytest.mark.parametrize("data", [None, {"first": "", "second": "x"}])
def test_lines_of_several_fields_collapsed_and_described_are_drawn_as_django_would(db, data):
    form = _Form(data)
    form.is_valid()
    fieldsets = [
        ("名 & 姓", {"fields": [("first", "second"), "agrees"], "description": "<i>说明</i>"}),
        (None, {"fields": ["secret"]}),
        ("更多", {"fields": [("agrees", "secret"), "asked"], "classes": ["collapse", "wide"]}),
    ]
    model_admin = admin.site._registry[Office]
    assert_drawn_as_django_draws(AdminForm(form, fieldsets, {}, model_admin=model_admin))
