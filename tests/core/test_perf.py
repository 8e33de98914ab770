"""Issue 16: pages whose query count grows with the data (N+1) fail here, and the cache that all
workers share (core/cache.py) answers a change in the data on the very next request, from any app."""
from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from blueprints.accounts.models import Role
from blueprints.regions.models import RegionLevel
from core import cache, settings
from core.extensions import db
from tests import factories


@contextmanager
def counted():
    """Counts the SQL statements every engine runs inside the block (requests included)."""
    n = [0]
    n_statements: list[str] = []

    def count(_conn, _cursor, statement, *_a, **_k):
        n[0] += 1
        n_statements.append(statement)

    count.statements = n_statements
    counted.last = n_statements

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield n
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _grow(w: dict, k: int) -> None:
    """k more districts (each with a community, an organization, volunteers and service records)."""
    from blueprints.themes.models import PlanStatus, ThemePlan, ThemePlanRow

    start = len(w.setdefault("grown", []))
    for i in range(start, start + k):
        d = factories.region(w["city"], f"新增{i}区", f"4408{90 + i}", RegionLevel.DISTRICT)
        t = factories.region(d, f"新增{i}街道", None, RegionLevel.TOWN)
        c = factories.region(t, f"新增{i}社区", None, RegionLevel.COMMUNITY)
        org = factories.org(c, f"新增{i}区志愿服务队")
        db.session.add(ThemePlan(year=date.today().year, region_id=d.id, status=PlanStatus.PUBLISHED, title=f"{i}区计划",
                                 rows=[ThemePlanRow(month_start=m, month_end=m, name=f"主题{m}") for m in (3, 5)]))
        for j in range(3):
            v = factories.volunteer(org, name=f"志愿者{i}{j}", registered_on=date.today() - timedelta(days=400))
            for day in range(3):
                factories.service_record(v, org, day=date.today() - timedelta(days=10 + day),
                                         verified=(day != 0))
        w["grown"].append(d)
    for target in ("org_a", "org_b"):
        for j in range(5):
            v = factories.volunteer(w[target], name=f"队员{start}{j}", registered_on=date.today() - timedelta(days=400))
            for day in range(4):
                factories.service_record(v, w[target], day=date.today() - timedelta(days=5 + day), verified=day % 2 == 0)
    db.session.commit()


def _queries(client, url: str) -> tuple[int, Counter]:
    cache.clear()  # nothing served from the shared cache: the uncached count
    with counted() as n:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return n[0], Counter(re.sub(r"\s+", " ", s)[:160] for s in counted.last)


PAGES = [("city_admin", "/"), ("district_staff", "/"), ("org_leader", "/"), ("leader", "/"),
         ("city_admin", "/volunteers/records/"), ("district_staff", "/volunteers/records/?status=pending"),
         ("org_leader", "/volunteers/records/"), ("city_admin", "/themes/board"), ("city_admin", "/assessment/"),
         ("org_leader", "/join/codes"), ("district_staff", "/reports/matrix"), ("city_admin", "/reports/matrix?level=org"),
         ("city_admin", "/activities/recruitment")]


@pytest.mark.parametrize("role,url", PAGES)
def test_query_count_does_not_grow_with_the_rows(as_role, world, role, url):
    """Three times the districts, organizations, volunteers and records: the same number of queries."""
    from blueprints.assessment import services

    services.ensure_year(date.today().year)
    db.session.commit()
    _grow(world, 1)
    c = as_role(role)
    c.get(url)  # first request of the client: session bookkeeping
    before, seen = _queries(c, url)
    _grow(world, 3)
    after, seen_after = _queries(c, url)
    grew = [f"{seen_after[s] - seen[s]}× {s}" for s in seen_after if seen_after[s] > seen[s]]
    assert after <= before, f"{url} as {role}: {before} queries, then {after} with more rows (N+1):\n" + "\n".join(grew)


def _figure_value(body: str, key: str) -> str:
    m = re.search(rf'data-figure="{re.escape(key)}" data-value="([^"]*)"', body)
    assert m, f"figure {key} not on the page"
    return m.group(1)


