"""Issue 16: after a change in the data, no page view recomputes the assessment (3 s at 10×). It shows the
last computed results with their 截至 time and the job worker computes the new ones (core/cache.py
stale-while-revalidate); the next page view after the worker is done shows them."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from blueprints.assessment import services
from core import cache
from core.extensions import db
from tests import factories


@pytest.fixture
def queue(monkeypatch):
    """A job queue whose worker has not run yet: what is queued is kept here (the tests run it)."""
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(cache, "_queue_runs_at_once", lambda: False)  # as under `make run`: a worker process
    monkeypatch.setattr(cache, "_enqueue", lambda name, args: queued.append((name, tuple(args))))
    return queued


def _tile_figure(body: str, key: str) -> str:
    m = re.search(rf'data-figure="{re.escape(key)}" data-value="([^"]*)"', body)
    assert m, f"{key} not on the page"
    return m.group(1)


def test_a_change_is_computed_by_the_worker_not_by_the_page_view(as_role, world, queue, monkeypatch):
    year = date.today().year
    services.ensure_year(year)
    db.session.commit()
    services._MEMO.clear()
    c = as_role("leader")
    body = c.get("/").get_data(as_text=True)
    # Nothing stored yet: not even then does the page view render the tiles. It shows that they are being
    # computed and asks again every 2 s; the worker renders them.
    assert "首页统计正在首次计算" in body and 'hx-trigger="every 2s"' in body and 'hx-select="#home-tiles"' in body
    assert 'data-figure="assessment.volunteers"' not in body
    assert [name for name, _ in queue] == ["home.render"], queue
    assert c.get("/").status_code == 200 and len(queue) == 1  # the poll does not queue it again
    cache._run_refresh(*queue.pop())
    body = c.get("/").get_data(as_text=True)
    assert "（实时）" in body and "首页统计正在首次计算" not in body and "every 2s" not in body
    before = _tile_figure(body, "assessment.volunteers")
    assert c.get(f"/assessment/?year={year}").status_code == 200
    assert queue == []

    # A change: one more volunteer living in district A.
    org = db.session.merge(world["org_a"])
    factories.volunteer(org, name="新来的", registered_on=date.today() - timedelta(days=3), region_id=org.region_id)
    db.session.commit()
    services._MEMO.clear()  # as in another worker process

    real_compute, real_key = services.compute, services._key_figures

    def boom(*_a, **_k):
        raise AssertionError("the assessment was computed inside a page view")

    monkeypatch.setattr(services, "compute", boom)
    monkeypatch.setattr(services, "_key_figures", boom)
    resp = c.get("/")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "正在按最新数据更新" in body and "截至" in body
    assert _tile_figure(body, "assessment.volunteers") == before  # the last computed figures meanwhile
    # The home page's tiles are the scope's last rendered ones (core/dashboard.py): the worker renders
    # the page again, which computes the assessment there.
    assert sorted({name for name, _ in queue}) == ["home.render"], queue
    # Asked once per change: a second page view does not queue the same work again.
    n = len(queue)
    assert c.get("/").status_code == 200 and len(queue) == n
    # The assessment page too answers at once with the last results.
    page = c.get(f"/assessment/?year={year}")
    assert page.status_code == 200 and "正在按最新数据更新" in page.get_data(as_text=True)
    assert sorted({name for name, _ in queue}) == ["assessment.key", "assessment.results", "home.render"], queue

    # The worker runs the queued refreshes; the next page view shows the new figures, computed.
    monkeypatch.setattr(services, "compute", real_compute)
    monkeypatch.setattr(services, "_key_figures", real_key)
    for name, args in list(queue):
        cache._run_refresh(name, list(args))
    services._MEMO.clear()
    monkeypatch.setattr(services, "compute", boom)
    monkeypatch.setattr(services, "_key_figures", boom)
    body = c.get("/").get_data(as_text=True)
    assert "（实时）" in body and "正在按最新数据更新" not in body
    # What the page now shows is the worker's result at the current data version (nothing computed here).
    from flask import current_app

    with current_app.test_request_context():
        fresh = services.results(year)
        assert fresh is not None and not fresh.stale


def test_write_requests_and_immediate_queues_never_answer_stale(app, world):
    """With JOBS_IMMEDIATE (tests, one-off scripts: no worker) and in write requests it is computed at once."""
    year = date.today().year
    services.ensure_year(year)
    db.session.commit()
    with app.test_request_context():
        first = services.results(year)
    db.session.remove()
    factories.volunteer(db.session.merge(world["org_a"]), name="又一位", registered_on=date.today() - timedelta(days=3))
    db.session.commit()
    services._MEMO.clear()
    with app.test_request_context():
        res = services.results(year)
        assert res is not None and not res.stale and res.computed_at >= first.computed_at
    with app.test_request_context(method="POST"):
        assert not services.results(year).stale


def test_home_figures_after_a_change_come_from_the_worker(as_role, world, queue, monkeypatch):
    """The home page's figures too: the last values at once, one refresh per scope, the worker's render."""
    from core import figures

    c = as_role("district_staff")
    assert "首页统计正在首次计算" in c.get("/").get_data(as_text=True)  # a new scope: the worker renders it
    cache._run_refresh(*queue.pop())
    before = _tile_figure(c.get("/").get_data(as_text=True), "volunteers.registered")
    org = db.session.merge(world["org_a"])
    factories.volunteer(org, name="又来一位", registered_on=date.today() - timedelta(days=3))
    db.session.commit()
    real = dict(figures._REGISTRY)

    def boom(user):
        raise AssertionError("a figure was computed inside the page view")

    for key in real:
        monkeypatch.setitem(figures._REGISTRY, key, boom)
    assert _tile_figure(c.get("/").get_data(as_text=True), "volunteers.registered") == before
    assert [name for name, _ in queue].count("home.render") == 1  # once per scope, not per figure
    for key, fn in real.items():
        monkeypatch.setitem(figures._REGISTRY, key, fn)
    for name, args in list(queue):
        cache._run_refresh(name, list(args))
    for key in real:
        monkeypatch.setitem(figures._REGISTRY, key, boom)
    after = _tile_figure(c.get("/").get_data(as_text=True), "volunteers.registered")
    assert int(after) == int(before) + 1


def test_a_home_page_waiting_for_its_tiles_renders_them_itself_after_about_30_s(as_role, world, queue):
    """No worker running (or one busy with long jobs): the polls count up in their URL and the page stops
    waiting after HOME_POLLS of them, rendering the tiles itself as before there was a worker."""
    from blueprints.home.routes import HOME_POLLS

    c = as_role("district_staff")
    body = c.get("/").get_data(as_text=True)
    assert "首页统计正在首次计算" in body and 'hx-get="/?waited=1"' in body and "data-poll" in body
    body = c.get(f"/?waited={HOME_POLLS - 1}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'hx-get="/?waited={HOME_POLLS}"' in body and 'data-figure="volunteers.registered"' not in body
    body = c.get(f"/?waited={HOME_POLLS}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "首页统计正在首次计算" not in body and "data-poll" not in body
    assert 'data-figure="volunteers.registered"' in body
    assert [name for name, _ in queue] == ["home.render"]  # asked for once, whatever the polls
    for junk in ("-1", "99999", "abc", "1e3"):
        assert c.get(f"/?waited={junk}").status_code == 200
