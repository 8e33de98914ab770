"""THE one place that decides which rows a user may see or change (DOMAIN.md, roles and scope).

Every feature registers, once, how its model is tied to the administrative tree and to
organizations (`register(Model, region=..., org=...)`); routes and services then only call
`scoped()`, `get_scoped_or_404()`, `require_write()`. No route filters by district by hand.
The tree itself is registered the same way, by the features that own it: regions
(`register_regions`), organizations (`register_organizations`) and the accounts' link of an
organization leader to their organizations (`register_org_leaders`). This module imports no feature.

Rules:
- city_admin, and a leader whose scope is the city: every row.
- district_staff and a district leader: rows whose region lies in their district's subtree.
- org_leader: rows of their organizations (for region-only tables: their organizations' districts).
- reviewer: only what a feature grants explicitly through a `reviewer=` rule.
- volunteer: only their own person record and what hangs from it, granted by a feature through a
  `volunteer=` rule (`fn(user) -> ColumnElement`, with `user.volunteer_id` set); nothing else.
- leader and reviewer never write (a feature may grant a reviewer a specific write itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import abort, has_request_context, request
from sqlalchemy import ColumnElement, Select, false, literal, select, true

from core.extensions import db
from core.roles import Role


@dataclass
class ScopeRule:
    region: Any = None  # column expression: the region id a row belongs to
    org: Any = None  # column expression: the organization id a row belongs to
    # Optional per-role overrides, each `fn(user) -> ColumnElement`.
    reviewer: Callable | None = None
    volunteer: Callable | None = None  # a volunteer's own rows: fn(user) -> ColumnElement
    custom: Callable | None = None  # replaces the whole rule: fn(user) -> ColumnElement
    # Membership-style link for rows tied to organizations through another table:
    # (link.row_id column, link.organization_id column), e.g. volunteers ↔ organizations via
    # memberships. A row is in scope when any link ties it to an organization in scope.
    org_via: tuple | None = None


_RULES: dict[type, ScopeRule] = {}


@dataclass
class _Tree:
    """The administrative tree and organizations, as their features registered them."""
    region: Any = None  # the region model: id, path (materialized "/1/5/"), district_id
    org: Any = None  # the organization model: id, region_id
    leader_user: Any = None  # column: the user of an (organization leader, organization) link
    leader_org: Any = None  # column: the organization of that link


_TREE = _Tree()


def register(model: type, **kwargs) -> None:
    _RULES[model] = ScopeRule(**kwargs)


def register_regions(model: type) -> None:
    """The region model (blueprints/regions): every region-scoped rule resolves through it."""
    _TREE.region = model


def register_organizations(model: type) -> None:
    """The organization model (blueprints/orgs): every org-scoped rule resolves through it."""
    _TREE.org = model


def register_org_leaders(user_column, org_column) -> None:
    """The link of an organization leader's account to their organizations (blueprints/accounts)."""
    _TREE.leader_user, _TREE.leader_org = user_column, org_column


def _rule(model: type) -> ScopeRule:
    try:
        return _RULES[model]
    except KeyError:  # a programming error, not a user's: fail loudly in tests
        raise LookupError(f"no scope rule registered for {model.__name__}") from None


# ---- building blocks -------------------------------------------------------------------------

_PATHS = "zhiyuan.region_paths"  # region_subtree_ids' lookups, kept for one request


def forget_region_paths() -> None:
    """After a region moved: the paths region_subtree_ids looked up in this request are stale."""
    if has_request_context():
        request.environ.pop(_PATHS, None)


def region_subtree_ids(region_id: int) -> Select:
    """Ids of a region and everything below it. The region's path is looked up first and goes into the
    statement as a literal prefix (`path LIKE '/1/2/%'`): PostgreSQL's planner estimates a literal prefix
    from its statistics, but not a prefix computed by a subquery (it then took a district of 557
    organizations for 22, and walked 136,000 records to show 50 at 10×). Looked up once per region and
    request (regions.services.move_region forgets the lookups)."""
    Region = _TREE.region
    paths = request.environ.setdefault(_PATHS, {}) if has_request_context() else {}
    if region_id not in paths:
        paths[region_id] = db.session.scalar(select(Region.path).where(Region.id == region_id))
    path = paths[region_id]
    if path is None:
        return select(Region.id).where(false())
    # Rendered into the SQL (digits and slashes only): a reused prepared statement's generic plan would
    # not know it either.
    return select(Region.id).where(Region.path.startswith(literal(path, literal_execute=True), autoescape=False))


