"""core/scope.py decides who sees which rows."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from blueprints.accounts.models import User
from blueprints.orgs.models import Organization
from blueprints.regions.models import Region
from core import scope
from core.extensions import db


def names(model, user, attr="name"):
    return {getattr(o, attr) for o in db.session.scalars(scope.scoped(select(model), model, user))}


def test_city_wide_roles_see_everything(world):
    all_orgs = {o.name for o in db.session.scalars(select(Organization))}
    assert names(Organization, world["city_admin"]) == all_orgs
    assert names(Organization, world["leader"]) == all_orgs


def test_district_roles_see_their_subtree(world):
    assert names(Organization, world["district_staff"]) == {"赤坎区幸福社区志愿服务队"}
    assert names(Organization, world["district_leader"]) == {"赤坎区幸福社区志愿服务队"}
    regions = names(Region, world["district_staff"])
    assert "赤坎区" in regions and "中华街道" in regions and "霞山区" not in regions and "湛江市" not in regions


def test_org_leader_sees_their_org_and_their_district_regions(world):
    assert names(Organization, world["org_leader"]) == {"赤坎区幸福社区志愿服务队"}
    regions = names(Region, world["org_leader"])
    assert "中华街道" in regions and "解放街道" not in regions


def test_reviewer_sees_no_organization_by_default(world):
    assert names(Organization, world["reviewer"]) == set()


def test_users_scope(world):
    assert names(User, world["district_staff"], "username") >= {"district_staff", "org_leader", "district_leader"}
    assert "org_leader_2" not in names(User, world["district_staff"], "username")
    assert names(User, world["org_leader"], "username") == {"org_leader"}


def test_get_scoped_or_404(world, app):
    with app.test_request_context():
        org_b = world["org_b"]
        with pytest.raises(NotFound):
            scope.get_scoped_or_404(Organization, org_b.id, world["district_staff"])
        with pytest.raises(NotFound):
            scope.get_scoped_or_404(Organization, "not-a-number", world["city_admin"])
        assert scope.get_scoped_or_404(Organization, org_b.id, world["district_staff_2"]) is org_b
        with pytest.raises(Forbidden):
            scope.get_scoped_or_404(Organization, org_b.id, world["leader"], write=True)


def test_unregistered_model_fails_loudly(world):
    class NotRegistered:
        pass

    with pytest.raises(LookupError):
        scope.scope_filter(NotRegistered, world["city_admin"])


def test_anonymous_sees_nothing(world):
    from flask_login import AnonymousUserMixin

    assert names(Organization, AnonymousUserMixin()) == set()
