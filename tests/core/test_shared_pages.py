"""Issue 16 (throughput): what a busy page computes once per data version is shared by every worker and
every user of the same scope — the home page's tiles, a list's rows and totals — and never leaks across
scopes, rights or people, nor outlives a change in the data."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import event, func, select

from blueprints.accounts.models import Role
from blueprints.volunteers.models import Volunteer
from core import cache, dashboard
from core.extensions import db
from core.timeutil import utcnow
from tests import factories


def _statements(client, url: str) -> list[str]:
    seen: list[str] = []
    listener = lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        resp = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert resp.status_code == 200, url
    return seen


def _twin(world, role: Role, region_key: str, username: str, app):
    """Another account with exactly the scope of an existing one (same role, region, organizations)."""
    factories.user(role, username, world[region_key])
    db.session.commit()
    c = app.test_client()
    c.login(username)
    return c


def test_home_tiles_are_rendered_once_per_scope_and_follow_the_data(app, world, as_role, monkeypatch):
    a = as_role("district_staff")
    twin = _twin(world, Role.DISTRICT_STAFF, "district_a", "district_staff_twin", app)
    first = a.get("/").get_data(as_text=True)
    assert "区域" in first

    calls = []
    order, fn, live = next(p for p in dashboard._PROVIDERS if p[1].__name__ == "regions_tile")
    monkeypatch.setattr(dashboard, "_PROVIDERS", [p if p[1] is not fn else (order, lambda u: calls.append(u) or fn(u), live)
                                                  for p in dashboard._PROVIDERS])
    again = twin.get("/").get_data(as_text=True)
    assert calls == [], "the tiles of a scope are rendered once per data version, not per person"
    assert again.count('class="card tile') == first.count('class="card tile')

    # Another scope (district B) renders its own tiles.
    as_role("district_staff_2").get("/")
    assert len(calls) == 1

    # A change anywhere: the next page view renders them again (tests run jobs at once: no stale answer).
    factories.region(world["town_a"], "新建社区甲", None, factories.RegionLevel.COMMUNITY)
    db.session.commit()
    twin.get("/")
    assert len(calls) == 2


def test_live_tiles_are_the_persons_own(app, world, as_role):
    """The unread notifications of one person never show on the home page of another of the same scope."""
    from blueprints.reports.models import Notification

    a = as_role("district_staff")
    twin = _twin(world, Role.DISTRICT_STAFF, "district_a", "district_staff_twin2", app)
    a.get("/"), twin.get("/")
    db.session.add(Notification(user_id=world["district_staff"].id, title="请补报 5 月月报"))
    db.session.commit()
    assert "1 条未读通知" in a.get("/").get_data(as_text=True)
    assert "条未读通知" not in twin.get("/").get_data(as_text=True)


def test_list_rows_are_shared_within_a_scope_only_and_follow_the_data(app, world, as_role):
    org = world["org_a"]
    person = factories.volunteer(org, "欧阳明远")
    factories.service_record(person, org)
    db.session.commit()
    a = as_role("district_staff")
    twin = _twin(world, Role.DISTRICT_STAFF, "district_a", "district_staff_twin3", app)
    assert "欧阳明远" in a.get("/volunteers/records/").get_data(as_text=True)

    # The same scope and filters: the rows come from the shared cache (no read of the records' page).
    seen = _statements(twin, "/volunteers/records/")
    assert not [s for s in seen if s.startswith("SELECT service_record.id")], seen
    assert "欧阳明远" in twin.get("/volunteers/records/").get_data(as_text=True)

    # Another district's staff never gets district A's rows.
    assert "欧阳明远" not in as_role("district_staff_2").get("/volunteers/records/").get_data(as_text=True)
    assert "欧阳明远" not in as_role("district_staff_2").get("/volunteers/").get_data(as_text=True)

    # A change: the next view shows it.
    factories.volunteer(org, "司马青云")
    db.session.commit()
    assert "司马青云" in twin.get("/volunteers/").get_data(as_text=True)


def test_cached_rows_keep_apart_what_the_flags_say(app, world):
    from flask_login import login_user

    from core.pagination import cached_rows, paginate

    made = []
    with app.test_request_context("/"):
        login_user(world["city_admin"])
        page = paginate(select(Volunteer).order_by(Volunteer.id), 1, load=False)

        def prepare(items):
            made.append(len(items))
            return {}

        for flag in (True, True, False):
            cached_rows(page, "_macros/tables.html", prepare=prepare, can_verify=flag)
    assert len(made) == 2, "a different flag is a different value; the same one is reused"


def test_shared_scalars_are_keyed_by_their_parameters(app, world):
    factories.volunteer(world["org_a"], "王小二")
    db.session.commit()
    with app.test_request_context("/"):
        few = cache.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.id > 10 ** 9))
        all_ = cache.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.id > 0))
    assert few == 0 and all_ >= 1


def test_the_hourly_sweep_drops_old_totals_and_rows_but_keeps_the_figures(app):
    from core.cache import FigureCache

    old = utcnow() - timedelta(days=2)
    for key in ("count:abc", "rows:def", "figure:x#y", "count:fresh"):
        db.session.add(FigureCache(key=key, version="1", value=b"", created_at=utcnow() if "fresh" in key else old))
    db.session.commit()
    cache.sweep(db.session, utcnow())
    db.session.commit()
    assert set(db.session.scalars(select(FigureCache.key))) >= {"figure:x#y", "count:fresh"}
    assert not set(db.session.scalars(select(FigureCache.key))) & {"count:abc", "rows:def"}


def test_the_session_check_is_one_query(as_role):
    """The login session's row and its user are read together, before any page's own work."""
    c = as_role("district_staff")
    c.get("/orgs/")
    seen = [s.replace('"', "") for s in _statements(c, "/orgs/")]  # PostgreSQL quotes "user"
    session_reads = [s for s in seen if "FROM user_session" in s]
    assert len(session_reads) == 1 and "JOIN user" in session_reads[0], seen
    assert not [s for s in seen if s.startswith("SELECT user.id") and re.search(r"WHERE user\.id = \S+$", s)], seen


def test_page_views_on_postgresql_read_without_a_transaction(app, world):
    """PostgreSQL: a GET reads in autocommit (no BEGIN/ROLLBACK round trips); a POST keeps its transaction."""
    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (make test-pg)")
    # get_isolation_level() asks the server ("read committed" either way): the driver's flag says it.
    db.session.remove()
    with app.test_request_context("/orgs/", method="GET"):
        app.preprocess_request()
        assert db.session.connection().connection.dbapi_connection.autocommit is True
    db.session.remove()
    with app.test_request_context("/orgs/", method="POST"):
        app.preprocess_request()
        assert db.session.connection().connection.dbapi_connection.autocommit is False
    db.session.remove()


def test_the_worker_renders_the_home_page_and_warms_what_pages_keep_fresh(app, world, monkeypatch):
    """After a change the worker's `home.render` also computes who is insured today (never answered stale),
    so that the first coverage page after a change finds it stored instead of computing it itself."""
    from blueprints.insurance import services as insurance
    from core.cache import FigureCache
    from core.timeutil import local_today

    assert insurance._warm_coverage in cache._WARMERS
    key = f"insurance:covered:{local_today().isoformat()}"
    db.session.query(FigureCache).delete()
    db.session.commit()
    insurance._COVERED_MEMO.clear()
    cache._run_refresh("home.render", [world["city_admin"].id])
    db.session.remove()
    assert db.session.get(FigureCache, key) is not None


def test_the_organization_list_rows_are_shared_within_a_scope_only(app, world, as_role):
    a = as_role("district_staff")
    twin = _twin(world, Role.DISTRICT_STAFF, "district_a", "district_staff_twin4", app)
    name_a, name_b = world["org_a"].name, world["org_b"].name
    html = a.get("/orgs/").get_data(as_text=True)
    assert name_a in html and name_b not in html
    seen = _statements(twin, "/orgs/")
    assert not [s for s in seen if s.startswith("SELECT organization.id")], seen  # the page's rows: cached
    assert name_a in twin.get("/orgs/").get_data(as_text=True)
    assert name_a not in as_role("district_staff_2").get("/orgs/").get_data(as_text=True)
    org = db.session.merge(world["org_a"])
    org.name = "赤坎区改名后的协会"
    db.session.commit()
    assert "赤坎区改名后的协会" in twin.get("/orgs/").get_data(as_text=True)
    part = twin.get("/orgs/?page=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "赤坎区改名后的协会" in part and "<html" not in part and 'id="org-export"' in part


def test_work_unit_suggestions_and_training_coverage_are_shared_per_scope(app, world, as_role, monkeypatch):
    """Both read every volunteer of the scope (~50–110 ms for a district at 10× on PostgreSQL): kept per
    data version, day and scope; another district never sees them; a change shows on the next view."""
    from blueprints.training import services as training

    org = world["org_a"]
    factories.volunteer(org, "单位甲", work_unit="湛江市第一中学")
    db.session.commit()
    a = as_role("district_staff")
    twin = _twin(world, Role.DISTRICT_STAFF, "district_a", "district_staff_twin5", app)
    assert "湛江市第一中学" in a.get("/volunteers/work-units").get_data(as_text=True)
    seen = _statements(twin, "/volunteers/work-units")
    assert not [s for s in seen if "DISTINCT volunteer.work_unit" in s], seen
    assert "湛江市第一中学" in twin.get("/volunteers/new").get_data(as_text=True)
    assert "湛江市第一中学" not in as_role("district_staff_2").get("/volunteers/work-units").get_data(as_text=True)
    factories.volunteer(org, "单位乙", work_unit="湛江市第二中学")
    db.session.commit()
    assert "湛江市第二中学" in twin.get("/volunteers/work-units").get_data(as_text=True)

    year = date.today().year
    calls = []
    real = training._coverage
    monkeypatch.setattr(training, "_coverage", lambda user, y: calls.append(user.username) or real(user, y))
    assert a.get(f"/training/coverage?year={year}").status_code == 200
    assert twin.get(f"/training/coverage?year={year}").status_code == 200
    as_role("district_staff_2").get(f"/training/coverage?year={year}")
    assert calls == ["district_staff", "district_staff_2"]  # once per scope
    factories.volunteer(org, "单位丙")
    db.session.commit()
    twin.get(f"/training/coverage?year={year}")
    assert calls[-1] == "district_staff_twin5"
