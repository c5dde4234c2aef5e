"""A clerk's home page starts with the counter's work: register a case, find one."""

from django.urls import reverse


def home_of(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_a_clerks_home_starts_with_register_and_one_search_box(client, clerk):
    page = home_of(client, clerk)
    register = page.index('id="register-case"')
    assert register < page.index('id="work-queue"')
    assert f'href="{reverse("admin:reissue_reissuecase_add")}"' in page[register - 200 :]
    assert 'id="counter-search-term"' in page and "按案件编号或完整身份证号查找案件" in page


def test_a_reviewer_cannot_register_so_gets_only_the_search(client, reviewer):
    page = home_of(client, reviewer)
    assert 'id="register-case"' not in page and 'id="counter-search"' in page


def test_the_case_app_comes_first_then_claims_then_djangos_own(admin_client):
    for language in ("en", "zh-hans"):
        page = admin_client.get(
            reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        cases, claims, *djangos = (
            page.index(f'class="app-{app} ') for app in ("reissue", "claims", "auth", "axes")
        )
        assert cases < claims < min(djangos), language
