"""The demo seed gives the coverage board all three colours and some photos."""
from __future__ import annotations

from blueprints.accounts.models import Role
from blueprints.regions import seed as regions_seed
from blueprints.stations import seed as stations_seed
from blueprints.stations import services
from blueprints.stations.models import Station, StationAssessmentItem
from core import uploads
from core.extensions import db
from tests import factories


def test_demo_seed_shows_every_colour(app):
    ctx: dict = {}
    regions_seed.seed(ctx)
    stations_seed.seed(ctx)
    db.session.commit()
    admin = factories.user(Role.CITY_ADMIN, "seed_admin", ctx["city"])
    board = services.coverage(admin)
    tones = {r.coverage.tone for r in board.rows} | {r.wuyou.tone for r in board.rows} | \
        {r.public_fig.tone for r in board.rows}
    assert {"green", "amber", "red"} <= tones
    assert board.city_total.value >= 30 and board.city_total.tone == "green"
    photos = db.session.query(StationAssessmentItem).filter(StationAssessmentItem.photo.isnot(None)).all()
    assert photos and all(uploads.read_stored(p.photo) for p in photos)
    count = db.session.query(Station).count()
    stations_seed.seed(ctx)  # idempotent
    assert db.session.query(Station).count() == count
