"""cn_date: the one date style of printed documents (2024年11月30日)."""
from datetime import date, datetime, timezone

import pytest

from core.templating import fmt_cn_date


@pytest.mark.parametrize("value,expected", [
    (date(2024, 11, 30), "2024年11月30日"),
    (date(2026, 3, 5), "2026年3月5日"),  # no zero padding
    ("2026-03-05", "2026年3月5日"),  # frozen facts keep ISO text
    (datetime(2026, 3, 4, 17, 0), "2026年3月5日"),  # naive = stored UTC: 01:00 on the 5th in Shanghai
    (datetime(2026, 3, 4, 17, 0, tzinfo=timezone.utc), "2026年3月5日"),
    (None, ""), ("", ""), ("见附件", "见附件"),
])
def test_cn_date(value, expected):
    assert fmt_cn_date(value) == expected


def test_cn_date_with_time_is_local():
    assert fmt_cn_date(datetime(2026, 3, 4, 17, 5), time=True) == "2026年3月5日 01:05"


def test_every_print_template_formats_dates_with_cn_date():
    """No strftime/isoformat or the web's |date filter in a print template: dates go through cn_date."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [str(p.relative_to(root)) for p in [*root.glob("*/pdf/*.html"), root / "pdf" / "_base.html"]
                 if any(s in p.read_text() for s in (".strftime(", ".isoformat(", "|date ", "|date}", "|datetime"))]
    assert offenders == []
