"""Personal numbers are declared once, on their model fields, and masked wherever they show:
in the audit trail, in the exports and in the admin. A number newly declared on a field is
masked on every one of those at once."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import snapshot_changes
from common.id_numbers import mask_phone
from common.personal_numbers import field_at, personal_number_fields
from exports.files import Column, Columns
from reissue.models import ReissueCase
from reissue.resources import CaseResource, ColumnResource
from tests.exports.conftest import export, read_rows
from tests.factories import UserFactory, reissued_case, valid_id_number

DECLARED = [(model, name) for model in apps.get_models() for name in personal_number_fields(model)]
ADMIN = "reissue_reissuecase"


def declared_ids(declared) -> str:
    return f"{declared[0].__name__}.{declared[1]}" if isinstance(declared, tuple) else ""


def test_the_personal_numbers_are_the_applicants_id_and_phone_and_the_agents_id():
    assert {(model._meta.label, name) for model, name in DECLARED} == {
        ("reissue.Applicant", "id_number"),
        ("reissue.Applicant", "phone"),
        ("reissue.ReissueCase", "agent_id_number"),
    }


# Each declared number, on each surface --------------------------------------------------------


@pytest.mark.parametrize("declared", DECLARED, ids=declared_ids)
def test_the_audit_trail_keeps_a_declared_number_masked(declared):
    model, name = declared
    mask = personal_number_fields(model)[name]
    old, new = valid_id_number(1), valid_id_number(2)
    expected = {name: [mask(old), mask(new)]}
    assert snapshot_changes({name: old}, {name: new}, model=model) == expected
    # Compared as plain values (the legacy import's contact details): masked by the name.
    assert snapshot_changes({name: old}, {name: new}) == expected


def column_resources() -> list[type[ColumnResource]]:
    found, queue = [], [ColumnResource]
    while queue:
        found += queue[0].__subclasses__()
        queue += queue.pop(0).__subclasses__()
    return found


@pytest.mark.parametrize("declared", DECLARED, ids=declared_ids)
def test_every_export_column_of_a_declared_number_is_masked_without_the_right(declared):
    model, name = declared
    field, mask = model._meta.get_field(name), personal_number_fields(model)[name]
    value = valid_id_number(3)
    reading = [
        Columns(resource.columns.model, [column])
        for resource in column_resources()
        for column in resource.columns
        if not column.sources and resource.columns.field(column) is field
    ]
    assert reading  # each is exported (the case list, the claims)
    for columns in reading:
        assert columns.row_cells(full_numbers=False, text=True)((value,)) == [mask(value)]
        assert columns.row_cells(full_numbers=False, text=False)((value,)) == [mask(value)]
        assert columns.row_cells(full_numbers=True, text=True)((value,)) == [value]


def shown_as_text(model_admin) -> list[str]:
    """Return the names an admin shows as text whatever the user: list columns, read-only."""
    return [
        entry
        for entry in [*model_admin.list_display, *model_admin.readonly_fields]
        if isinstance(entry, str)
    ]


def field_or_none(model, path: str):
    try:
        return field_at(model, path)
    except FieldDoesNotExist:
        return None


@pytest.mark.parametrize("declared", DECLARED, ids=declared_ids)
def test_no_admin_lists_a_declared_number_unmasked(declared):
    model, name = declared
    field = model._meta.get_field(name)
    for model_admin in admin.site._registry.values():
        raw = [
            e for e in shown_as_text(model_admin) if field_or_none(model_admin.model, e) is field
        ]
        assert raw == [], model_admin


def test_an_export_column_may_not_show_a_personal_number_through_a_display_of_its_own():
    with pytest.raises(ImproperlyConfigured, match="agent_id_number"):
        Columns(
            ReissueCase,
            [
                Column(
                    "agent",
                    sources=("agent_name", "agent_id_number"),
                    display=lambda name, number: f"{name} {number}",
                )
            ],
        )


# A number newly declared on its field ----------------------------------------------------------


@pytest.fixture
def ss_card_number_declared(monkeypatch):
    """Declare the new SS card number a personal number, masked as a phone number is."""
    field = ReissueCase._meta.get_field("ss_card_number")
    monkeypatch.setattr(field, "personal_number", mask_phone, raising=False)


@pytest.fixture
def reissued(ss_card_number_declared, clerk, office):
    return reissued_case(clerk=clerk, office=office)


@pytest.fixture
def masked_exporter(office):
    user = UserFactory(username="exporter", offices=[office])
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_reissuecase", "export_cases"])
    )
    return user


def test_a_newly_declared_number_is_masked_in_the_audit_trail(reissued):
    entry = AuditEntry.objects.filter(object_id=reissued.pk, action="reissue_ss_card").get()
    assert entry.changes["ss_card_number"] == ["", mask_phone(reissued.ss_card_number)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_a_newly_declared_number_is_masked_in_the_exports(
    client, reissued, masked_exporter, supervisor, fmt
):
    client.force_login(masked_exporter)
    [row] = read_rows(export(client, ADMIN, CaseResource, fmt))
    assert row["new SS card number"] == mask_phone(reissued.ss_card_number)
    client.force_login(supervisor)
    [row] = read_rows(export(client, ADMIN, CaseResource, fmt))
    assert row["new SS card number"] == reissued.ss_card_number


def test_a_newly_declared_number_is_masked_on_the_admin_page(client, reissued, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:reissue_reissuecase_change", args=[reissued.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert reissued.ss_card_number not in content
    assert f'<div class="readonly">{mask_phone(reissued.ss_card_number)}</div>' in content
