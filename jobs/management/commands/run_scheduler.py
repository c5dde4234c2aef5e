"""Enqueue the scheduled jobs when due (SCHEDULED_JOBS). Safe to run on several hosts."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from jobs.scheduler import enqueue_due_jobs, sync_scheduled_jobs


class Command(BaseCommand):
    help = "Enqueue each scheduled job once per slot; run in the background beside the workers."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--interval", type=float, default=15, help="Seconds between looks (default 15)."
        )
        parser.add_argument("--once", action="store_true", help="Look once, then exit.")

    def handle(self, *args, interval: float, once: bool, **options) -> None:
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        sync_scheduled_jobs()
        while True:
            close_old_connections()
            for run in enqueue_due_jobs():
                self.stdout.write(f"enqueued {run}")
            if once or stopped.wait(interval):
                return
