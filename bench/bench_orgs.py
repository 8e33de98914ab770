"""Organization registry with 5,000 organizations (issue 4): the list for a city admin and for a
district, filtered, searched, sorted, an HTMX page turn, and an organization's page; p95 server time
(target < 150 ms).

Run by `make bench` (bench/run.py), or alone against its own throw-away database:
    .venv/bin/python bench/bench_orgs.py
"""
from __future__ import annotations

from sqlalchemy import func, inspect, select

TARGET_MS = 150
SIZE = 5000


def run(b) -> None:
    from blueprints.orgs.models import Organization
    from blueprints.orgs.seed import fill_to
    from core.extensions import db

    with b.app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("organization")}
        if "name_key" not in columns:
            print("  (skipped: the organization registry columns are not in the bench database's migrations yet)")
            return
        added = fill_to(SIZE)
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(Organization))
        busy = db.session.scalar(select(Organization.parent_id).where(Organization.parent_id.isnot(None))
                                 .group_by(Organization.parent_id).order_by(func.count().desc()).limit(1))
        district = db.session.scalar(select(Organization.district_id).where(Organization.name == "赤坎区志愿服务总队"))
    b.record("orgs_count", total, f"organizations ({added} added for the bench)")
    admin = b.client("city_admin")
    staff = b.client("district_staff")
    b.get_p95("org_list_city_p95", admin, "/orgs/", TARGET_MS)
    b.get_p95("org_list_district_p95", staff, "/orgs/", TARGET_MS)
    b.get_p95("org_list_filtered_p95", admin,
              f"/orgs/?district={district}&status=approved&kind=社区志愿服务队&field=扶老&flag=registered", TARGET_MS)
    b.get_p95("org_list_search_p95", admin, "/orgs/?q=社区", TARGET_MS)
    b.get_p95("org_list_sorted_p95", admin, "/orgs/?sort=-created&page=60", TARGET_MS)

    def htmx_page():
        resp = admin.get("/orgs/?page=100&sort=district", headers={"HX-Request": "true"})
        assert resp.status_code == 200
    stats = b.timed(htmx_page)
    b.record("org_list_htmx_page100_p95", stats["p95_ms"], "ms (p95)", target=TARGET_MS, detail=stats)
    b.get_p95("org_detail_p95", admin, f"/orgs/{busy}", TARGET_MS)
    b.get_p95("org_queue_city_p95", admin, "/orgs/queue", TARGET_MS)
    b.get_p95("org_export_5000_p95", admin, "/orgs/export.xlsx", repeat=5)


if __name__ == "__main__":  # standalone: a fresh database built with create_all
    import os
    import sys
    import tempfile
    from pathlib import Path

    tmp = tempfile.mkdtemp(prefix="bench-orgs-")
    os.environ["BENCH_INSTANCE_DIR"] = tmp
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import Bench  # noqa: E402  (sets INSTANCE_DIR from BENCH_INSTANCE_DIR)

    from app import create_app
    from core.cli import run_seed
    from core.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        run_seed(verbose=False)
    run(Bench(app))
