"""Personal data outside the database columns (issue 14): file modes, pending imports, URLs, logs."""
from __future__ import annotations

import json
import logging
import os
import stat
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from app import create_app
from core import exports, privacy, tabular, uploads
from core.extensions import db

FULL_ID = "440802199003071234"
PHONE = "13812345678"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- files are 0600 -------------------------------------------------------------------------------

def test_sqlite_database_and_its_wal_files_are_created_0600(tmp_path):
    os.umask(0o022)  # as a fresh process starts: create_app must narrow it itself
    path = tmp_path / "fresh.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True,
                      "UPLOAD_DIR": str(tmp_path / "uploads")})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
            conn.execute(text("INSERT INTO t VALUES ('陈晓明')"))
        written = [p for p in (path, tmp_path / "fresh.db-wal", tmp_path / "fresh.db-shm") if p.exists()]
        assert len(written) == 3  # WAL mode (core/extensions.py): all three exist while connected
        assert {str(p): _mode(p) for p in written} == {str(p): 0o600 for p in written}
        assert _mode(tmp_path / "uploads") == 0o700
        db.engine.dispose()


def test_an_existing_database_file_is_narrowed_to_0600(tmp_path):
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True, "UPLOAD_DIR": str(tmp_path / "u")})
    assert _mode(path) == 0o600