def user_org_ids(user) -> Select:
    """Ids of the organizations a user leads."""
    return select(_TREE.leader_org).where(_TREE.leader_user == user.id)


def org_ids_in_scope(user) -> Select:
    """Organizations the user may see, as a subquery of ids."""
    Organization = _TREE.org
    return select(Organization.id).where(scope_filter(Organization, user))


def region_ids_in_scope(user) -> Select:
    Region = _TREE.region
    return select(Region.id).where(scope_filter(Region, user))


def _org_leader_district_ids(user) -> Select:
    Organization, Region = _TREE.org, _TREE.region
    return select(Region.district_id).where(
        Region.id.in_(select(Organization.region_id).where(Organization.id.in_(user_org_ids(user))))
    )


def district_org_ids(region_id: int) -> Select:
    """Ids of the organizations registered in a region's subtree."""
    Organization = _TREE.org
    return select(Organization.id).where(Organization.region_id.in_(region_subtree_ids(region_id)))


def _org_match(model: type, rule: ScopeRule, org_ids: Select) -> ColumnElement[bool]:
    if rule.org is not None:
        return rule.org.in_(org_ids)
    link_key, link_org = rule.org_via
    return model.id.in_(select(link_key).where(link_org.in_(org_ids)))


# ---- the decision ------------------------------------------------------------------------------

def scope_filter(model: type, user) -> ColumnElement[bool]:
    Region = _TREE.region
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    rule = _rule(model)
    if user.role == Role.VOLUNTEER:  # before any custom rule: a volunteer gets only what is granted to them
        if rule.volunteer is not None and getattr(user, "volunteer_id", None):
            return rule.volunteer(user)
        return false()
    if rule.custom is not None:
        return rule.custom(user)
    if user.is_city_wide:
        return true()
    role = user.role
    if role in (Role.DISTRICT_STAFF, Role.LEADER):
        if user.region_id is None:
            return false()
        if rule.region is not None:
            return rule.region.in_(region_subtree_ids(user.region_id))
        if rule.org is not None or rule.org_via is not None:
            # Tables tied only to organizations: the organizations of the district's subtree.
            return _org_match(model, rule, district_org_ids(user.region_id))
        return false()
    if role == Role.ORG_LEADER:
        if rule.org is not None or rule.org_via is not None:
            return _org_match(model, rule, user_org_ids(user))
        if rule.region is not None:
            districts = select(Region.id).where(Region.district_id.in_(_org_leader_district_ids(user)))
            return rule.region.in_(districts)
        return false()
    if role == Role.REVIEWER and rule.reviewer is not None:
        return rule.reviewer(user)
    return false()


def scoped(stmt: Select, model: type, user) -> Select:
    return stmt.where(scope_filter(model, user))


def get_scoped_or_404(model: type, obj_id: Any, user, *, write: bool = False):
    """Load one row the user may see; 404 when it does not exist *or* lies outside the scope
    (an outsider cannot even learn that it exists); 403 when it is visible but read-only."""
    try:
        obj_id = int(obj_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < obj_id < 2**31:  # beyond the id columns' range: not ours, and no driver overflow
        abort(404)
    obj = db.session.scalar(select(model).where(model.id == obj_id, scope_filter(model, user)))
    if obj is None:
        abort(404)
    if write:
        require_write(user)
    return obj


def in_scope(user, obj) -> bool:
    model = type(obj)
    return db.session.scalar(
        select(model.id).where(model.id == obj.id, scope_filter(model, user))
    ) is not None


def require_write(user) -> None:
    if not getattr(user, "can_write", False):
        abort(403)


def require_roles(user, *roles) -> None:
    if not user.is_authenticated or user.role not in roles:
        abort(403)

