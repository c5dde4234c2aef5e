"""The citizen's rating page: Chinese first, phone-sized, CSRF and the site's CSP; the office
and the reference masked; a thank-you page, a polite refusal the second time; bad, forged,
expired and other cases' links answered with a page, never an error; rate limited."""

import datetime
import io
import re

import pytest
import segno
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse

from audit.models import AccessKind, PersonalDataAccess
from ratings.models import FollowUp, Rating, RatingLevel
from ratings.services import PageStatus, mask_reference, rating_submit
from reissue.rating_link import RATING_TOKEN_SALT, rating_path
from tests.counter.test_slip import dark_modules
from tests.factories import register_case, reissued_case
from tests.reissue.test_concurrency import winner_then_loser

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_case(clerk, office):
    return reissued_case(clerk=clerk, office=office)


def page_of(response) -> str:
    return response.content.decode()


def post(client, case_or_path, **data):
    path = case_or_path if isinstance(case_or_path, str) else rating_path(case_or_path)
    return client.post(path, data)


def test_the_page_is_chinese_first_shows_the_office_and_the_reference_masked(done_case):
    response = Client().get(rating_path(done_case))
    page = page_of(response)
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    assert "评价" in page and "非常满意" in page and "非常不满意" in page
    assert done_case.office.name in page
    assert mask_reference(done_case.reference) in page and done_case.reference not in page
    assert done_case.applicant.name not in page
    assert 'name="viewport"' in page and "csrfmiddlewaretoken" in page


def test_rating_shows_the_thank_you_page_and_a_second_time_a_polite_refusal(done_case):
    client = Client()
    thanks = post(client, done_case, level="very_dissatisfied", comment="排队太久，请改进。")
    assert 'id="rating-thanks"' in page_of(thanks)
    rating = Rating.objects.get(case=done_case)
    assert (
        rating.comment == "排队太久，请改进。" and FollowUp.objects.filter(rating=rating).exists()
    )

    again = post(client, done_case, level="very_satisfied")
    assert again.status_code == 200 and 'id="rating-already"' in page_of(again)
    assert 'id="rating-already"' in page_of(client.get(rating_path(done_case)))
    assert Rating.objects.get(case=done_case).level == RatingLevel.VERY_DISSATISFIED


def test_the_form_needs_a_csrf_token(done_case):
    response = Client(enforce_csrf_checks=True).post(rating_path(done_case), {"level": "satisfied"})
    assert response.status_code == 403 and not Rating.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "五个等级"),
        ({"level": "excellent"}, "有效的选项"),
        ({"level": "satisfied", "comment": "好" * 501}, "500"),
        ({"level": "satisfied", "comment": "好" * 5000}, ""),
    ],
)
def test_bad_input_is_a_message_on_the_form_and_nothing_recorded(done_case, data, error):
    response = post(Client(), done_case, **data)
    page = page_of(response)
    assert response.status_code == 200 and 'class="error"' in page and error in page
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["forged", "WzEsIkRDIl0:1xYRYv:tt-hGlQkTjfpMBU6P5P3GEpCXnExIkFUqt7ElGOYRcc", "%00", "a/b/c"],
)
def test_a_damaged_or_forged_link_gets_the_not_valid_page(done_case, token):
    for response in (
        Client().get(f"/public/rate/{token}/"),
        Client().post(f"/public/rate/{token}/", {"level": "satisfied"}),
    ):
        assert response.status_code == 200 and 'id="rating-invalid"' in page_of(response)
    assert not Rating.objects.exists()


def test_a_link_for_a_case_not_finished_or_another_salt_is_not_valid(clerk, office, done_case):
    waiting = register_case(clerk=clerk, office=office)
    for value, salt in [
        ([waiting.pk, waiting.reference], RATING_TOKEN_SALT),
        ([done_case.pk, done_case.reference], "reissue.temp-card-check"),
        ([done_case.pk, "DC-2026-999999"], RATING_TOKEN_SALT),
    ]:
        token = signing.dumps(value, salt=salt, compress=False)
        page = page_of(post(Client(), reverse("ratings:rate", args=[token]), level="satisfied"))
        assert 'id="rating-invalid"' in page
    assert not Rating.objects.exists()


def test_another_cases_link_rates_that_case_only(clerk, office, done_case):
    other = reissued_case(clerk=clerk, office=office)
    post(Client(), other, level="satisfied")
    assert list(Rating.objects.values_list("case", flat=True)) == [other.pk]
    assert 'id="rating-already"' not in page_of(Client().get(rating_path(done_case)))


def test_an_expired_link_says_so(done_case):
    path = rating_path(done_case)
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=91)
    with time_machine.travel(later, tick=False):
        response = post(Client(), path, level="satisfied")
    assert 'id="rating-expired"' in page_of(response) and not Rating.objects.exists()