def test_uploads_and_pending_imports_stay_out_of_files(app, tmp_path):
    """They live in the database (issue 16): nothing with personal data is written beside it."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    try:
        stored = uploads.store_bytes(b"%PDF-1.4 test", "pdf", "privacy", "扫描件.pdf")
        token = tabular.stash_rows(1, "test", [{"values": {"身份证号": ""}}])
        assert uploads.read_stored(stored.name) == b"%PDF-1.4 test"
        assert db.session.get(tabular.PendingImport, token) is not None
        assert not any(p.is_file() for p in tmp_path.rglob("*"))
        assert not (Path(app.instance_path) / "pending-imports").exists()
    finally:
        app.config["UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")


def test_backups_are_0600(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("pg_dump writes the PostgreSQL backup; same umask")
    os.umask(0o022)
    create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                "UPLOAD_DIR": app.config["UPLOAD_DIR"]})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "backups" / "zhiyuan.tar.gz")])
    assert result.exit_code == 0, result.output
    written = [p for p in (tmp_path / "backups").rglob("*") if p.is_file()]
    assert written and all(_mode(p) == 0o600 for p in written)
    assert _mode(tmp_path / "backups") == 0o700


# ---- pending imports: removed after confirm and cancel, expire ----------------------------------------

def _pending(token: str):
    db.session.expire_all()
    return db.session.get(tabular.PendingImport, token)


def test_pending_import_is_removed_when_confirmed(app):
    token = tabular.stash_rows(7, "volunteers:1", [{"line": 2}])
    assert tabular.take_rows(token, 8, "volunteers:1") is None and _pending(token)  # not another user's
    assert tabular.take_rows(token, 7, "volunteers:2") is None and _pending(token)  # nor another import
    assert tabular.take_rows(token, 7, "volunteers:1") == [{"line": 2}]
    db.session.commit()
    assert _pending(token) is None
    assert tabular.take_rows(token, 7, "volunteers:1") is None
    assert tabular.take_rows("../../etc/passwd", 7, "volunteers:1") is None


def test_pending_import_expires_and_is_swept(app):
    token = tabular.stash_rows(7, "orgs", [{"line": 2}])
    _pending(token).created_at -= timedelta(seconds=tabular.PENDING_MAX_AGE + 1)
    db.session.commit()
    assert tabular.take_rows(token, 7, "orgs") is None
    db.session.commit()
    assert _pending(token) is None
    old = tabular.stash_rows(7, "orgs", [])
    fresh = tabular.stash_rows(7, "orgs", [])
    _pending(old).created_at -= timedelta(hours=24)
    db.session.commit()
    assert tabular.sweep_pending() == 1
    db.session.commit()
    assert _pending(old) is None and _pending(fresh) is not None
    assert tabular.PENDING_MAX_AGE <= 24 * 3600


def test_cancel_removes_the_pending_import(world, as_role):
    c = as_role("org_leader")
    mine = tabular.stash_rows(world["org_leader"].id, "orgs", [{"line": 2}])
    theirs = tabular.stash_rows(world["district_staff"].id, "orgs", [{"line": 2}])
    resp = c.post("/imports/cancel", data={"token": theirs, "next": "/orgs/import"})
    assert resp.status_code == 303 and _pending(theirs)  # someone else's stays
    resp = c.post("/imports/cancel", data={"token": mine, "next": "/orgs/import"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/orgs/import")
    assert _pending(mine) is None
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert c.post("/imports/cancel", data={"token": "x", "next": bad}).headers["Location"] in ("/", "http://localhost/")
    assert c.post("/imports/cancel", data={"token": mine}, csrf=False).status_code == 400


def test_import_preview_offers_cancel_which_deletes_the_stash(world, as_role):
    import io
    import re

    from blueprints.volunteers import services
    from tests import factories

    row = ["陈晓明", factories.id_number(), "13800000000", "群众", "否", "扶老", "周末", "", "", "", "", ""]
    data = exports.xlsx_bytes("志愿者", services.IMPORT_COLUMNS, [row])
    c = as_role("org_leader")
    resp = c.post("/volunteers/import", data={"organization_id": world["org_a"].id,
                                              "file": (io.BytesIO(data), "v.xlsx")}, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "取消导入" in body and "/imports/cancel" in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    assert _pending(token)
    assert row[1] not in json.dumps(_pending(token).payload)  # the full number is only stored encrypted
    assert c.post("/imports/cancel", data={"token": token, "next": "/volunteers/import"}).status_code == 303
    assert _pending(token) is None


# ---- no ID or phone number in the browser's history or the access log ----------------------------------

@pytest.mark.parametrize("term", [FULL_ID, "44080219900307123x", "440802900307123", PHONE, "+86 138-1234-5678",
                                  "0759-2281234"])
def test_search_with_a_personal_number_never_enters_the_history(as_role, term):
    c = as_role("district_staff")
    resp = c.htmx_get("/volunteers/", query_string={"q": term, "status": "active"})
    assert resp.status_code == 200 and resp.headers.get("HX-Push-Url") == "false"
    resp = c.get("/volunteers/", query_string={"q": term, "status": "active"})  # a full page load
    assert resp.status_code == 303 and resp.headers["Location"] == "/volunteers/?status=active"
    assert "请输入后 4 位" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_ordinary_searches_still_push_their_url(as_role):
    c = as_role("district_staff")
    for term in ("张伟", "1234", "440802000123"):  # a name, a last-4 key, a volunteer number
        resp = c.htmx_get("/volunteers/", query_string={"q": term})
        assert resp.status_code == 200 and "HX-Push-Url" not in resp.headers
        assert c.get("/volunteers/", query_string={"q": term}).status_code == 200
    page = c.get("/volunteers/").get_data(as_text=True)
    assert 'hx-push-url="true"' in page  # the filters keep shareable URLs; only numbers are held back


def test_redact_hides_long_digit_runs():
    line = f'10.0.0.1 - - "GET /volunteers/?q={FULL_ID}&p={PHONE}&x=44080219900307123X&page=2 HTTP/1.1" 200'
    out = privacy.redact(line)
    assert FULL_ID not in out and PHONE not in out and "123X" not in out and "44080219900307123" not in out
    assert "page=2" in out and "HTTP/1.1" in out and out.count(privacy.REDACTED) == 3
    for typed in ("138-1234-5678", "%2B86+138+1234+5678", "138%201234%205678", "440802+19900307+1234"):
        assert privacy.REDACTED in privacy.redact(f"GET /volunteers/?q={typed} HTTP/1.1"), typed
        assert "1234" not in privacy.redact(f"GET /volunteers/?q={typed} HTTP/1.1"), typed
    kept = "GET /ledger/?from=2026-01-01&to=2026-12-31&q=1234&year=2026 HTTP/1.1"
    assert privacy.redact(kept) == kept  # dates, last-4 keys and years stay readable


def test_gunicorn_access_log_is_redacted():
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = privacy.make_gunicorn_logger()(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/volunteers/?q={FULL_ID}", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/volunteers/", "QUERY_STRING": f"q={FULL_ID}", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": f"http://x/volunteers/?q={PHONE}"}
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[("Referer", f"http://x/?q={PHONE}")])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=5))
    line = cfg.access_log_format % logger.atoms_wrapper_class(atoms)
    assert FULL_ID not in line and PHONE not in line and privacy.REDACTED in line and "/volunteers/" in line


def test_gunicorn_conf_loads_the_redacting_logger():
    from gunicorn.config import Config

    namespace: dict = {"__file__": os.path.abspath("gunicorn.conf.py")}
    source = Path("gunicorn.conf.py").read_text()
    exec(compile(source, "gunicorn.conf.py", "exec"), namespace)
    cfg = Config()
    cfg.set("logger_class", namespace["logger_class"])
    assert cfg.logger_class.__name__ == "RedactingGunicornLogger"
    makefile = Path("Makefile").read_text()
    assert "gunicorn --config gunicorn.conf.py" in makefile


def test_werkzeug_request_log_is_redacted(app):
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
                               ("127.0.0.1", "07/Dec/2026", f"GET /volunteers/?q={FULL_ID} HTTP/1.1", "200", "-"), None)
    assert logging.getLogger("werkzeug").filter(record)  # the filter init_privacy attached to the logger
    assert "GET /volunteers/?q=" in record.getMessage() and FULL_ID not in record.getMessage()


def test_database_errors_hide_bound_parameters_in_production(tmp_path):
    prod = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "UPLOAD_DIR": str(tmp_path / "u")})
    dev = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/d.db", "UPLOAD_DIR": str(tmp_path / "u"),
                      "TESTING": True})
    with prod.app_context():
        assert db.engine.hide_parameters is True
        with pytest.raises(Exception) as info, db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": PHONE})
        assert PHONE not in str(info.value)
        db.engine.dispose()
    with dev.app_context():
        assert db.engine.hide_parameters is False
        db.engine.dispose()
