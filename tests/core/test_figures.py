"""One definition per figure (core/figures.py): every number on a home tile is a registered figure,
equals that figure's function, and equals the number on the page the tile links to.

A future tile that computes its own number fails `tile_violations`: a number in a tile's <strong>,
.big or <dd> without a `data-figure` key is reported, and so is a keyed number whose value differs
from the registry's.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import lxml.html
import pytest

from blueprints.volunteers.models import Membership, VolunteerStatus
from core.extensions import db
from core.figures import figure, registered_keys
from core.timeutil import local_today
from tests import factories as f

ROLES = ["city_admin", "district_staff", "org_leader", "leader", "district_leader"]
TILE = "//section[contains(concat(' ', normalize-space(@class), ' '), ' tile ')]"
BIG = ".//*[contains(concat(' ', normalize-space(@class), ' '), ' big ')]"
NUMBER_ONLY = re.compile(r"^[\s¥\-−+,.\d%/]+$")


def _figure_of(app, key, user):
    with app.test_request_context():
        return figure(key, user)


def tile_violations(html: str, value_of) -> list[str]:
    """What is wrong with the home page's tiles: numbers without a figure key, keys whose value or
    text differs from `value_of(key)` (a Figure)."""
    doc = lxml.html.fromstring(html)
    out = []
    for tile in doc.xpath(TILE):
        title = tile.findtext("h3") or "?"
        for el in tile.xpath(f".//strong | {BIG} | .//dd"):
            if el.xpath("ancestor::table"):
                continue  # a table's rows (rankings) are not headline figures
            text = el.text_content().strip()
            if not re.search(r"\d", text):
                continue
            if el.tag != "dd" and not NUMBER_ONLY.match(text):
                continue  # a name that happens to hold a digit
            keyed = el.get("data-figure") or el.xpath(".//*[@data-figure]") or el.xpath("ancestor::*[@data-figure]")
            if not keyed:
                out.append(f"{title}: number {text!r} has no data-figure key")
        for el in tile.xpath(".//*[@data-figure]"):
            key = el.get("data-figure")
            fig = value_of(key)
            if Decimal(el.get("data-value")) != Decimal(fig.value):
                out.append(f"{title}: {key} shows {el.get('data-value')}, its function says {fig.value}")
            if el.text_content().strip() != fig.text:
                out.append(f"{title}: {key} reads {el.text_content().strip()!r}, expected {fig.text!r}")
    return out


# ---- the data: volumes in several organizations, regions, years and states --------------------------

@pytest.fixture
def data(world):
    today = local_today()
    this_year, last_year = date(today.year, 1, 15), date(today.year - 1, 6, 1)
    org_a, org_b = world["org_a"], world["org_b"]
    org_a2 = f.org(world["community_a2"], "赤坎区和平社区志愿服务队")
    world["org_leader"].organizations.append(org_a2)
    lead = {org_a.id: world["org_leader"], org_a2.id: world["org_leader"], org_b.id: world["org_leader_2"]}
    vols = {o.id: [f.activity_volunteer(o) for _ in range(n)] for o, n in ((org_a, 5), (org_a2, 3), (org_b, 4))}
    # A member of org_a living in 霞山区 (by organization ≠ by residence), and one in both organizations.
    vols[org_a.id][0].region_id = world["community_b"].id
    both = vols[org_b.id][0]
    both.memberships.append(Membership(organization=org_a, joined_on=date(2020, 1, 1)))
    db.session.flush()
    for org_id, members in vols.items():
        for i, v in enumerate(members):
            f.service_record(v, db.session.get(type(org_a), org_id), this_year + timedelta(days=i), "6.5", by=lead[org_id])
            f.service_record(v, db.session.get(type(org_a), org_id), last_year + timedelta(days=i), "4", by=lead[org_id])
        f.service_record(members[1], db.session.get(type(org_a), org_id), this_year + timedelta(days=40), "3",
                         verified=False, by=lead[org_id])
    for i in range(8):  # both becomes a 骨干 (≥ 48 h this year) with hours recorded by org_a
        f.service_record(both, org_a, this_year + timedelta(days=60 + i), "6", by=world["org_leader"])
    gone = vols[org_a2.id][2]  # dismissed this year: out of the register, its hours stay with the recording unit
    gone.status, gone.dismissed_on = VolunteerStatus.DISMISSED, today
    # Money: last year's income carried over, this year spending more than coming in.
    f.ledger_entry(org_a, "10000.00", entry_date=date(today.year - 1, 3, 1))
    f.ledger_entry(org_a, "2000.00", entry_date=date(today.year, 2, 1))
    f.ledger_entry(org_a, "5000.50", kind="expense", entry_date=date(today.year, 3, 1))
    f.ledger_entry(world["district_b"], "800.00", entry_date=date(today.year, 4, 1))
    f.activity(org_a, held_on=today)
    f.activity(org_b, held_on=today + timedelta(days=10))
    f.station(world["community_a"], organization=org_a)
    f.station(world["town_b"], station_type="park")
    f.insurance_policy(org_a, start=today - timedelta(days=350), end=today + timedelta(days=15))
    db.session.commit()
    return {"vols": vols, "both": both, "gone": gone}


# ---- the tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_tile_number_is_its_registered_figure_and_equals_the_linked_page(app, as_role, world, data, role):
    user = world[role]
    client = as_role(role)
    html = client.get("/").get_data(as_text=True)
    figs = {}

    def value_of(key):
        assert key in registered_keys(), f"unregistered figure key {key}"
        if key not in figs:
            figs[key] = _figure_of(app, key, user)
        return figs[key]

    assert tile_violations(html, value_of) == []
    doc = lxml.html.fromstring(html)
    keyed = doc.xpath(TILE + "//*[@data-figure]")
    assert len(keyed) >= 5, f"{role}: the home page shows too few figures to prove anything"
    # The page each figure links to shows the same number.
    for el in keyed:
        key, href = el.get("data-figure"), el.get("href")
        fig = value_of(key)
        target = href or fig.url
        if not target:
            continue
        page = lxml.html.fromstring(client.get(target).get_data(as_text=True))
        if fig.page_attr == "data-figure":
            shown = [e.get("data-value") for e in page.xpath(f'//*[@data-figure="{key}"]')]
        else:
            shown = [e.get(fig.page_attr) for e in page.xpath(f"//*[@{fig.page_attr}]")]
        assert shown, f"{role}: {target} does not show {key}"
        assert all(Decimal(v) == Decimal(fig.value) for v in shown), f"{role}: {key} is {fig.value}, {target} says {shown}"


def test_the_figures_count_what_their_definitions_say(app, world, data):
    fig = lambda key, role: _figure_of(app, key, world[role]).value  # noqa: E731
    # By organization: 12 volunteers, 11 in the register (one dismissed); the district sees its own orgs' 8 + `both`.
    assert fig("volunteers.registered", "city_admin") == 11
    assert fig("volunteers.dismissed", "city_admin") == 1
    assert fig("volunteers.registered", "district_staff") == 5 + 3 - 1 + 1
    assert fig("volunteers.registered", "org_leader") == 5 + 3 - 1 + 1
    # By residence: 赤坎区 lost the org_a member who lives in 霞山区 and the dismissed one.
    assert fig("assessment.volunteers", "district_leader") == 5 + 3 - 1 - 1
    assert fig("assessment.volunteers", "leader") == 11
    # Verified hours of this year by recording unit: 12 × 6.5 + 8 × 6 (pending and last year's not counted).
    assert fig("hours.year", "city_admin") == Decimal("126.0")
    assert fig("hours.year", "org_leader") == Decimal("6.5") * 8 + 48
    assert fig("ledger.pending", "city_admin") == 3
    assert fig("volunteers.core", "city_admin") == 1
    # Money: the year's difference is negative, the balance (with last year's carry-over) is not.
    assert fig("funding.year_net", "org_leader") == Decimal("-3000.50")
    assert fig("funding.balance", "org_leader") == Decimal("6999.50")
    assert fig("funding.balance", "city_admin") == Decimal("7799.50")


def test_org_leaders_home_and_org_page_show_the_same_balance_under_the_same_name(as_role, world, data):
    c = as_role("org_leader")
    home = lxml.html.fromstring(c.get("/").get_data(as_text=True))
    [net] = home.xpath('//*[@data-figure="funding.year_net"]')
    [balance] = home.xpath('//*[@data-figure="funding.balance"]')
    assert net.text_content() == "-¥3,000.50" and balance.text_content() == "¥6,999.50"
    labels = [dt.text_content() for dt in home.xpath(TILE + "//dt")]
    assert any(t.startswith(f"{local_today().year} 年收支差额") for t in labels)
    assert not any("结余" in t for t in labels)
    org_page = c.get(f"/orgs/{world['org_a'].id}").get_data(as_text=True)
    assert re.search(r"当前余额</dt><dd><strong>¥6,999.50</strong>", org_page)


def test_no_page_calls_anything_结余():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "templates"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html") if "结余" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_the_checker_catches_a_tile_that_computes_its_own_number(app, world):
    from core.figures import Figure

    fake = {"volunteers.registered": Figure(7, "在册志愿者（按组织）", "…", unit="人", key="volunteers.registered")}
    own = '<section class="card tile"><h3>新磁贴</h3><dl class="facts"><dt>志愿者</dt><dd><strong>42</strong> 人</dd></dl></section>'
    found = tile_violations(own, fake.get)
    assert found and all(v.startswith("新磁贴: number '42") and v.endswith("has no data-figure key") for v in found)
    wrong = ('<section class="card tile"><h3>志愿者</h3><p class="big"><a data-figure="volunteers.registered" '
             'data-value="8" href="/v">8</a></p></section>')
    assert len(tile_violations(wrong, fake.get)) == 2


def test_reviewers_home_numbers_are_registered_figures_too(app, as_role, world):
    camp = f.award_campaign(stage="scoring", panel=[world["reviewer"]])
    for _ in range(3):
        f.award_nomination(camp, world["org_a"], status="recommended")
    db.session.commit()
    html = as_role("reviewer").get("/").get_data(as_text=True)
    assert tile_violations(html, lambda key: _figure_of(app, key, world["reviewer"])) == []
    assert 'data-figure="awards.todo" data-value="3"' in html
