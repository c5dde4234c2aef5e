"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25): SendSms with the RPC signature.

Per Alibaba Cloud's public "RPC API signature" document: the parameters (common and the
action's) sorted by name, each name and value percent-encoded (RFC 3986, "~" kept), joined
as a query; StringToSign = "GET&%2F&" + percent-encode(query); Signature = Base64(HMAC-SHA1(
AccessKeySecret + "&", StringToSign)). Called with urllib: the official SDK is not needed.
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse
import urllib.request
import uuid

from django.conf import settings

from .base import BaseSmsBackend, HttpAnswer, OutgoingSms, SendResult, http_call

# Codes worth trying again later (flow control); any other refusal is permanent.
RETRYABLE_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isp.SYSTEM_ERROR"}


def percent_encode(value: str) -> str:
    return urllib.parse.quote(str(value), safe="~")


def rpc_signature(params: dict[str, str], *, secret: str, method: str = "GET") -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send_sms_params(message: OutgoingSms, *, now: datetime.datetime | None = None) -> dict:
    now = now or datetime.datetime.now(datetime.UTC)
    return {
        "AccessKeyId": settings.SMS_ALIBABA_ACCESS_KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": settings.SMS_ALIBABA_REGION,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
        "PhoneNumbers": message.phone,
        "SignName": settings.SMS_SIGN_NAME,
        "TemplateCode": message.template_code,
        "TemplateParam": json.dumps(message.template_params, ensure_ascii=False),
        "OutId": message.event_key,  # returned in the delivery receipts: the event it was for
    }


class AlibabaSmsBackend(BaseSmsBackend):
    def send(self, message: OutgoingSms) -> SendResult:
        params = send_sms_params(message)
        params["Signature"] = rpc_signature(params, secret=settings.SMS_ALIBABA_ACCESS_KEY_SECRET)
        url = f"{settings.SMS_ALIBABA_ENDPOINT.rstrip('/')}/?{urllib.parse.urlencode(params)}"
        answer = http_call(urllib.request.Request(url), timeout=settings.SMS_TIMEOUT_SECONDS)
        if isinstance(answer, SendResult):
            return answer
        return self.read_answer(answer)

    @staticmethod
    def read_answer(answer: HttpAnswer) -> SendResult:
        code = str(answer.body.get("Code", ""))
        text = f"{code}: {answer.body.get('Message', '')}"[:500]
        if code == "OK":
            return SendResult(
                accepted=True, message_id=str(answer.body.get("BizId", "")), answer=text
            )
        if answer.status >= 500 or code in RETRYABLE_CODES or not code:
            return SendResult(accepted=False, answer=text or f"HTTP {answer.status}")
        return SendResult(accepted=False, answer=text, permanent=True)
