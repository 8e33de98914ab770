"""Working days (工作日) as the State Council's yearly holiday notices define them: weekends off,
statutory holidays off, and the make-up working days of 调休 (a Saturday or Sunday that is worked).

The calendar is the maintained `chinesecalendar` package (one release per yearly notice), not a hand
table. For a year the installed release does not cover yet (the notice comes out in November or
December for the next year), a day falls back to Monday–Friday; `covered(year)` says which applies.
Every business-day rule (late entries, the 公示 period of a campaign) goes through this module.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from chinese_calendar import constants as _cc


FIRST_YEAR = min(_cc.holidays).year
LAST_YEAR = max(d.year for d in _cc.holidays)


def covered(year: int) -> bool:
    """Whether the holidays and 调休 of this year are known (else Monday–Friday is assumed)."""
    return FIRST_YEAR <= year <= LAST_YEAR


@lru_cache(maxsize=16384)  # a late-entry check walks every day since the service
def is_working_day(day: date) -> bool:
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=i)))


def on_or_after(day: date) -> date:
    """The first working day on or after `day`."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day`."""
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
