"""A page open to everyone is open to a logged-in volunteer too: the volunteer gate (core/auth.py) refuses
staff pages, never the public ones (a volunteer checks their own certificate at /verify, browses /recruit/)."""
from __future__ import annotations

from tests.portal.test_volunteer_role import _get_urls


def test_every_public_page_opens_for_a_volunteer(app, world, as_role, client):
    """Walks the whole URL map: a GET an anonymous visitor gets without being sent to the login page does
    not answer 403 to the volunteer's account — a new public page is covered without being listed."""
    c = as_role("volunteer")
    refused = []
    for endpoint, url in _get_urls(app):
        if endpoint in ("accounts.login", "home.index"):
            continue  # the login page sends a logged-in account on; "/" sends it to 我的 (tested elsewhere)
        anon = client.get(url)
        anon.close()
        if anon.status_code in (401, 403) or (anon.status_code in (301, 302, 303)
                                              and "/login" in anon.headers.get("Location", "")):
            continue
        resp = c.get(url)
        resp.close()
        if resp.status_code == 403:
            refused.append(f"{url} ({endpoint}) → anonymous {anon.status_code}, volunteer 403")
    assert not refused, "\n".join(refused)