@pytest.fixture
def other_app(app):
    """A second app on the same database: another worker or another server."""
    from app import create_app

    second = create_app({**{k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
                                                          "PII_KEY", "UPLOAD_DIR", "PDF_CACHE_DIR")},
                         "SERVER_NAME": None})
    second.test_client_class = app.test_client_class
    yield second
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def test_home_figures_are_shared_between_apps_and_follow_the_data(app, other_app, world, monkeypatch):
    from core import figures

    a = app.test_client()
    a.login("city_admin")
    b = other_app.test_client()
    b.login("city_admin")
    cache.clear()
    assert _figure_value(a.get("/").get_data(as_text=True), "regions.community") == "4"

    # The other app finds the value in the shared store: it does not compute it again.
    real = figures._REGISTRY["regions.community"]

    def boom(user):
        raise AssertionError("computed again although another app had it")

    monkeypatch.setitem(figures._REGISTRY, "regions.community", boom)
    assert _figure_value(b.get("/").get_data(as_text=True), "regions.community") == "4"
    monkeypatch.setitem(figures._REGISTRY, "regions.community", real)

    # A change committed anywhere shows on the next request of either app.
    factories.region(world["town_a"], "新建社区", None,
                     RegionLevel.COMMUNITY)
    db.session.commit()
    assert _figure_value(b.get("/").get_data(as_text=True), "regions.community") == "5"
    assert _figure_value(a.get("/").get_data(as_text=True), "regions.community") == "5"


def test_bulk_statements_and_deletes_bump_the_data_version(world):
    from sqlalchemy import delete, update

    from blueprints.regions.models import Region

    v0 = cache.data_version()
    db.session.execute(update(Region).where(Region.id == world["community_a"].id).values(name="改名社区"))
    db.session.commit()
    v1 = cache.data_version()
    assert v1 > v0
    db.session.delete(factories.region(world["town_a"], "临时社区", None, RegionLevel.COMMUNITY))
    db.session.commit()
    assert cache.data_version() > v1
    # Sessions and login attempts are bookkeeping: they do not throw the cache away.
    v2 = cache.data_version()
    db.session.execute(delete(Region).where(Region.id == -1))  # a no-op statement still counts as a write
    db.session.commit()
    assert cache.data_version() == v2 + 1


def test_a_figure_is_not_cached_from_uncommitted_changes(app, world):
    from core.figures import figure

    cache.clear()
    user_id = world["city_admin"].id
    with app.test_request_context():
        user = db.session.get(type(world["city_admin"]), user_id)
        before = figure("regions.community", user).value
    db.session.remove()
    with app.test_request_context(method="POST"):  # a form that writes, then fails
        from blueprints.regions.models import Region

        user = db.session.get(type(world["city_admin"]), world["city_admin"].id)
        town = db.session.scalar(select(Region).where(Region.name == "中华街道"))
        factories.region(town, "未提交社区", None, RegionLevel.COMMUNITY)
        assert cache.data_version() == -1
        assert figure("regions.community", user).value == before + 1
        db.session.rollback()
    db.session.remove()
    with app.test_request_context():
        user = db.session.get(type(world["city_admin"]), world["city_admin"].id)
        assert figure("regions.community", user).value == before


def test_assessment_results_are_shared_and_follow_the_data(app, other_app, world):
    from blueprints.assessment import services

    year = date.today().year
    services.ensure_year(year)
    db.session.commit()
    cache.clear()
    services._MEMO.clear()
    with app.test_request_context():
        services.results(year)
    db.session.remove()  # as at the end of a request: its read transaction ends
    with app.app_context():
        stored = db.session.scalar(select(cache.FigureCache.key).where(cache.FigureCache.key.like("assessment:%")))
    assert stored, "the results were not put in the shared store"
    version = services.data_version(year)
    db.session.remove()
    factories.region(db.session.merge(world["town_a"]), "又一社区", None, RegionLevel.COMMUNITY)
    db.session.commit()
    with other_app.test_request_context():
        assert services.data_version(year) != version


def test_settings_are_read_once_per_request(app, world):
    settings.set_value("reports.deadline_day", 7)
    db.session.commit()
    with app.test_request_context():
        with counted() as n:
            for _ in range(9):
                settings.get_int("reports.deadline_day", 5)
                settings.get_int("insurance.warn_days", 30)
        assert sum("FROM setting" in q for q in counted.last) == 1, counted.last
        assert settings.get_int("reports.deadline_day", 5) == 7
        settings.set_value("reports.deadline_day", 9)  # a change in the request is seen at once
        assert settings.get_int("reports.deadline_day", 5) == 9
        db.session.rollback()


