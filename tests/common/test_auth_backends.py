"""A user's permissions, read in one query, are exactly those Django's ModelBackend grants."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from common.auth_backends import OneQueryModelBackend
from tests.factories import UserFactory
from twofactor.policy import otp_required

CASE_LIST = reverse("admin:reissue_reissuecase_changelist")


def fresh(user):
    """The user as the next request loads it: no permissions remembered yet."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def users(admin_user, clerk, reviewer, supervisor, auditor, office):
    both = UserFactory(username="both", role="Clerk", offices=[office])
    both.groups.add(Group.objects.get(name="Auditor"))  # two groups, rights in common
    both.user_permissions.add(
        Permission.objects.get(codename="view_office"),  # their own as well
        Permission.objects.get(codename="view_reissuecase"),  # and one the group gives too
    )
    only_own = UserFactory(username="own")
    only_own.user_permissions.add(Permission.objects.get(codename="view_office"))
    nothing = UserFactory(username="nothing")
    return [admin_user, clerk, reviewer, supervisor, auditor, both, only_own, nothing]


def test_each_user_has_exactly_the_permissions_djangos_backend_grants(users):
    for user in users:
        ours = OneQueryModelBackend().get_all_permissions(fresh(user))
        assert ours == ModelBackend().get_all_permissions(fresh(user)), user.username
    assert "offices.view_office" in OneQueryModelBackend().get_all_permissions(fresh(users[6]))
    assert OneQueryModelBackend().get_all_permissions(fresh(users[7])) == set()


def test_a_deactivated_user_has_no_permissions(clerk):
    clerk.is_active = False
    clerk.save()
    assert OneQueryModelBackend().get_all_permissions(fresh(clerk)) == set()
    assert not fresh(clerk).has_perm("reissue.view_reissuecase")


def test_the_permissions_are_read_in_one_query_for_the_request(clerk, django_assert_num_queries):
    user = fresh(clerk)
    with django_assert_num_queries(1):
        assert user.has_perm("reissue.view_reissuecase")
        assert user.has_perm("reissue.add_reissuecase")
        assert not user.has_perm("audit.view_personaldataaccess")


def test_a_right_taken_from_the_group_counts_from_the_next_page(clerk):
    client = Client()
    client.force_login(clerk)
    assert client.get(CASE_LIST).status_code == 200
    Group.objects.get(name="Clerk").permissions.remove(
        Permission.objects.get(codename="view_reissuecase"),
        Permission.objects.get(codename="change_reissuecase"),
    )
    assert client.get(CASE_LIST).status_code == 403


def test_whether_two_factors_are_needed_is_read_with_the_permissions(
    clerk, supervisor, django_assert_num_queries
):
    for user, required in ((clerk, False), (supervisor, True)):
        user = fresh(user)
        with django_assert_num_queries(1):
            assert otp_required(user) is required
            assert user.has_perm("reissue.view_reissuecase")
