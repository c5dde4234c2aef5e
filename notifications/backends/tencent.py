"""Tencent Cloud SMS (API 3.0, version 2021-01-11): SendSms signed with TC3-HMAC-SHA256.

Per Tencent Cloud's public "Signature v3" document: CanonicalRequest = "POST\n/\n\n" +
"content-type:...\nhost:...\n\n" + "content-type;host\n" + hex(SHA256(payload));
StringToSign = "TC3-HMAC-SHA256\n" + timestamp + "\n" + date + "/sms/tc3_request\n" +
hex(SHA256(CanonicalRequest)); the key derived as HMAC-SHA256 chained over "TC3" + SecretKey,
the UTC date, "sms", "tc3_request". Called with urllib: the official SDK is not needed.
"""

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request

from django.conf import settings

from .base import BaseSmsBackend, HttpAnswer, OutgoingSms, SendResult, http_call

SERVICE = "sms"
CONTENT_TYPE = "application/json; charset=utf-8"
# Answers worth trying again later; any other error code is permanent.
RETRYABLE_PREFIXES = ("InternalError", "RequestLimitExceeded", "LimitExceeded")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, host: str, payload: str, timestamp: int) -> str:
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload.encode()).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{SERVICE}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(*, secret_id: str, signature: str, timestamp: int) -> str:
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{SERVICE}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


class TencentSmsBackend(BaseSmsBackend):
    def send(self, message: OutgoingSms) -> SendResult:
        endpoint = settings.SMS_TENCENT_ENDPOINT.rstrip("/")
        host = urllib.parse.urlsplit(endpoint).netloc
        phone = message.phone if message.phone.startswith("+") else f"+86{message.phone}"
        payload = json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": settings.SMS_TENCENT_APP_ID,
                "SignName": settings.SMS_SIGN_NAME,
                "TemplateId": message.template_code,
                # Tencent's parameters are positional: in the order the notice declares them.
                "TemplateParamSet": [str(v) for v in message.template_params.values()],
                "SessionContext": message.event_key,  # echoed in the receipts
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        timestamp = int(time.time())
        signature = tc3_signature(
            secret_key=settings.SMS_TENCENT_SECRET_KEY,
            host=host,
            payload=payload,
            timestamp=timestamp,
        )
        request = urllib.request.Request(
            f"{endpoint}/",
            data=payload.encode(),
            method="POST",
            headers={
                "Authorization": authorization(
                    secret_id=settings.SMS_TENCENT_SECRET_ID,
                    signature=signature,
                    timestamp=timestamp,
                ),
                "Content-Type": CONTENT_TYPE,
                "Host": host,
                "X-TC-Action": "SendSms",
                "X-TC-Version": "2021-01-11",
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Region": settings.SMS_TENCENT_REGION,
            },
        )
        answer = http_call(request, timeout=settings.SMS_TIMEOUT_SECONDS)
        if isinstance(answer, SendResult):
            return answer
        return self.read_answer(answer)

    @staticmethod
    def read_answer(answer: HttpAnswer) -> SendResult:
        response = answer.body.get("Response") or {}
        error = response.get("Error")
        if error:
            code = str(error.get("Code", ""))
            text = f"{code}: {error.get('Message', '')}"[:500]
            return SendResult(
                accepted=False, answer=text, permanent=not code.startswith(RETRYABLE_PREFIXES)
            )
        statuses = response.get("SendStatusSet") or []
        if not statuses:
            return SendResult(accepted=False, answer=f"HTTP {answer.status}: {answer.text[:300]}")
        status = statuses[0]
        code = str(status.get("Code", ""))
        text = f"{code}: {status.get('Message', '')}"[:500]
        if code == "Ok":
            return SendResult(
                accepted=True, message_id=str(status.get("SerialNo", "")), answer=text
            )
        return SendResult(
            accepted=False, answer=text, permanent=not code.startswith(RETRYABLE_PREFIXES)
        )
