"""Browser: the leader's first home page ever says its figures are being computed and shows them by itself
once the job worker has rendered them; after a change in the data it answers at once with the last tiles
and results, says so (以下统计截至 …，正在按最新数据更新), and shows the new ones once the worker is done."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from blueprints.assessment import services
from core import cache
from core.extensions import db
from tests import factories
from tests.conftest import browser_login

pytestmark = pytest.mark.e2e


def test_leader_sees_the_last_results_then_the_new_ones(page, world, monkeypatch):
    services.ensure_year(date.today().year)
    db.session.commit()
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(cache, "_queue_runs_at_once", lambda: False)  # as under `make run`: a worker process
    monkeypatch.setattr(cache, "_enqueue", lambda name, args: queued.append((name, tuple(args))))
    browser_login(page, "leader")
    page.goto("/")
    # Never rendered for this scope: the page says the figures are being computed and the worker renders them.
    pending = page.get_by_role("status").filter(has_text="首页统计正在首次计算")
    assert pending.is_visible()
    assert [name for name, _ in queued] == ["home.render"]
    cache._run_refresh(*queued.pop())
    # No reload: the page asks again every 2 s and swaps the finished tiles in.
    caption = page.locator("caption", has_text="年度考核")
    caption.wait_for(timeout=10_000)
    assert "（实时）" in caption.inner_text() and pending.count() == 0

    org = db.session.merge(world["org_a"])
    factories.volunteer(org, name="新报到", registered_on=date.today() - timedelta(days=2), region_id=org.region_id)
    db.session.commit()
    services._MEMO.clear()
    page.goto("/")
    # The scope's last rendered tiles (core/dashboard.py), said to be so above them; the worker renders anew.
    note = page.get_by_role("status").filter(has_text="正在按最新数据更新")
    assert "截至" in note.inner_text() and caption.is_visible()
    assert {name for name, _ in queued} >= {"home.render"}

    for name, args in queued:  # the job worker's turn
        cache._run_refresh(name, list(args))
    services._MEMO.clear()
    page.goto("/")
    assert "（实时）" in caption.inner_text() and note.count() == 0
