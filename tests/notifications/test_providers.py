"""The Alibaba and Tencent adapters against a fake provider on 127.0.0.1 (no real traffic).

The fake recomputes each request's signature by the providers' documented algorithms,
written out here again rather than imported, and refuses a wrong one as the providers do.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.backends import OutgoingSms
from notifications.backends.alibaba import AlibabaSmsBackend
from notifications.backends.tencent import TencentSmsBackend

MESSAGE = OutgoingSms(
    phone="13800138000",
    text="王先生，您的新社保卡已到东城，请凭本人有效证件前来领取（业务编号DC-2031-000001）。",
    template_code="SMS_123",
    template_params={"name": "王先生", "reference": "DC-2031-000001", "phone": "010-64001234"},
    event_key="reissue.reissuecase:1:card_arrived",
)


def alibaba_expected_signature(params: dict, secret: str) -> str:
    def enc(v):
        return urllib.parse.quote(v, safe="~")

    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    string_to_sign = "GET&%2F&" + enc(query)
    return base64.b64encode(
        hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()


def tencent_expected_signature(headers, body: bytes, secret: str) -> str:
    timestamp = int(headers["X-TC-Timestamp"])
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = (
        f"POST\n/\n\ncontent-type:{headers['Content-Type']}\nhost:{headers['Host']}\n\n"
        f"content-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = h(h(h(("TC3" + secret).encode(), date), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeProvider(BaseHTTPRequestHandler):
    answers: list = []  # (status, body) to give, in order; then OK
    seen: list = []

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # Alibaba, RPC style
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        signature = params.pop("Signature", "")
        ok = signature == alibaba_expected_signature(params, "ali-secret")
        FakeProvider.seen.append(("alibaba", ok, params))
        if not ok:
            return self._answer(400, {"Code": "SignatureDoesNotMatch", "Message": "bad"})
        if FakeProvider.answers:
            return self._answer(*FakeProvider.answers.pop(0))
        self._answer(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})

    def do_POST(self):  # Tencent, TC3
        body = self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers["Authorization"]
        signature = auth.rsplit("Signature=", 1)[-1]
        ok = signature == tencent_expected_signature(self.headers, body, "tc-secret")
        ok = ok and auth.startswith("TC3-HMAC-SHA256 Credential=tc-id/")
        FakeProvider.seen.append(("tencent", ok, self.headers, json.loads(body)))
        if not ok:
            error = {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}
            return self._answer(200, {"Response": {"Error": error, "RequestId": "r"}})
        if FakeProvider.answers:
            return self._answer(*FakeProvider.answers.pop(0))
        status = {"SerialNo": "2028:f825e6b16e23f73f4123", "Code": "Ok", "Message": "send success"}
        self._answer(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})


@pytest.fixture
def fake_provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SMS_ALIBABA_ENDPOINT = settings.SMS_TENCENT_ENDPOINT = url
    settings.SMS_ALIBABA_ACCESS_KEY_ID, settings.SMS_ALIBABA_ACCESS_KEY_SECRET = (
        "ali-id",
        "ali-secret",
    )
    settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY = "tc-id", "tc-secret"
    settings.SMS_TENCENT_APP_ID = "1400000000"
    FakeProvider.answers, FakeProvider.seen = [], []
    yield FakeProvider
    server.shutdown()
    server.server_close()


def test_alibaba_sends_a_signed_template_request(fake_provider):
    result = AlibabaSmsBackend().send(MESSAGE)
    assert result.accepted and result.message_id == "900619746936498440^0"
    ((_name, signed_ok, params),) = fake_provider.seen
    assert signed_ok
    assert params["Action"] == "SendSms" and params["TemplateCode"] == "SMS_123"
    assert params["PhoneNumbers"] == "13800138000" and params["OutId"] == MESSAGE.event_key
    assert json.loads(params["TemplateParam"])["reference"] == "DC-2031-000001"


def test_alibaba_a_wrong_secret_is_refused_for_good(fake_provider, settings):
    settings.SMS_ALIBABA_ACCESS_KEY_SECRET = "wrong"
    result = AlibabaSmsBackend().send(MESSAGE)
    assert not result.accepted and result.permanent and "SignatureDoesNotMatch" in result.answer


def test_alibaba_flow_control_and_server_errors_are_retried(fake_provider):
    fake_provider.answers = [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}),
        (503, {"Code": "ServiceUnavailable", "Message": "busy"}),
    ]
    first, second = AlibabaSmsBackend().send(MESSAGE), AlibabaSmsBackend().send(MESSAGE)
    assert not first.accepted and not first.permanent and "BUSINESS_LIMIT_CONTROL" in first.answer
    assert not second.accepted and not second.permanent
    assert AlibabaSmsBackend().send(MESSAGE).accepted


def test_tencent_sends_a_signed_template_request(fake_provider):
    result = TencentSmsBackend().send(MESSAGE)
    assert result.accepted and result.message_id == "2028:f825e6b16e23f73f4123"
    ((_name, signed_ok, headers, body),) = fake_provider.seen
    assert signed_ok
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert body["PhoneNumberSet"] == ["+8613800138000"] and body["TemplateId"] == "SMS_123"
    assert body["TemplateParamSet"] == ["王先生", "DC-2031-000001", "010-64001234"]
    assert body["SessionContext"] == MESSAGE.event_key and body["SmsSdkAppId"] == "1400000000"


def test_tencent_a_wrong_secret_is_refused_for_good(fake_provider, settings):
    settings.SMS_TENCENT_SECRET_KEY = "wrong"
    result = TencentSmsBackend().send(MESSAGE)
    assert not result.accepted and result.permanent and "SignatureFailure" in result.answer


def test_tencent_a_rate_limit_is_retried(fake_provider):
    error = {"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "30秒内限制"}
    fake_provider.answers = [(200, {"Response": {"Error": error, "RequestId": "r"}})]
    result = TencentSmsBackend().send(MESSAGE)
    assert not result.accepted and not result.permanent
    assert TencentSmsBackend().send(MESSAGE).accepted


def test_a_provider_out_of_reach_is_retried(settings):
    settings.SMS_ALIBABA_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there
    settings.SMS_TIMEOUT_SECONDS = 2
    result = AlibabaSmsBackend().send(MESSAGE)
    assert not result.accepted and not result.permanent and result.answer


@pytest.mark.django_db
def test_an_error_answer_through_the_outbox_is_retried_then_sent(
    fake_provider, settings, clerk, office
):
    import datetime

    from django.utils import timezone

    from notifications.models import MessageState, OutboxMessage
    from notifications.services import send_due_messages
    from reissue import services
    from tests.factories import register_case

    settings.SMS_BACKEND = "notifications.backends.tencent.TencentSmsBackend"
    error = {"Code": "InternalError.Timeout", "Message": "超时"}
    fake_provider.answers = [(200, {"Response": {"Error": error, "RequestId": "r"}})]
    case = services.case_issue_temp_card(
        case=register_case(clerk=clerk, office=office),
        acting_user=clerk,
        card_number="TMP-1",
        issued_on=timezone.localdate(),
    )
    send_due_messages()
    message = OutboxMessage.objects.get(subject_label=case.reference)
    assert (
        message.state == MessageState.QUEUED and "InternalError.Timeout" in message.provider_answer
    )
    send_due_messages(now=timezone.now() + datetime.timedelta(hours=1))
    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.attempts == 2
    assert message.provider_message_id == "2028:f825e6b16e23f73f4123"


def test_the_file_backend_appends_one_line_per_sms(settings, tmp_path):
    from notifications.backends.development import FileBackend

    settings.SMS_FILE_PATH = str(tmp_path / "var" / "sms.jsonl")
    assert FileBackend().send(MESSAGE).accepted and FileBackend().send(MESSAGE).accepted
    lines = (tmp_path / "var" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event_key"] for line in lines] == [MESSAGE.event_key] * 2
    assert json.loads(lines[0])["text"] == MESSAGE.text
