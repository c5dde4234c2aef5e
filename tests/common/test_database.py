"""Our database plumbing: `__in_array` finds the rows `__in` finds, whatever the values, on
either database; the PostgreSQL connections run without JIT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reissue.models import ReissueCase
from tests.factories import register_case


@pytest.fixture
def cases(clerk, office):
    return [register_case(clerk=clerk, office=office) for _ in range(3)]


@pytest.mark.parametrize(
    ("lookup", "values"),
    [
        ("pk", lambda cases: [cases[0].pk, cases[2].pk]),
        ("pk", lambda cases: [cases[1].pk, None, 10**12]),  # no such row, no NULL matched
        ("pk", lambda cases: []),
        ("applicant", lambda cases: [cases[1].applicant_id]),  # a foreign key, by id
        ("applicant", lambda cases: [cases[2].applicant]),  # ... or by the row itself
        ("reference", lambda cases: {cases[0].reference, "XX-2026-000001"}),
    ],
)
def test_in_array_finds_what_in_finds(cases, lookup, values):
    wanted = values(cases)
    found = ReissueCase.objects.filter(**{f"{lookup}__in_array": wanted})
    expected = ReissueCase.objects.filter(**{f"{lookup}__in": wanted})
    assert sorted(found.values_list("pk", flat=True)) == sorted(
        expected.values_list("pk", flat=True)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an array is PostgreSQL's")
def test_in_array_sends_the_values_as_one_parameter(cases):
    with CaptureQueriesContext(connection) as queries:
        list(ReissueCase.objects.filter(pk__in_array=[case.pk for case in cases]))
    assert "= ANY(" in queries[0]["sql"]
    assert "IN (" not in queries[0]["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's JIT")
@pytest.mark.django_db
def test_the_apps_connections_run_without_jit():
    # DB_JIT: compiling a list's count cost more than it saved (config/settings/base.py).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
