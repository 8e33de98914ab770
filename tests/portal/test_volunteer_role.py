"""The volunteer role (issue 17): its scope is exactly its own person record, and its account reaches
only the pages opened to volunteers, whatever a staff page's own checks would say."""
from __future__ import annotations

import re

import pytest

from core import auth, scope
from core.extensions import db
from tests import factories


def _get_urls(app):
    """Every GET route with each <int:…> filled in with 1 and each <…> with "x"."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = re.sub(r"<int:[^>]+>", "1", rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        yield rule.endpoint, url


def test_a_volunteer_account_reaches_no_staff_page(app, world, as_role, client):
    """Walks the whole URL map: every page not opened to volunteers refuses the account (403/404) —
    a new staff route is covered by this test without being listed."""
    c = as_role("volunteer")
    leaks = []
    for endpoint, url in _get_urls(app):
        resp = c.get(url)
        resp.close()
        if endpoint in auth.VOLUNTEER_ENDPOINTS:
            continue
        if endpoint == "home.index":
            assert resp.status_code == 302 and resp.headers["Location"].endswith("/my/")
        elif resp.status_code not in (403, 404):
            leaks.append(f"{url} ({endpoint}) → {resp.status_code}")
    assert not leaks, "\n".join(leaks)


def test_staff_cannot_open_the_volunteers_pages(as_role):
    for role in ("city_admin", "district_staff", "org_leader", "leader", "reviewer"):
        assert as_role(role).get("/my/").status_code == 403


def test_volunteer_scope_is_exactly_their_own_record(app, me):
    world = me
    from blueprints.volunteers.models import Membership, ServiceRecord, Volunteer

    other = factories.volunteer(world["org_a"], "李四", by=world["city_admin"])
    me = world["volunteer"]
    ids = set(db.session.scalars(scope.scoped(db.select(Volunteer.id), Volunteer, me)))
    assert ids == {world["person"].id} and other.id not in ids
    assert set(db.session.scalars(scope.scoped(db.select(Membership.volunteer_id), Membership, me))) == {world["person"].id}
    assert db.session.scalar(scope.scoped(db.select(db.func.count(ServiceRecord.id)).where(
        ServiceRecord.volunteer_id == other.id), ServiceRecord, me)) == 0
    # A model whose feature grants volunteers nothing shows them nothing.
    from blueprints.orgs.models import Organization

    assert db.session.scalar(scope.scoped(db.select(db.func.count(Organization.id)), Organization, me)) == 0


def test_volunteer_home_shows_own_hours_and_star(me, as_role):
    world = me
    from datetime import date
    from decimal import Decimal

    from blueprints.volunteers import ledger
    from blueprints.volunteers.models import ServiceRecord

    person = world["person"]
    rec = ledger.create_record(world["city_admin"], person, world["org_v"], date.today(), Decimal("6.5"), "社区清洁")
    db.session.commit()
    c = as_role("volunteer")
    body = c.get("/my/").get_data(as_text=True)
    assert "陈小青" in body and "社区清洁" in body and 'id="me-pending">6.5<' in body
    leader = factories.user("org_leader", orgs=[world["org_v"]])
    ledger.verify_records(leader, [db.session.get(ServiceRecord, rec.id)])
    db.session.commit()
    body = c.get("/my/").get_data(as_text=True)
    assert 'id="me-total">6.5<' in body and 'id="me-pending">0.0<' in body
    assert "再服务 <strong>93.5</strong> 小时" in body
    assert person.id_masked in body and (person.phone or "138") not in body.replace(person.id_masked, "")


@pytest.mark.parametrize("path", ["/", "/my/"])
def test_anonymous_is_sent_to_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