def test_users_with_the_same_scope_share_figures_but_not_across_scopes(world):
    from core.figures import scope_key

    other = factories.user(Role.DISTRICT_STAFF, "district_staff_b", world["district_a"])
    assert scope_key(other) == scope_key(world["district_staff"])
    assert scope_key(world["district_staff"]) != scope_key(world["district_staff_2"])
    assert scope_key(world["org_leader"]) != scope_key(world["org_leader_2"])
    reviewer2 = factories.user(Role.REVIEWER, "reviewer_b")
    assert scope_key(reviewer2) != scope_key(world["reviewer"])


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader"])
def test_ledger_count_is_exact_below_the_cap_and_capped_above(as_role, world, role, monkeypatch):
    from blueprints.volunteers.models import ServiceRecord
    from core import pagination, scope

    _grow(world, 1)
    user = db.session.merge(world[role])
    n = len(db.session.scalars(scope.scoped(select(ServiceRecord.id), ServiceRecord, user)).all())
    assert n > 6
    c = as_role(role)
    body = c.get("/volunteers/records/").get_data(as_text=True)
    assert f'data-total="{n}"' in body and "缩小筛选范围" not in body and "data-total-hours" in body
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    body = c.get("/volunteers/records/").get_data(as_text=True)
    assert 'data-total="5"' in body and "共 5+ 条" in body
    assert "缩小筛选范围" in body and "data-total-hours" not in body  # no sum over everything


def test_logging_in_does_not_throw_the_shared_cache_away(app, world):
    v0 = cache.data_version()
    app.test_client().login("city_admin")
    assert cache.data_version() == v0
    user = db.session.merge(world["district_staff"])
    user.display_name = "新名字"  # a real change of an account does
    db.session.commit()
    assert cache.data_version() == v0 + 1


def test_the_side_menu_is_built_once_per_role_and_page(as_role, world, monkeypatch):
    """Every page shows the menu: it is built once per process for each (role, page), and stays exact."""
    from core import nav

    nav._SIDENAV.clear()
    a, b = as_role("district_staff"), as_role("district_staff_2")
    first = a.get("/orgs/").get_data(as_text=True)
    menu = re.search(r'<nav class="sidenav".*?</nav>', first, re.S).group(0)
    assert re.search(r'href="/orgs/" class="active"', menu) and 'class="active">首页' not in menu
    import flask

    calls, real = [], flask.url_for
    monkeypatch.setattr(flask, "url_for", lambda *a, **k: calls.append(a) or real(*a, **k))
    second = b.get("/orgs/").get_data(as_text=True)  # another user of the same role: the same menu
    assert re.search(r'<nav class="sidenav".*?</nav>', second, re.S).group(0) == menu
    assert calls == []
    home = a.get("/").get_data(as_text=True)
    assert 'class="active">首页' in re.search(r'<nav class="sidenav".*?</nav>', home, re.S).group(0)


def test_accounts_list_loads_the_leaders_organizations_in_one_query(as_role, world):
    c = as_role("city_admin")
    c.get("/accounts")
    with counted() as few:
        c.get("/accounts")
    for i in range(6):
        u = factories.user(Role.ORG_LEADER, f"leader_extra_{i}", world["district_a"])
        u.organizations.append(db.session.merge(world["org_a"]))
    db.session.commit()
    c.get("/accounts")  # the first view after a change stores the list's total (core/cache.scalar)
    with counted() as many:
        body = c.get("/accounts").get_data(as_text=True)
    assert "leader_extra_5" in body and world["org_a"].name in body
    assert many[0] <= few[0], counted.last


def test_the_quarterly_bulletin_is_computed_once_per_data_version(app, world, monkeypatch):
    from blueprints.reports import services as reports

    real, calls = reports._bulletin, []
    monkeypatch.setattr(reports, "_bulletin", lambda *a: calls.append(a) or real(*a))
    day = date(2026, 7, 10)
    with app.test_request_context():
        first = reports.bulletin(2026, 2, today=day)
    db.session.remove()
    with app.test_request_context():
        assert reports.bulletin(2026, 2, today=day) == first
    db.session.remove()
    assert len(calls) == 1
    factories.org(db.session.merge(world["community_a"]) if "community_a" in world else
                  db.session.merge(world["org_a"]).region, "新成立的服务队")
    db.session.commit()
    with app.test_request_context():
        reports.bulletin(2026, 2, today=day)
    assert len(calls) == 2  # a committed change is computed again


