"""Exports stream (issue 16, flat memory): the builders hand the job a generator that reads the
database in batches, never a list of every row; a capped export says where it stopped."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook

import core.exports
from core import jobs
from core.exports import capped_rows
from core.extensions import db
from tests import factories
from tests.jobs import export_file


def _build(kind: str, user, args: dict):
    return jobs._KINDS[kind].run(user, args)


def test_the_volunteer_export_is_a_generator_over_batches(world, as_role, monkeypatch):
    names = [f"批次{i}" for i in range(7)]
    for name in names:
        factories.volunteer(world["org_a"], name=name)
    db.session.commit()
    monkeypatch.setattr(core.exports, "EXPORT_BATCH", 3)  # 7 people in batches of 3, 3 and 1
    sheet = _build("volunteers.export", world["district_staff"], {})
    assert not isinstance(sheet.rows, (list, tuple)) and iter(sheet.rows) is sheet.rows
    exported = [row[1] for row in sheet.rows]
    assert sorted(exported) == sorted(names)
    ws = load_workbook(io.BytesIO(export_file(as_role("district_staff"), "/volunteers/export.xlsx").data)).active
    assert ws.max_row == 8  # header + 7: what the batches read is what the file holds


def test_the_ledger_export_is_a_generator_over_batches(world, as_role, monkeypatch):
    from core.timeutil import local_today

    v = factories.volunteer(world["org_a"], name="台账人")
    v.registered_on = date(2020, 1, 1)
    start = local_today() - timedelta(days=10)
    for i in range(5):
        factories.service_record(v, world["org_a"], day=start + timedelta(days=i))
    db.session.commit()
    monkeypatch.setattr(core.exports, "EXPORT_BATCH", 2)
    sheet = _build("ledger.export", world["district_staff"], {})
    assert not isinstance(sheet.rows, (list, tuple))
    assert len(list(sheet.rows)) == 5
    ws = load_workbook(io.BytesIO(export_file(as_role("district_staff"), "/volunteers/records/export.xlsx").data)).active
    assert ws.max_row == 6


def test_a_capped_export_is_lazy_and_says_where_it_stopped():
    read = []

    def source():
        for i in range(10):
            read.append(i)
            yield [i]

    rows = capped_rows(source(), limit=3)
    assert read == []  # nothing is read before the writer asks
    assert list(rows) == [[0], [1], [2], ["（仅导出前 3 条，请缩小筛选范围后再导出）"]]
    assert read == [0, 1, 2, 3]  # one row beyond the cap tells that there were more
