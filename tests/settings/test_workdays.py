"""Working days follow the State Council's holidays and 调休 (chinesecalendar), Monday–Friday beyond
the years the calendar covers (issue 18)."""
from __future__ import annotations

from datetime import date

from blueprints.awards import services as awards
from blueprints.volunteers import ledger
from core import workdays


def test_national_day_holidays_are_not_working_days_and_make_up_days_are():
    assert not workdays.is_working_day(date(2026, 10, 1))  # 国庆节, a Thursday
    assert not workdays.is_working_day(date(2026, 10, 7))  # holiday, a Wednesday
    assert workdays.is_working_day(date(2026, 10, 10))  # 调休: a Saturday that is worked
    assert workdays.is_working_day(date(2026, 9, 20))  # 调休: a Sunday that is worked
    assert not workdays.is_working_day(date(2026, 2, 17))  # 春节


def test_a_record_entered_after_national_day_is_not_late_when_few_working_days_passed():
    # Mon–Fri would count 10 days from 30 Sep to 14 Oct; officially only 6 (8, 9, 10 (Sat), 12, 13, 14 Oct).
    assert ledger.working_days_between(date(2026, 9, 30), date(2026, 10, 14)) == 6
    assert not ledger.is_late(date(2026, 9, 30), date(2026, 10, 20))
    assert ledger.is_late(date(2026, 9, 30), date(2026, 10, 26))


def test_years_beyond_the_calendar_fall_back_to_monday_to_friday():
    assert workdays.covered(2026) and not workdays.covered(workdays.LAST_YEAR + 1)
    year = workdays.LAST_YEAR + 4
    start = date(year, 3, 2)
    while start.weekday() != 0:
        start = start.replace(day=start.day + 1)
    assert workdays.working_days_between(start, start.replace(day=start.day + 14)) == 10


def test_the_award_notice_period_counts_official_working_days():
    # 公示 of five working days starting on the first working day after National Day.
    assert awards._working_day_on_or_after(date(2026, 10, 1)) == date(2026, 10, 8)
    assert awards._add_working_days(date(2026, 10, 8), 4) == date(2026, 10, 13)  # 9, 10 (Sat 调休), 12, 13
