"""Demo assessment: indicators for last year and this year, entered survey values, one adjustment,
and last year's results frozen (so the dashboard shows a trend and a snapshot)."""
from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import func, select

from blueprints.accounts.models import Role, User
from blueprints.assessment import services
from blueprints.assessment.models import AssessmentYear, IndicatorValue
from core.extensions import db
from core.timeutil import local_today


PILOT_TARGETS = {"registration": Decimal("0.45"), "party_league": Decimal("1"), "officials_40h": Decimal("10"),
                 "avg_hours": Decimal("20")}


def seed(ctx: dict) -> None:
    if db.session.scalar(select(func.count()).select_from(AssessmentYear)):
        return
    regions = services.districts()
    if not regions:
        return
    admin = db.session.scalar(select(User).where(User.role == Role.CITY_ADMIN).order_by(User.id))
    rng = random.Random(2015)
    this_year = local_today().year
    for year in (this_year - 1, this_year):
        ay = services.ensure_year(year)
        # The demo city's grade lines (the defaults are 90 / 80 / 60).
        services.update_thresholds(ay, Decimal(88), Decimal(75), Decimal(60))
        # The demo city is a scaled-down sample (tens of thousands of volunteers against millions of
        # residents), so the city sets pilot targets for the volume-based indicators, as a city would in
        # its first years; the other targets stay the defaults of DOMAIN.md.
        for ind in services.indicators(year):
            if ind.code in PILOT_TARGETS:
                services.update_indicator(ind, name=ind.name, target=PILOT_TARGETS[ind.code], weight=ind.weight,
                                          method=ind.method.value, active=True)
        survey = next(i for i in services.indicators(year) if i.code == "survey")
        rows = []
        for r in regions:
            # Survey approval (000: ≥ 90 %): most districts pass, a few do not, so every grade can appear.
            rows.append(dict(indicator_id=survey.id, region_id=r.id, reason="",
                             entered=Decimal(rng.randint(820, 985)) / 10,
                             updated_by_id=admin.id if admin else None))
        db.session.execute(IndicatorValue.__table__.insert(), rows)
    # One audited adjustment, as the city office would record it.
    last = services.indicators(this_year - 1)
    stations = next((i for i in last if i.code == "public_stations"), None)
    if stations is not None and admin is not None:
        services.save_value(admin, stations, regions[-1], entered=None, adjusted=Decimal(5),
                            reason="两处景区志愿服务站年内已建成投用，因系统上线前未录入，按市文明办核查结果调整。")
    if admin is not None:
        services.freeze(admin, this_year - 1)
    db.session.flush()
