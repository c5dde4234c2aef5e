"""Every change list's rows, drawn with a plan per page, read as Django's own rows."""

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.urls import NoReverseMatch, reverse

from common.templatetags.admin_results import planned_results
from reissue import services
from tests.factories import claim_with_items, register_case, reissued_case


@pytest.fixture
def cases(clerk, supervisor, office):
    """Cases at a few states, a claim with receipts, a cancelled one: every column filled
    somewhere and empty somewhere else."""
    first = register_case(clerk=clerk, office=office)
    claim_with_items(
        case=reissued_case(clerk=clerk, office=office), clerk=clerk, amounts=("12.50", "300")
    )
    cancelled = register_case(clerk=clerk, office=office)
    services.case_cancel(case=cancelled, acting_user=supervisor, reason="卡已找到")
    return first


def assert_rows_drawn_as_django_draws(response) -> int:
    cl = response.context["cl"]
    ours = [list(row) for row in planned_results(cl)]
    assert ours == [list(row) for row in results(cl)]
    return len(ours)


def changelist_urls():
    for model in admin.site._registry:
        try:
            yield reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue


def test_every_list_a_superuser_opens_draws_its_rows_as_django_would(admin_client, cases):
    drawn = {}
    for url in changelist_urls():
        response = admin_client.get(url)
        if response.status_code == 200 and "cl" in response.context:
            drawn[url] = assert_rows_drawn_as_django_draws(response)
    for model in ("reissuecase", "applicant", "expenseclaim", "auditentry", "user", "office"):
        assert any(model in url and rows for url, rows in drawn.items()), model


@pytest.mark.parametrize(
    "query", ["", "?o=-2", "?q={reference}", "?state__exact=cancelled", "?_popup=1&_to_field=id"]
)
def test_a_clerks_case_list_draws_its_rows_as_django_would(client, clerk, cases, query):
    client.force_login(clerk)
    query = query.format(reference=cases.reference)
    response = client.get(reverse("admin:reissue_reissuecase_changelist") + query, follow=True)
    assert response.status_code == 200
    assert assert_rows_drawn_as_django_draws(response)
