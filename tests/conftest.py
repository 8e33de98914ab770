"""Fixtures: one app per run, a clean database per test, a CSRF-aware client, a live server."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

_TMP = tempfile.mkdtemp(prefix="zhiyuan-test-")
os.environ.setdefault("INSTANCE_DIR", _TMP)  # keep secrets/uploads of tests out of instance/

from app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

ROLES = ["city_admin", "district_staff", "district_staff_2", "org_leader", "org_leader_2", "leader",
         "district_leader", "reviewer", "volunteer"]


class CSRFClient(FlaskClient):
    """Sends a valid X-CSRFToken header with every unsafe request, as base.html's htmx does.
    Pass csrf=False to send none (to prove the protection works)."""

    def open(self, *args, **kwargs):
        send = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if send and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        # Each request gets its own app context (its own g and database session), as in
        # production; otherwise it would reuse the test's context and share its login cache.
        db.session.commit()  # end the test's own transaction: it must not hold SQLite's lock
        with self.application.app_context():
            resp = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's own session sees what the request committed
        return resp

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = sess["csrf_token"] = secrets.token_hex(20)
        return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)

    def login(self, username: str, password: str = factories.PASSWORD):
        resp = self.post("/login", data={"username": username, "password": password})
        assert resp.status_code == 303, f"login of {username} failed: {resp.status_code}"
        return resp

    def htmx_get(self, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["HX-Request"] = "true"
        return self.get(url, headers=headers, **kwargs)


@pytest.fixture(scope="session")
def app():
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "PII_KEY": "dGVzdC1waWkta2V5LXRlc3QtcGlpLWtleS10ZXN0LTE=",
        "UPLOAD_DIR": os.path.join(_TMP, "uploads"),
        "PDF_CACHE_DIR": os.path.join(_TMP, "pdf-cache"),
        "SERVER_NAME": None,
        "JOBS_IMMEDIATE": True,  # background jobs run at once, in-process (tests/core/test_jobs.py runs a real worker)
    })
    app.test_client_class = CSRFClient
    with app.app_context():
        db.drop_all()
        db.create_all()  # tests only: the real schema comes from migrations (see test_migrations)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections before the interpreter does (psycopg warns)


def _wipe() -> None:
    tables = list(reversed(db.Model.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            db.session.execute(t.delete())
    db.session.commit()
    # The data version starts again with the emptied tables: nothing computed for the last test's data
    # may be found under the same number (in production the version only ever grows).
    from core import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _db(app):
    with app.app_context():
        yield db
        db.session.rollback()
        db.session.remove()
        _wipe()
        db.session.remove()


@pytest.fixture
def client(app) -> CSRFClient:
    return app.test_client()


@pytest.fixture
def world(app) -> dict:
    return factories.world()


@pytest.fixture
def me(world) -> dict:
    """The world with its volunteer account added (w["person"], w["volunteer"], w["org_v"])."""
    return factories.add_volunteer(world)


@pytest.fixture
def as_role(app, world):
    """as_role('district_staff') → a client logged in as that account of the world."""

    def make(role: str) -> CSRFClient:
        if role == "volunteer":
            factories.add_volunteer(world)
        c = app.test_client()
        c.login(world[role].username)
        return c

    return make


# ---- live server + browser (Playwright drives Debian's Chromium) ----------------------------------

@pytest.fixture(scope="session")
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ])
    yield b
    b.close()
    pw.stop()


def _browser_page(browser, live_server, **context_options):
    """A page of a new browser context on the live server; at the end, no script error may have occurred."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", **context_options)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # A 4xx answer to a form post (422, 401) is expected behaviour, not a browser error.
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error"
          and "responded with a status of 4" not in m.text else None)
    pg.set_default_timeout(10000)
    yield pg
    context.close()
    assert not errors, f"browser errors: {errors}"


@pytest.fixture
def page(browser, live_server):
    yield from _browser_page(browser, live_server)


@pytest.fixture
def phone(browser, live_server):
    """A phone (390 × 844, touch) for the volunteers' pages (issue 17)."""
    yield from _browser_page(browser, live_server, viewport={"width": 390, "height": 844}, is_mobile=True,
                             has_touch=True)


def htmx_settled(page) -> None:
    """Wait until htmx has finished every request, swap and settle: content it has just swapped in is
    bound (its triggers work) only then, so typing into it earlier may go unheard on a busy machine."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def browser_login(page, username: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
