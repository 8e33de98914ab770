"""Two app servers, one PostgreSQL, one Redis (issue 16): a user moves between them as a load balancer
would move them. Real HTTP against the servers that `make test-cluster` (.ci/test-cluster) starts;
skipped unless CLUSTER_A and CLUSTER_B name them (so `make test` skips it)."""
from __future__ import annotations

import http.client
import io
import os
import re
import secrets
from urllib.parse import urlencode, urlsplit

import pytest

from tests.factories import PASSWORD  # the accounts of tests/cluster/seed.py

A, B = os.environ.get("CLUSTER_A", ""), os.environ.get("CLUSTER_B", "")
STATION = os.environ.get("CLUSTER_STATION", "")
ORG = os.environ.get("CLUSTER_ORG", "")
pytestmark = pytest.mark.skipif(not (A and B and STATION and ORG),
                                reason="needs two running app servers: `make test-cluster`")


class Browser:
    """One user's cookie jar, sent to whichever server it talks to (both are 127.0.0.1)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, base: str, method: str, path: str, body: bytes | None = None, content_type: str = "",
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        url = urlsplit(base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        if content_type:
            head["Content-Type"] = content_type
        if method == "POST" and self.csrf:
            head["X-CSRFToken"] = self.csrf
        conn.request(method, path, body=body, headers=head)
        resp = conn.getresponse()
        data = resp.read()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                val = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or not val:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def get(self, base: str, path: str):
        status, headers, data = self.request(base, "GET", path)
        m = re.search(rb'"X-CSRFToken": "([^"]+)"', data) or re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', data)
        if m:
            self.csrf = m.group(1).decode()
        return status, headers, data

    def post(self, base: str, path: str, fields: dict, files: dict | None = None):
        if files:
            boundary = secrets.token_hex(12)
            out = io.BytesIO()
            for k, v in fields.items():
                out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            for k, (filename, content, mime) in files.items():
                out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                          f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n")
            out.write(f"--{boundary}--\r\n".encode())
            return self.request(base, "POST", path, out.getvalue(), f"multipart/form-data; boundary={boundary}")
        return self.request(base, "POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def login(self, base: str, username: str, password: str = PASSWORD):
        self.get(base, "/login")
        return self.post(base, "/login", {"username": username, "password": password, "csrf_token": self.csrf})


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_a_session_started_on_a_continues_on_b():
    user = Browser()
    status, headers, _ = user.login(A, "district_staff")
    assert status == 303, "login on A"
    status, _, page = user.get(B, "/")
    assert status == 200 and "退出".encode() in page  # B knows the session that A started (same keys, same table)
    status, _, page = user.get(B, "/account/password")
    assert status == 200


def test_a_photo_uploaded_on_a_is_served_by_b():
    user = Browser()
    assert user.login(A, "district_staff")[0] == 303
    user.get(A, f"/stations/{STATION}/assess")
    fields = {"csrf_token": user.csrf, "assessed_on": "2026-05-01", "assessor_name": "赤坎区文明办 李娜"}
    for key in ("place", "sign", "team", "rules", "ledger"):
        fields.update({f"{key}_ok": "1", f"{key}_note": "已落实"})
    photo = _png()
    status, headers, _ = user.post(A, f"/stations/{STATION}/assess", fields,
                                   files={"place_photo": ("门牌.png", photo, "image/png")})
    assert status == 303, "assessment with a photo saved on A"
    status, _, page = user.get(B, f"/stations/{STATION}")
    links = re.findall(rb"/stations/photos/(\d+)", page)
    assert status == 200 and links, "B lists the photo"
    status, headers, data = user.get(B, f"/stations/photos/{links[-1].decode()}")
    assert status == 200 and data == photo and headers["content-type"] == "image/png"


def _finished(user: Browser, base: str, job_id: str, seconds: float = 90) -> bytes:
    """Poll a job's status partial on `base` until the job is done or failed; its last partial."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        status, _, part = user.request(base, "GET", f"/jobs/{job_id}/status", headers={"HX-Request": "true"})
        assert status == 200, status
        if b'data-status="done"' in part or b'data-status="failed"' in part or time.monotonic() > deadline:
            return part
        time.sleep(0.5)


def test_an_import_previewed_on_a_is_confirmed_on_b():
    from blueprints.volunteers.services import IMPORT_COLUMNS
    from core.exports import xlsx_bytes
    from tests.factories import id_number

    user = Browser()
    assert user.login(A, "org_leader")[0] == 303
    user.get(A, "/volunteers/import")
    row = ["周晓燕", id_number(), "13800000001", "群众", "否", "扶老", "周末", "", "", "", "", ""]
    status, _, page = user.post(A, "/volunteers/import", {"csrf_token": user.csrf, "organization_id": ORG},
                                files={"file": ("志愿者.xlsx", xlsx_bytes("志愿者", IMPORT_COLUMNS, [row]),
                                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    token = re.search(rb'name="token" value="([^"]+)"', page)
    assert status == 200 and token, "preview on A"
    # The stash holds the ID number encrypted with PII_KEY: B must read what A wrote.
    status, headers, _ = user.post(B, "/volunteers/import/confirm",
                                   {"csrf_token": user.csrf, "token": token.group(1).decode(), "org": ORG})
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    assert status == 303 and job, "the confirmation on B answers with the import's job"
    part = _finished(user, A, job.group(1))  # its input rows are in the database: the worker reads them
    assert b'data-status="done"' in part, part.decode()[-500:]
    status, _, page = user.get(A, f"/volunteers/?org={ORG}")
    assert status == 200 and "周晓燕".encode() in page


def test_an_export_started_on_b_is_fetched_on_a():
    """The job runs in the one worker pool (Redis queue); its file is in the database, so A serves it."""
    from openpyxl import load_workbook

    user = Browser()
    assert user.login(A, "district_staff")[0] == 303
    status, headers, _ = user.get(B, "/volunteers/export.xlsx")
    job = re.search(r"/jobs/(\d+)$", headers.get("location", ""))
    assert status == 303 and job, "B answers the export with its job"
    part = _finished(user, A, job.group(1))
    link = re.search(rb'href="(/jobs/\d+/download)"', part)
    assert link, "the worker finished the export:\n" + part.decode()[-500:]
    status, headers, data = user.get(A, link.group(1).decode())
    assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats")
    header = next(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("志愿者编号", "姓名")


def test_a_lockout_on_a_is_enforced_on_b():
    attacker, owner = Browser(), Browser()
    failures = int(os.environ.get("CLUSTER_LOGIN_MAX_FAILURES", "5"))
    for _ in range(failures):
        status, _, page = attacker.login(A, "lockout_target", "wrong-password-1")
        assert status in (401, 422, 200, 429) and "用户名或密码不正确".encode() in page
    status, _, page = owner.login(B, "lockout_target")  # the right password, on the other server
    assert status != 303 and "用户名或密码不正确".encode() in page


def test_a_logout_on_b_ends_the_session_on_a():
    user = Browser()
    assert user.login(A, "reviewer")[0] == 303
    old_cookies = dict(user.cookies)
    user.get(B, "/")
    status, headers, _ = user.post(B, "/logout", {"csrf_token": user.csrf})
    assert status == 303 and headers["location"].endswith("/login")
    replay = Browser()
    replay.cookies = old_cookies  # someone who kept the cookie from before the logout
    status, headers, _ = replay.get(A, "/")
    assert status in (302, 303) and "/login" in headers["location"]
