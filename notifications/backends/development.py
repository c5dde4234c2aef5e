"""Backends that send nothing: to the console, to memory (tests), to a file."""

import json
import os
import sys
import threading
import uuid

from django.conf import settings

from .base import BaseSmsBackend, OutgoingSms, SendResult

# The locmem backend's messages, like django.core.mail.outbox.
outbox: list[OutgoingSms] = []
_lock = threading.Lock()


class ConsoleBackend(BaseSmsBackend):
    def send(self, message: OutgoingSms) -> SendResult:
        sys.stdout.write(f"SMS to {message.phone} [{message.event_key}]: {message.text}\n")
        sys.stdout.flush()
        return SendResult(accepted=True, message_id=f"console-{uuid.uuid4().hex[:12]}", answer="OK")


class LocmemBackend(BaseSmsBackend):
    def send(self, message: OutgoingSms) -> SendResult:
        with _lock:
            outbox.append(message)
        return SendResult(accepted=True, message_id=f"locmem-{len(outbox)}", answer="OK")


class FileBackend(BaseSmsBackend):
    """Append each message as a JSON line to settings.SMS_FILE_PATH."""

    def send(self, message: OutgoingSms) -> SendResult:
        line = json.dumps(
            {"phone": message.phone, "event_key": message.event_key, "text": message.text},
            ensure_ascii=False,
        )
        os.makedirs(os.path.dirname(settings.SMS_FILE_PATH) or ".", exist_ok=True)
        with _lock, open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as file:
            file.write(line + "\n")
        return SendResult(accepted=True, message_id=f"file-{uuid.uuid4().hex[:12]}", answer="OK")
