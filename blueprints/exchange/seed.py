"""Demo platform-of-record exchange: the mapping saved (the national template's columns), and one past
export of 赤坎区's verified service records of one day, whose records are marked sent (README)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.accounts.models import User
from blueprints.exchange import services
from blueprints.exchange.models import Dataset, ExchangeBatch
from blueprints.volunteers.models import RecordStatus, ServiceRecord
from core import scope
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
    # The latest day, a week or more ago, with verified records in the district: one day's export.
    day = db.session.scalar(scope.scoped(
        select(func.max(ServiceRecord.service_date)).where(ServiceRecord.status == RecordStatus.VERIFIED,
                                                          ServiceRecord.service_date <= local_today() - timedelta(days=7)),
        ServiceRecord, staff))
    if day is None:
        return
    services.run_export(staff, services.ExportRequest(Dataset.RECORDS, day, day, False), limit=2000)
    db.session.flush()
