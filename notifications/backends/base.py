"""What a backend is given and answers."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingSms:
    phone: str
    text: str  # what the citizen reads (the template filled in)
    template_code: str
    template_params: dict[str, str]
    # The event key: passed to the provider as its own out-id / session context, so a message
    # sent twice (the at-least-once window, README) can be matched to its event at the provider.
    event_key: str


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    message_id: str = ""
    answer: str = ""
    # A refusal that will not change by trying again (a bad number, an unknown template).
    permanent: bool = False


@dataclass
class HttpAnswer:
    status: int
    body: dict = field(default_factory=dict)
    text: str = ""


class BaseSmsBackend:
    def send(self, message: OutgoingSms) -> SendResult:
        raise NotImplementedError


def http_call(request: urllib.request.Request, *, timeout: float) -> HttpAnswer | SendResult:
    """Make the call; a network error or a non-JSON answer is a result to retry."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, ValueError) as error:
        return SendResult(accepted=False, answer=f"{type(error).__name__}: {error}"[:500])
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return SendResult(accepted=False, answer=f"HTTP {status}: {text[:300]}")
    return HttpAnswer(status=status, body=body if isinstance(body, dict) else {}, text=text)
