"""Demo platform-of-record exchange: the mapping saved (the national template's columns), and one past
export of 赤坎区's verified service records of one day, whose records are marked sent (README)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.exchange import services
from blueprints.exchange.models import Dataset, ExchangeBatch
from core.extensions import db
from core.settings import get_value, set_value
from core.timeutil import local_today


def seed(ctx: dict) -> None:
    if get_value(services.MAPPING_KEY) is None:
        set_value(services.MAPPING_KEY, services.default_mapping().as_value())
    if db.session.scalar(select(ExchangeBatch.id).limit(1)) is not None:
        return
    staff = ctx.get("users", {}).get("district_staff") or db.session.scalar(
        select(User).where(User.username == "district_staff"))
    if staff is None:
        return
    day = local_today() - timedelta(days=14)
    services.run_export(staff, services.ExportRequest(Dataset.RECORDS, day, day, False), limit=2000)
    db.session.flush()
