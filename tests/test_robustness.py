"""No input produces a 500: every route, every role, junk parameters and junk forms.

This walks the URL map, so every feature's routes are covered as soon as they exist.
"""
from __future__ import annotations

import re

import pytest

JUNK_FORM = {
    "name": "x" * 5000, "username": "'; DROP TABLE user; --", "year": "二〇二六", "page": "-1",
    "id": "../../etc/passwd", "date": "2026-02-30", "amount": "1e309", "hours": "NaN", "code": "%00",
    "status": "<script>alert(1)</script>", "region_id": "abc", "q": "\x00", "token": "../../x",
}
JUNK_QUERY = "?page=abc&year=99999&q=%25%27%22&sort=drop&status=zzz&from=2026-99-99&month=13&region=x"


def _urls(app, world):
    ids = {
        "region_id": world["town_a"].id, "parent_id": world["district_a"].id, "user_id": world["org_leader"].id,
        "org_id": world["org_a"].id,
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {}
        for arg in rule.arguments:
            conv = rule._converters[arg].__class__.__name__
            values[arg] = ids.get(arg, 1) if conv == "IntegerConverter" else "x"
        try:
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
        except Exception:
            continue
        yield rule, url


@pytest.mark.parametrize("role", ["city_admin", "district_staff", "org_leader", "leader", "reviewer", None])
def test_no_route_answers_500_to_junk(app, world, as_role, client, role):
    c = as_role(role) if role else client
    failures = []
    for rule, url in _urls(app, world):
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods:
            for u in (url, url + JUNK_QUERY):
                resp = c.get(u)
                if resp.status_code >= 500:
                    failures.append(f"GET {u} → {resp.status_code}")
        if "POST" in methods and rule.endpoint not in ("accounts.logout",):
            resp = c.post(url, data=JUNK_FORM)
            if resp.status_code >= 500:
                failures.append(f"POST {url} → {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_every_page_is_chinese_and_has_no_inline_script(app, world, as_role):
    c = as_role("city_admin")
    for rule, url in _urls(app, world):
        if "GET" not in rule.methods or rule.arguments - {"region_id", "parent_id", "user_id", "org_id"}:
            continue
        resp = c.get(url)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        body = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {url}"
        assert not re.search(r"\son[a-z]+=\"", body), f"inline event handler on {url}"
        assert not re.search(r"\sstyle=\"", body), f"inline style attribute (blocked by the CSP) on {url}"


def test_ids_beyond_the_integer_range_are_404_not_500(app, world, as_role):
    from core.scope import get_scoped_or_404
    from blueprints.regions.models import Region
    from werkzeug.exceptions import NotFound

    client = as_role("city_admin")
    for url in ("/regions/99999999999999999999", "/regions/2147483648", "/audit/?page=99999999999999999999"):
        assert client.get(url).status_code in (200, 404), url
    with app.test_request_context():
        with pytest.raises(NotFound):
            get_scoped_or_404(Region, "99999999999999999999", world["city_admin"])
