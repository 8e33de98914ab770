"""The certificate's verification link and QR code come from PUBLIC_BASE_URL, never from the Host
header; with TRUSTED_HOSTS set, other hosts are refused (400, not 500)."""
from __future__ import annotations

import re
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
import segno
from sqlalchemy import select

import core.pdf
from blueprints.volunteers import certificates
from blueprints.volunteers.models import Certificate
from core.extensions import db
from core.urls import public_url
from tests.volunteers.test_certificates import TODAY, _pdf_text, w  # noqa: F401  (fixture)

PUBLIC = "https://zhiyuan.zhanjiang.example"


def _svg_matrix(data_uri: str) -> list[list[int]]:
    """The dark modules of segno's SVG path (absolute M, relative m, horizontal h runs), border included."""
    svg = unquote(data_uri.split(",", 1)[1])
    size = int(re.search(r"viewBox='0 0 (\d+) \d+'", svg).group(1))
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", re.search(r" d='([^']+)'", svg).group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for col in range(int(x), int(x + float(a))):
                grid[int(y)][col] = 1
            x += float(a)
    return grid


def _expected_matrix(url: str, border: int = 2) -> list[list[int]]:
    """Built with segno directly (not through the app's helper): the QR of exactly this URL."""
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    return [[1 if dark else 0 for dark in row] for row in qr.matrix_iter(border=border)]


def _also_on(c, host: str):
    """The test client keeps cookies per host: carry the login session (with its CSRF secret) over
    to a forged Host."""
    c.csrf_token()
    c.set_cookie("zhiyuan_session", c.get_cookie("zhiyuan_session").value, domain=host)
    return c


@pytest.fixture
def public_base(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)


@pytest.fixture
def rendered_html(monkeypatch):
    """The HTML of every PDF rendered during the test."""
    seen: list[str] = []
    original = core.pdf.render_html_to_pdf

    def capture(html: str) -> bytes:
        seen.append(html)
        return original(html)

    monkeypatch.setattr(core.pdf, "render_html_to_pdf", capture)
    return seen


def test_the_pdf_link_and_qr_use_the_public_base_url_whatever_the_host_header(w, as_role, public_base,  # noqa: F811
                                                                             rendered_html):
    c = _also_on(as_role("org_leader"), "evil.example")
    resp = c.post(f"/volunteers/{w['v'].id}/certificates/new", headers={"Host": "evil.example"}, data={
        "organization_id": w["org_a"].id, "person_in_charge": "王芳", "period_start": "2022-03-01",
        "period_end": TODAY.isoformat()})
    assert resp.status_code == 303
    cert = db.session.scalar(select(Certificate))
    expected = f"{PUBLIC}/verify/{certificates.format_code(cert.code)}"
    pdf = c.get(f"/volunteers/certificates/{cert.id}.pdf", headers={"Host": "evil.example"})
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert expected in text.replace("\n", "").replace(" ", "") and "evil.example" not in text
    assert "evil.example" not in pdf.data.decode("latin-1")
    # the QR code is in the page and encodes exactly the public verification URL
    (html,) = rendered_html
    uris = re.findall(r'<img class="qr" src="(data:image/svg\+xml[^"]+)"', html)
    assert len(uris) == 1
    assert _svg_matrix(uris[0]) == _expected_matrix(expected)
    assert _svg_matrix(uris[0]) != _expected_matrix(expected.replace(PUBLIC, "http://evil.example"))
    # the running header names the issuing organization
    assert f'@top-left {{ content: "{w["org_a"].name}"' in html


def test_the_certificate_fits_one_a4_page(w, as_role):  # noqa: F811
    cert = certificates.issue(w["org_leader"], w["v"], w["org_a"], "王芳", date(2022, 3, 1), TODAY)
    db.session.commit()
    data = as_role("org_leader").get(f"/volunteers/certificates/{cert.id}.pdf").data
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.pdf"
        path.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    assert "(A4)" in info, info


def test_the_issue_form_names_the_public_check_page(w, as_role, public_base):  # noqa: F811
    body = _also_on(as_role("org_leader"), "evil.example").get(f"/volunteers/{w['v'].id}/certificates/new",
                                     headers={"Host": "evil.example"}).get_data(as_text=True)
    assert f"{PUBLIC}/verify/" in body and "evil.example" not in body


def test_public_url_outside_a_request_and_under_a_path_prefix(app, monkeypatch):
    assert public_url("verify.verify_form") == "http://127.0.0.1:5000/verify/"  # the demo default
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://www.example.gov.cn/zhiyuan/")
    assert public_url("verify.verify", code="ABCD-EFGH-JKLM") == \
        "https://www.example.gov.cn/zhiyuan/verify/ABCD-EFGH-JKLM"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "zhiyuan.example.gov.cn:8080")
    assert public_url("verify.verify_form") == "http://zhiyuan.example.gov.cn:8080/verify/"


@pytest.mark.parametrize("method, path", [("GET", "/verify/"), ("GET", "/login"), ("POST", "/login"),
                                          ("GET", "/orgs/check-duplicate?name=x"), ("GET", "/no-such-page")])
def test_with_trusted_hosts_an_unknown_host_gets_400(app, client, monkeypatch, method, path):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["zhiyuan.example", "localhost"])
    resp = client.open(path, method=method, headers={"Host": "evil.example"}, data={"username": "x", "password": "y"}
                       if method == "POST" else None)
    assert resp.status_code == 400 and "受信任" in resp.get_data(as_text=True)
    assert client.open("/verify/", headers={"Host": "zhiyuan.example"}).status_code == 200


def test_without_trusted_hosts_any_host_is_served(client):
    assert client.get("/verify/", headers={"Host": "anything.example"}).status_code == 200
