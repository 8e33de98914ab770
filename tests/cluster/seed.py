"""The small data set of `make test-cluster`: the test world's accounts and one station to assess.
Run against the throw-away PostgreSQL after `flask db upgrade`; prints the station's and the
organization's ids."""
from __future__ import annotations

from app import create_app
from core.extensions import db
from tests import factories


def main() -> None:
    app = create_app()
    with app.app_context():
        w = factories.world()
        station = factories.station(w["community_a"], "幸福社区志愿服务站", organization=w["org_a"])
        factories.user(factories.Role.REVIEWER, "lockout_target")
        db.session.commit()
        print(station.id, w["org_a"].id)


if __name__ == "__main__":
    main()
