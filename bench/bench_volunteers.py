"""Volunteers registry at demo size (~20,000 people): the list (first page, a filter, a last-4 search,
an HTMX page turn) and a volunteer's page, p95 server time (target < 200 ms, issue 5)."""
from __future__ import annotations

from sqlalchemy import func, inspect, select

TARGET_MS = 200


def run(b) -> None:
    from blueprints.volunteers.models import Membership, Volunteer
    from core import pii
    from core.extensions import db

    with b.app.app_context():
        if not inspect(db.engine).has_table("volunteer"):
            print("  (skipped: the volunteer tables are not in the bench database's migrations yet)")
            return
        total = db.session.scalar(select(func.count()).select_from(Volunteer))
        lead_org = db.session.scalar(select(Membership.organization_id).group_by(Membership.organization_id)
                                     .order_by(func.count().desc()).limit(1))
        # A busy volunteer of the first district (most records), and an ordinary one.
        busy = db.session.scalar(select(Volunteer.id).order_by(Volunteer.total_hours.desc()).limit(1))
        last4 = pii.decrypt(db.session.scalar(select(Volunteer.id_number_enc).where(Volunteer.id == busy)))[-4:]
    b.record("volunteers_count", total, "volunteers")
    admin = b.client("city_admin")
    staff = b.client("district_staff")
    b.get_p95("volunteer_list_city_p95", admin, "/volunteers/", TARGET_MS)
    b.get_p95("volunteer_list_district_p95", staff, "/volunteers/", TARGET_MS)
    b.get_p95("volunteer_list_filtered_p95", admin,
              f"/volunteers/?org={lead_org}&status=active&political=party_member", TARGET_MS)
    b.get_p95("volunteer_list_core_p95", admin, "/volunteers/?kind=core&star=1", TARGET_MS)
    b.get_p95("volunteer_list_last4_p95", admin, f"/volunteers/?q={last4}", TARGET_MS)

    def htmx_page():
        resp = admin.get("/volunteers/?page=40", headers={"HX-Request": "true"})
        assert resp.status_code == 200
    stats = b.timed(htmx_page)
    b.record("volunteer_list_htmx_page40_p95", stats["p95_ms"], "ms (p95)", target=TARGET_MS, detail=stats)
    b.get_p95("volunteer_page_p95", admin, f"/volunteers/{busy}", TARGET_MS)