def test_a_long_composite_version_fits_the_shared_store(app):
    """figure_cache.version holds 64 characters: PostgreSQL refuses a longer value (the store then silently
    keeps nothing and every page view recomputes), SQLite would keep it whole. Long versions are digested."""
    calls = []
    version = "|".join(str(n) for n in range(40))  # several data versions joined: > 64 characters
    with app.test_request_context():
        assert cache.shared("t", "k", lambda: calls.append(1) or 42, version=version) == 42
    db.session.remove()  # as at the end of a request: its read transaction ends
    with app.test_request_context():
        assert cache.shared("t", "k", lambda: calls.append(1) or 43, version=version) == 42
    db.session.remove()
    assert calls == [1]
    stored = db.session.scalars(select(cache.FigureCache.version).where(cache.FigureCache.key == "t:k")).all()
    assert stored and all(len(v) <= 64 for v in stored)


def test_a_districts_scope_names_its_path_for_the_planner(app, world):
    """The district's subtree goes into SQL as a literal prefix (`path LIKE '/1/2/%'`), not a prefix computed
    by a subquery: PostgreSQL estimates the first from its statistics and misjudged the second (a district of
    557 organizations taken for 22 at 10×: the ledger's name search walked 136,000 records). A region moved
    in the same request is seen at its new place."""
    from blueprints.regions import services as regions
    from blueprints.volunteers.models import ServiceRecord
    from core import scope

    with app.test_request_context():
        user = db.session.merge(world["district_staff"])
        sql = str(scope.scoped(select(ServiceRecord.id), ServiceRecord, user).compile(
            db.engine, compile_kwargs={"literal_binds": True}))
        district = db.session.merge(world["district_a"])
        assert re.search(rf"LIKE '{district.path}' \|\| '%+'", sql), sql
        assert "SELECT region.path" not in sql
        town = db.session.merge(world["town_a"])
        assert town.id in set(db.session.scalars(scope.region_subtree_ids(district.id)))
        assert town.id in set(db.session.scalars(scope.region_subtree_ids(town.id)))  # its path looked up
        other = db.session.merge(world["district_b"])
        assert town.id not in set(db.session.scalars(scope.region_subtree_ids(other.id)))
        regions.move_region(db.session.merge(world["city_admin"]), town, other)
        assert town.id in set(db.session.scalars(scope.region_subtree_ids(other.id)))
        assert town.id not in set(db.session.scalars(scope.region_subtree_ids(district.id)))
        assert town.id in set(db.session.scalars(scope.region_subtree_ids(town.id)))  # at its new path
        db.session.rollback()


def test_the_recruitment_figures_are_computed_once_per_data_version(app, world, monkeypatch):
    """平台招募统计 sums a year of the city's records (~1 s at 10×): once per data version and scope,
    shared by the page, its tile and every user of the scope."""
    from blueprints.activities import recruitment

    real, calls = recruitment._district_figures, []
    monkeypatch.setattr(recruitment, "_district_figures", lambda *a: calls.append(a) or real(*a))
    year = date.today().year
    for name in ("district_staff", "district_staff", "city_admin"):
        with app.test_request_context():
            recruitment.district_figures(db.session.merge(world[name]), year)
        db.session.remove()
    assert len(calls) == 2  # one per scope
    factories.org(db.session.merge(world["community_a"]), "新成立的招募队")
    db.session.commit()
    with app.test_request_context():
        recruitment.district_figures(db.session.merge(world["district_staff"]), year)
    assert len(calls) == 3  # a committed change is computed again


@pytest.mark.parametrize("url,button", [("/projects/", "项目立项"), ("/training/", "新建培训场次")])
def test_a_list_asks_whether_the_user_may_create_without_reading_every_organization(as_role, world, url, button):
    """The 新建 button needs one organization the user may organize for, not all of them (the city's
    4,000 organizations loaded as objects on every page view at 10×)."""
    c = as_role("city_admin")
    c.get(url)
    with counted():
        body = c.get(url).get_data(as_text=True)
    assert button in body
    whole = [s for s in counted.last if re.search(r"FROM organization\s+WHERE organization\.status", s)
             and "LIMIT" not in s]
    assert not whole, whole
