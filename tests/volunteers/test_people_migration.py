"""Migration 0024_rules_people carries existing data over: a dismissed volunteer becomes a city-wide
劝退 event, the yearly days and the hours per community are filled from the verified ledger, and the
survey indicator is renamed 认同和支持率."""
from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from blueprints.accounts.models import Role
from blueprints.assessment.models import AssessmentSnapshot, Indicator
from blueprints.volunteers.models import DismissReason, VolunteerStatus
from core.extensions import db
from tests import factories


def test_upgrade_carries_dismissals_days_communities_and_the_survey_name(tmp_path):
    """001 附件4 第五条 "本站可以对其劝退…报上级志愿服务组织备案" (the old city-wide flag becomes a
    city-wide event); 000 "市民对志愿服务活动认同和支持率达到90%以上" (the indicator's name)."""
    url = os.environ.get("TEST_MIGRATIONS_DATABASE_URL") or f"sqlite:///{tmp_path}/people.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "k", "PII_KEY": "p"})
    directory = os.path.join(app.root_path, "migrations")
    with app.app_context():
        upgrade(directory=directory)
        tree = factories.city_tree()
        org = factories.org(tree["community_a"], "迁移测试服务队")
        factories.user(Role.CITY_ADMIN, "mig_admin", tree["city"])
        leader = factories.user(Role.ORG_LEADER, "mig_leader", orgs=[org])
        v = factories.volunteer(org, registered_on=date(2025, 1, 1))
        for day, hours in ((date(2025, 3, 1), "20"), (date(2025, 3, 1), "4"), (date(2025, 3, 2), "20"), (date(2025, 3, 3), "10")):
            factories.service_record(v, org, day=day, hours=hours, by=leader)
        v.status, v.dismiss_reason, v.dismissed_on, v.dismiss_note = (
            VolunteerStatus.DISMISSED, DismissReason.PROFIT, date(2025, 6, 1), "推销保健品")
        db.session.add(Indicator(year=2025, code="survey", name="群众对志愿服务满意率（问卷调查）", unit="%",
                                 target=Decimal(90), weight=Decimal(15)))
        db.session.add(AssessmentSnapshot(year=2025, data={"indicators": [{"code": "survey",
                                                                             "name": "群众对志愿服务满意率（问卷调查）"}]}))
        db.session.commit()
        vid, cid = v.id, tree["community_a"].id
        db.session.remove()

        downgrade(directory=directory, revision="0019_volunteer_accounts")
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            events = conn.execute(sa.text(
                "SELECT volunteer_id, organization_id, level, action, reason, effective_on, note FROM dismissal_event")).all()
            days = conn.execute(sa.text("SELECT year, hours, days FROM volunteer_year_hours WHERE volunteer_id = :v"),
                                {"v": vid}).all()
            community = conn.execute(sa.text(
                "SELECT community_id, year, hours FROM volunteer_community_hours WHERE volunteer_id = :v"), {"v": vid}).all()
            name = conn.execute(sa.text("SELECT name FROM assessment_indicator WHERE code = 'survey'")).scalar_one()
            snapshot = conn.execute(sa.select(AssessmentSnapshot.__table__.c.data)).scalar_one()
        assert [(e[0], e[1], e[2], e[3], e[4], str(e[5]), e[6]) for e in events] == [
            (vid, None, "city", "dismiss", "profit", "2025-06-01", "推销保健品")]
        assert [(y, Decimal(h), d) for y, h, d in days] == [(2025, Decimal("54.0"), 3)]
        assert [(c, y, Decimal(h)) for c, y, h in community] == [(cid, 2025, Decimal("54.0"))]
        assert name == "市民对志愿服务活动认同和支持率（问卷调查）"
        assert snapshot == {"indicators": [{"code": "survey", "name": "市民对志愿服务活动认同和支持率（问卷调查）"}]}
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
