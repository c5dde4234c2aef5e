"""The admin's view-on-site shortcut tells another office's object from a missing one by nothing."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings

from reissue.models import Applicant, ReissueCase
from tests.factories import register_case


def shortcut_page(client, model, object_id) -> tuple[int, str]:
    content_type = ContentType.objects.get_for_model(model)
    response = client.get(f"/admin/r/{content_type.pk}/{object_id}/")
    body = response.content.decode().replace(f"/{object_id}/", "/ID/")
    return response.status_code, body.replace(f"object {object_id} ", "object ID ")


@override_settings(DEBUG=True)
@pytest.mark.parametrize("model", [ReissueCase, Applicant])
def test_in_debug_a_foreign_object_answers_exactly_like_a_missing_one(
    client, clerk, other_clerk, other_office, model
):
    foreign = register_case(clerk=other_clerk, office=other_office)
    obj = foreign if model is ReissueCase else foreign.applicant
    client.force_login(clerk)
    foreign_answer = shortcut_page(client, model, obj.pk)
    missing_answer = shortcut_page(client, model, obj.pk + 1000)
    assert foreign_answer[0] == 404
    assert foreign_answer == missing_answer