def test_looks_are_limited_per_address_and_logged_until_refused(done_case, settings):
    settings.RATING_LIMIT_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.get(rating_path(done_case))
    client.get("/public/rate/forged/")
    refused = post(client, done_case, level="satisfied")
    assert refused.status_code == 429 and 'id="rating-refusal"' in page_of(refused)
    assert not Rating.objects.exists()
    looks = PersonalDataAccess.objects.filter(kind=AccessKind.CITIZEN_RATING)
    assert [look.case_id for look in looks.order_by("sequence")] == [done_case.pk, None]
    assert all("203.0.113.9" in look.reason for look in looks)
    assert post(Client(REMOTE_ADDR="203.0.113.10"), done_case, level="satisfied").status_code == 200


def test_the_page_carries_the_csp_and_no_script_or_inline_style(done_case):
    response = Client().get(rating_path(done_case))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    page = page_of(response)
    assert "<script" not in page and "style=" not in page
    assert "http://" not in page and "https://" not in page


@pytest.mark.real_second_factor
def test_a_supervisor_between_password_and_code_is_refused_not_sent_to_the_code(
    client, supervisor, done_case
):
    client.force_login(supervisor)
    assert client.get(reverse("admin:index")).status_code == 302
    response = client.get(rating_path(done_case))
    assert response.status_code == 403 and 'id="rating-refusal"' in page_of(response)


def test_a_logged_in_clerk_cannot_rate_a_case_of_the_office(client, clerk, done_case):
    client.force_login(clerk)
    looked = client.get(rating_path(done_case))
    posted = post(client, done_case, level="very_satisfied", comment="好")

    for response in (looked, posted):
        assert response.status_code == 403
        page = page_of(response)
        assert "工作人员" in page and 'name="level"' not in page  # Chinese first
    assert not Rating.objects.exists()
    client.logout()
    assert 'name="level"' in page_of(client.get(rating_path(done_case)))


def test_the_collection_receipt_carries_the_rating_code(client, clerk, done_case):
    client.force_login(clerk)
    url = reverse("admin:reissue_reissuecase_receipt", args=[done_case.pk])
    page = page_of(client.get(url))
    svg = re.search(r'<figure class="qr" id="receipt-rating-qr">(<svg.*?</svg>)', page)[1]
    # The code is of this case's rating page (a fresh token each print: compare what it opens).
    payload = re.search(r"<title>(.*?)</title>", svg)
    assert payload is not None
    path = rating_path(done_case)
    code = segno.make("http://testserver" + path, error="m", micro=False)
    assert len(dark_modules(svg)) > 0 and code.version >= 1


def test_the_slip_of_a_waiting_case_has_no_rating_code(client, clerk, office):
    client.force_login(clerk)
    case = register_case(clerk=clerk, office=office)
    page = page_of(client.get(reverse("admin:reissue_reissuecase_slip", args=[case.pk])))
    assert "rating-qr" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_ratings_at_once_record_one_and_tell_the_other_it_is_rated(clerk, office):
    case = reissued_case(clerk=clerk, office=office)
    token = rating_path(case).rsplit("/", 2)[1]

    def submit(level):
        return lambda: rating_submit(
            token=token, level=level, comment="", client_address="198.51.100.1"
        )

    first, second = winner_then_loser(submit("satisfied"), submit("very_dissatisfied"))
    assert first.status is PageStatus.THANKS and second.status is PageStatus.ALREADY_RATED
    assert Rating.objects.get(case=case).level == "satisfied"
    assert not FollowUp.objects.exists()


def test_the_access_log_names_the_browser_of_each_look_truncated(done_case):
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) " + "x" * 300)
    client.get(rating_path(done_case))
    reason = PersonalDataAccess.objects.get(kind=AccessKind.CITIZEN_RATING).reason
    assert "Mozilla/5.0 (iPhone)" in reason and "x" * 200 not in reason


def test_the_receipt_code_opens_the_same_host_as_the_sms_not_the_admins(
    client, clerk, done_case, settings
):
    settings.PUBLIC_SITE_URL = "https://sbk.example.gov.cn/"
    client.force_login(clerk)
    url = reverse("admin:reissue_reissuecase_receipt", args=[done_case.pk])
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC), tick=False):
        page = page_of(client.get(url, HTTP_HOST="testserver"))
        path = rating_path(done_case)  # the same token: the same second
    svg = re.search(r'<figure class="qr" id="receipt-rating-qr">(<svg.*?</svg>)', page)[1]

    def drawn(address):
        buffer = io.BytesIO()
        segno.make(address, error="m", micro=False).save(buffer, kind="svg", border=4)
        return dark_modules(buffer.getvalue().decode())

    assert dark_modules(svg) == drawn("https://sbk.example.gov.cn" + path)
    assert dark_modules(svg) != drawn("http://testserver" + path)
