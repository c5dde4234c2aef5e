"""Every change list's rows, drawn with a plan per page, read as Django's own rows."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.admin.templatetags.admin_list import result_list, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.html import parse_html
from django.urls import NoReverseMatch, reverse

from common.templatetags.admin_results import planned_result_list, planned_results
from offices.models import Office
from reissue import services
from tests.factories import claim_with_items, register_case, reissued_case
from tests.incidents.conftest import report_incident


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
    ours = ["".join(row) for row in planned_results(cl)]
    assert ours == ["".join(row) for row in results(cl)]
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


@admin.display(empty_value="（无）")
def _gone(obj):
    raise ObjectDoesNotExist


class _LogEntryAdmin(admin.ModelAdmin):
    """Every kind of column: fields, a foreign key (set and not), choices, __str__, lookups
    through relations, a model method, one that raises, admin methods (a date, a boolean,
    one with its own empty value that raises), a callable."""

    list_display = [
        "action_time",
        "user",
        "content_type",
        "action_flag",
        "object_repr",
        "__str__",
        "user__username",
        "content_type__model",
        "is_addition",
        "get_edited_object",
        "user_id",
        "pk",
        "day",
        "added",
        "gone",
        _gone,
    ]

    def day(self, obj):
        return obj.action_time.date()

    @admin.display(boolean=True)
    def added(self, obj):
        return obj.action_flag == ADDITION

    @admin.display(empty_value="（无）")
    def gone(self, obj):
        raise ObjectDoesNotExist


@pytest.mark.parametrize("links", [None, (), ["object_repr"], ["user", "action_time"]])
@pytest.mark.parametrize("query", [{}, {"_popup": "1", "_to_field": "id"}])
def test_every_kind_of_column_is_drawn_as_django_would(admin_user, links, query):
    office_type = ContentType.objects.get_for_model(Office)
    LogEntry.objects.create(
        user=admin_user,
        content_type=office_type,
        object_id="999999",  # no such office: get_edited_object raises
        object_repr="<script>x</script>",
        action_flag=ADDITION,
    )
    LogEntry.objects.create(
        user=admin_user,
        content_type=office_type,
        object_id="999998",
        object_repr="  ",  # blank: shown as empty
        action_flag=CHANGE,
    )
    model_admin = type("Admin", (_LogEntryAdmin,), {"list_display_links": links})(
        LogEntry, admin.site
    )
    request = RequestFactory().get("/", query)
    request.user = admin_user
    cl = model_admin.get_changelist_instance(request)
    cl.formset = None  # (changelist_view sets it: no editable columns)
    ours = ["".join(row) for row in planned_results(cl)]
    assert len(ours) == 2
    assert ours == ["".join(row) for row in results(cl)]


def test_a_clerks_whole_results_table_reads_as_djangos(client, clerk, cases):
    client.force_login(clerk)
    response = client.get(reverse("admin:reissue_reissuecase_changelist") + "?o=-2")
    cl = response.context["cl"]
    ours = render_to_string("admin/change_list_results_planned.html", planned_result_list(cl))
    django = render_to_string("admin/change_list_results.html", result_list(cl))
    assert ours.count("<tr>") == len(cl.result_list) + 1 > 1
    assert parse_html(ours) == parse_html(django)


class _AmountsAdmin(admin.ModelAdmin):
    """Method columns whose values are equal on both rows but drawn apart."""

    list_display = ["object_repr", "amount", "ratio"]

    def amount(self, obj):
        return Decimal("1.0") if obj.action_flag == ADDITION else Decimal("1.00")

    def ratio(self, obj):
        return 0.0 if obj.action_flag == ADDITION else -0.0


def test_equal_values_drawn_apart_are_drawn_per_row(admin_user):
    office_type = ContentType.objects.get_for_model(Office)
    for flag in (ADDITION, CHANGE):
        LogEntry.objects.create(
            user=admin_user, content_type=office_type, object_id="1", object_repr="x",
            action_flag=flag,
        )  # fmt: skip
    request = RequestFactory().get("/")
    request.user = admin_user
    cl = _AmountsAdmin(LogEntry, admin.site).get_changelist_instance(request)
    cl.formset = None
    ours = ["".join(row) for row in planned_results(cl)]
    assert ours == ["".join(row) for row in results(cl)]
    assert any("1.00" in row for row in ours) and any("-0.0" in row for row in ours)


def test_every_lists_rows_link_back_to_its_page_as_djangos_do(admin_client, clerk, cases):
    # Made once a page (common.changelists), each row's link is what Django's
    # add_preserved_filters makes of it a row at a time: its change page, with the list's
    # query to go back to.
    report_incident(user=clerk, cases=[cases])
    linked = set()
    for url in changelist_urls():
        response = admin_client.get(url, {"p": "1"})
        if response.status_code != 200 or "cl" not in response.context:
            continue
        cl, page = response.context["cl"], response.content.decode()
        context = {"preserved_filters": "_changelist_filters=p%3D1", "opts": cl.opts}
        for row in cl.result_list:
            change = reverse(
                f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
                args=[quote(getattr(row, cl.pk_attname))],
            )
            assert f'href="{add_preserved_filters(context, change)}"' in page, url
            linked.add(cl.opts.model_name)
    assert {"reissuecase", "applicant", "expenseclaim", "auditentry", "incident"} <= linked
