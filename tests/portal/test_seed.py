"""The portal's demo data: applications in every state, unused activation codes (one known: README)."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.portal import seed
from blueprints.portal import services_join as sj
from blueprints.portal.models import ActivationCode, JoinApplication, JoinStatus
from core.extensions import db
from tests import factories as f


def test_seed_adds_applications_and_codes_once(world):
    for _ in range(5):
        f.volunteer(world["org_a"])
    ctx = {"lead_orgs": [world["org_a"], world["org_b"]]}
    seed.seed(ctx)
    counts = dict(db.session.execute(select(JoinApplication.status, func.count()).group_by(JoinApplication.status)).all())
    assert counts == {JoinStatus.PENDING: 3, JoinStatus.REFUSED: 1, JoinStatus.APPROVED: 1}
    assert db.session.scalar(select(func.count(ActivationCode.id)).where(ActivationCode.used_at.is_(None))) == 4
    code = db.session.scalar(select(ActivationCode).where(ActivationCode.code_hash == sj.code_hash(seed.DEMO_CODE)))
    assert code is not None and code.organization_id == world["org_a"].id
    seed.seed(ctx)  # a second run adds nothing
    assert db.session.scalar(select(func.count(JoinApplication.id))) == 5
    assert db.session.scalar(select(func.count(ActivationCode.id))) == 4
