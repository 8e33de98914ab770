"""A new campaign (issue 15): no title/year of an existing one pre-filled, the same title in the same
year refused next to the field, default dates that leave each stage its time."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from blueprints.awards import services
from blueprints.awards.models import Campaign
from blueprints.volunteers.ledger import working_days_between
from core.extensions import db
from core.timeutil import local_today
from tests import factories


@pytest.mark.parametrize("today", [date(2026, 1, 5), date(2026, 3, 20), date(2026, 11, 27), date(2026, 12, 31)])
def test_default_dates_leave_time_for_every_stage(world, today):
    d = services.default_campaign(today)
    assert d.nomination_start == today
    assert (d.nomination_end - d.nomination_start).days >= 14            # 推荐 two weeks
    assert (d.district_deadline - d.nomination_end).days >= 7            # 区级推荐
    assert (d.review_deadline - d.district_deadline).days >= 14          # 评审 two weeks
    assert d.notice_start > d.review_deadline and d.notice_start.weekday() < 5
    assert working_days_between(d.notice_start - timedelta(days=1), d.notice_end) >= 5  # 公示 ≥ 5 working days
    assert d.presentation_date > d.notice_end
    assert (d.presentation_date.month, d.presentation_date.day) in {(3, 5), (5, 4), (12, 5)}
    assert not services.check_dates(d)


def test_default_title_is_never_one_already_used(world):
    today = local_today()
    assert services.default_campaign(today).title == services.default_title(today.year)
    factories.award_campaign(title=services.default_title(today.year))
    d = services.default_campaign(today)
    assert (d.year, d.title) == (today.year + 1, services.default_title(today.year + 1))
    factories.award_campaign(year=today.year + 1, title=services.default_title(today.year + 1))
    assert services.default_campaign(today).title == ""


def _form(title: str, year: int) -> dict:
    today = local_today()
    d = services.default_campaign(today)
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.__dict__.items()}
    data.update(year=year, title=title, deeds_limit=2000, criteria="服务时长：40\n服务成效：60")
    return data


def test_new_campaign_form_does_not_prefill_an_existing_title(world, as_role):
    today = local_today()
    factories.award_campaign(title=services.default_title(today.year))
    db.session.commit()
    html = as_role("city_admin").get("/awards/new").get_data(as_text=True)
    assert f'value="{services.default_title(today.year)}"' not in html


def test_same_title_in_the_same_year_is_refused_next_to_the_field(world, as_role):
    today = local_today()
    factories.award_campaign(title="最美志愿者评选")
    db.session.commit()
    c = as_role("city_admin")
    resp = c.post("/awards/new", data=_form("最美志愿者评选", today.year))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "已有同名评选" in html.split('id="title-err"', 1)[1].split("</small>", 1)[0]
    assert db.session.scalar(db.select(db.func.count(Campaign.id))) == 1
    assert c.post("/awards/new", data=_form("最美志愿者评选", today.year + 1)).status_code == 303  # another year


def test_renaming_a_campaign_to_a_taken_title_is_refused(world, as_role):
    factories.award_campaign(title="甲评选")
    other = factories.award_campaign(title="乙评选")
    db.session.commit()
    data = _form("甲评选", other.year)
    resp = as_role("city_admin").post(f"/awards/{other.id}/edit", data=data)
    assert resp.status_code == 422 and "已有同名评选" in resp.get_data(as_text=True)
