"""The scheduled jobs of settings.SCHEDULED_JOBS, and their slots.

A slot is the moment a run is due: every N minutes counted from local midnight (00:00, 00:05,
...), or daily at a local time. The latest slot begun is the one due: a scheduler down for a
while enqueues that one, never a backlog of missed runs (the clocks catch up by themselves).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    task_path: str  # a django-tasks Task, e.g. "reissue.tasks.run_clocks"
    every: datetime.timedelta | None = None
    daily_at: datetime.time | None = None

    @property
    def period(self) -> datetime.timedelta:
        return self.every or DAY

    def slot_at(self, now: datetime.datetime) -> datetime.datetime:
        """Return the latest slot begun at `now` (aware, local time)."""
        local = timezone.localtime(now)
        if self.every is not None:
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            return midnight + self.every * ((local - midnight) // self.every)
        at = local.replace(
            hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0
        )
        return at if at <= local else at - DAY

    def next_slot(self, now: datetime.datetime) -> datetime.datetime:
        return self.slot_at(now) + self.period


def _job(name: str, spec: dict) -> Job:
    every = spec.get("every_minutes")
    daily_at = spec.get("daily_at")
    if (every is None) == (daily_at is None):
        raise ImproperlyConfigured(f"SCHEDULED_JOBS[{name!r}]: give every_minutes or daily_at.")
    if every is not None:
        if not isinstance(every, int) or every <= 0 or (24 * 60) % every:
            raise ImproperlyConfigured(
                f"SCHEDULED_JOBS[{name!r}]: every_minutes must divide a day (1440 minutes)."
            )
        return Job(name, spec["label"], spec["task"], every=datetime.timedelta(minutes=every))
    return Job(name, spec["label"], spec["task"], daily_at=datetime.time.fromisoformat(daily_at))


def configured_jobs() -> dict[str, Job]:
    return {name: _job(name, spec) for name, spec in settings.SCHEDULED_JOBS.items()}
