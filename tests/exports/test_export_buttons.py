"""Who sees the export button on each list: the roles granted an export right
(reissue migration 0012: supervisors and auditors), not clerks or reviewers."""

import pytest
from django.urls import reverse

LISTS = ["reissue_reissuecase", "claims_expenseclaim", "audit_auditentry"]
ROLES_WHO_EXPORT = {"clerk": False, "reviewer": False, "supervisor": True, "auditor": True}


@pytest.mark.parametrize("admin_name", LISTS)
@pytest.mark.parametrize("role", ROLES_WHO_EXPORT)
def test_the_export_button_is_shown_only_to_roles_who_may_export(
    db, client, request, role, admin_name
):
    client.force_login(request.getfixturevalue(role))
    export_url = reverse(f"admin:{admin_name}_export")
    page = client.get(reverse(f"admin:{admin_name}_changelist"))
    assert page.status_code == 200
    shown = f'href="{export_url}' in page.content.decode()
    assert shown is ROLES_WHO_EXPORT[role]
    assert client.get(export_url).status_code == (200 if shown else 403)


def test_the_export_page_has_no_inline_handlers_or_styles_for_the_csp_to_block(client, office):
    from tests.factories import UserFactory

    supervisor = UserFactory(role="Supervisor", offices=[office])
    client.force_login(supervisor)
    page = client.get(reverse("admin:reissue_reissuecase_export")).content.decode()
    assert 'class="select-toggle"' in page
    assert "onchange=" not in page and 'style="' not in page
    assert "reissue/csp-handlers.js" in page  # binds "Select all" instead
