"""`is_after_today` answers as `timezone.localdate()` would, in every time zone."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from common.dates import is_after_today

# Kiribati is 14 hours ahead of UTC, Baker Island 12 behind (Etc/GMT+12).
ZONES = ["Asia/Shanghai", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]
MOMENTS = ["2026-03-01T00:30Z", "2026-03-01T11:59Z", "2026-03-01T12:01Z", "2026-03-01T23:30Z"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_day_is_after_today_as_the_local_date_says(zone, moment):
    with time_machine.travel(moment, tick=False), timezone.override(zone):
        today = timezone.localdate()
        for offset in range(-4, 5):
            day = today + datetime.timedelta(days=offset)
            assert is_after_today(day) is (offset > 0), (zone, moment, day)
