"""Rules of the exchange that need no page: the saved mapping is repaired against the known fields, and
an export whose file cannot be written marks nothing as sent."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.exchange import services
from blueprints.exchange.models import Dataset, ExchangeMark
from core.extensions import db
from core.settings import set_value
from core.timeutil import local_today
from tests import factories


def test_default_mapping_resembles_the_national_template(app):
    m = services.default_mapping()
    assert m.system == "i志愿"
    assert [c.target for c in m.included(Dataset.VOLUNTEERS)][:4] == ["姓名", "证件类型", "证件号码", "性别"]
    assert services.import_columns(m) == ["证件号码", "志愿者编码"]


def test_a_saved_mapping_is_repaired_against_the_known_fields(world):
    set_value(services.MAPPING_KEY, {"system": "", "records": [
        {"source": "hours", "target": "时长", "include": True},
        {"source": "hours", "target": "重复", "include": False},  # a second entry of the same field: ignored
        {"source": "gone", "target": "旧字段", "include": True},  # a field this version no longer knows
        "junk",
    ], "volunteers": "junk"})
    m = services.mapping()
    assert m.system == "i志愿"
    records = m.columns[Dataset.RECORDS]
    assert (records[0].source, records[0].target) == ("hours", "时长")
    assert {c.source for c in records} == {s.key for s in services.RECORD_SOURCES}
    assert [c.target for c in m.columns[Dataset.VOLUNTEERS]] == [s.default_target for s in services.VOLUNTEER_SOURCES]
    set_value(services.MAPPING_KEY, "not a mapping")
    assert services.mapping().as_value() == services.default_mapping().as_value()


def test_an_export_whose_file_fails_marks_nothing(world, as_role, monkeypatch):
    """Each exported record is marked sent only together with the file that carries it."""
    v = factories.activity_volunteer(world["org_a"])
    factories.service_record(v, world["org_a"], day=local_today() - timedelta(days=1), hours="2", by=world["org_leader"])
    db.session.commit()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("core.exports.xlsx_write", broken)
    c = as_role("district_staff")
    resp = c.post("/exchange/export", data={"dataset": "records", "start": (local_today() - timedelta(days=7)).isoformat(),
                                            "end": local_today().isoformat()})
    assert resp.status_code == 303
    assert "任务执行失败" in c.get(resp.location).get_data(as_text=True)
    assert db.session.scalar(select(func.count(ExchangeMark.id))) == 0
