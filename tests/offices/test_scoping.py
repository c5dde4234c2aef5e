"""Office scoping for acting, in one place: the offices a user works in, not all they see."""

import pytest
from django.contrib.auth.models import Group

from offices.scoping import (
    can_act_in_office,
    office_ids_visible_to,
    scope_to_offices,
    scope_to_offices_worked_in,
)
from reissue.models import ReissueCase
from tests.factories import UserFactory, register_case


@pytest.fixture
def cases(clerk, office, other_clerk, other_office):
    return {
        "DC": register_case(clerk=clerk, office=office),
        "PD": register_case(clerk=other_clerk, office=other_office),
    }


@pytest.fixture
def reader_of_all_offices(other_office):
    """A clerk of PD who may also read every office (an auditor's grant besides)."""
    reader = UserFactory(username="reader", role="Clerk", offices=[other_office])
    reader.groups.add(Group.objects.get(name="Auditor"))
    return reader


def references(queryset) -> set[str]:
    return set(queryset.values_list("reference", flat=True))


def test_acting_is_narrower_than_seeing(reader_of_all_offices, cases):
    everything = ReissueCase.objects.all()
    assert references(scope_to_offices(everything, reader_of_all_offices)) == {
        cases["DC"].reference,
        cases["PD"].reference,
    }
    assert references(scope_to_offices_worked_in(everything, reader_of_all_offices)) == {
        cases["PD"].reference
    }


def test_scoping_follows_a_path_to_the_office(reader_of_all_offices, cases):
    applicants = scope_to_offices_worked_in(
        ReissueCase.objects.values("applicant"), reader_of_all_offices, office_path="office"
    )
    assert [row["applicant"] for row in applicants] == [cases["PD"].applicant_id]


def test_a_superuser_acts_everywhere_and_an_inactive_user_nowhere(admin_user, clerk, cases):
    assert len(scope_to_offices_worked_in(ReissueCase.objects.all(), admin_user)) == 2
    type(clerk).objects.filter(pk=clerk.pk).update(is_active=False)
    inactive = type(clerk).objects.get(pk=clerk.pk)  # a new request's user
    assert not scope_to_offices_worked_in(ReissueCase.objects.all(), inactive).exists()


def test_scoping_for_acting_costs_no_query_of_its_own(
    django_assert_num_queries, reader_of_all_offices, cases
):
    # Before the offices are known: a subquery; after (a page asked can_act_in_office): ids.
    with django_assert_num_queries(1):
        assert len(scope_to_offices_worked_in(ReissueCase.objects.all(), reader_of_all_offices))
    can_act_in_office(reader_of_all_offices, cases["PD"].office_id)
    with django_assert_num_queries(1):
        assert len(scope_to_offices_worked_in(ReissueCase.objects.all(), reader_of_all_offices))


def test_visible_office_ids_are_none_for_all_offices(reader_of_all_offices, clerk, office):
    assert office_ids_visible_to(reader_of_all_offices) is None
    assert office_ids_visible_to(clerk) == [office.pk]
