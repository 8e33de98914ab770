"""Shared core modules: encrypted personal data, configurable settings, checked uploads."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from core import pii, settings, uploads
from core.extensions import db


def _png(size=(4, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


# ---- pii ----------------------------------------------------------------------------------------

def test_id_number_round_trips_encrypted_and_never_stored_in_clear(app):
    with app.app_context():
        token = pii.encrypt(" 11010519491231002x ")
        assert "11010519491231002" not in token
        assert pii.decrypt(token) == "11010519491231002X"


def test_lookup_hash_is_stable_case_insensitive_and_not_the_number(app):
    with app.app_context():
        h = pii.lookup_hash("11010519491231002x")
        assert h == pii.lookup_hash("11010519491231002X ")
        assert h != pii.lookup_hash("110105194912310037")
        assert "1101051949" not in h and len(h) == 64


def test_decrypt_with_another_key_is_a_clear_error(app):
    with app.app_context():
        token = pii.encrypt("110105194912310037")
        old = app.config["PII_KEY"]
        app.config["PII_KEY"] = "another-key"
        try:
            with pytest.raises(pii.PiiError):
                pii.decrypt(token)
        finally:
            app.config["PII_KEY"] = old


def test_last4_is_the_only_searchable_part():
    assert pii.last4("11010519491231002x") == "002X"
    assert pii.last4(None) == ""


# ---- settings -----------------------------------------------------------------------------------

def test_unsaved_setting_answers_the_policy_default(app):
    with app.app_context():
        assert settings.get_int("stations.city_min", 30) == 30
        assert settings.get_decimal("x.rate", "0.13") == Decimal("0.13")
        assert settings.get_list("orgs.kinds", ["a"]) == ["a"]


def test_saved_setting_is_read_back_typed_and_audited(app):
    from sqlalchemy import select

    from core.audit import AuditEntry

    with app.app_context():
        settings.set_value("stations.city_min", 40)
        settings.set_value("x.rate", Decimal("0.15"))
        settings.set_value("orgs.kinds", ["社区志愿服务队", "青年志愿服务队"])
        db.session.commit()
        assert settings.get_int("stations.city_min", 30) == 40
        assert settings.get_decimal("x.rate", "0.13") == Decimal("0.15")
        assert settings.get_list("orgs.kinds", []) == ["社区志愿服务队", "青年志愿服务队"]
        labels = db.session.scalars(select(AuditEntry.entity_label)).all()
        assert "系统设置：站点目标：全市最少站点数" in labels


def test_wrongly_typed_setting_falls_back_to_default(app):
    with app.app_context():
        settings.set_value("stations.city_min", "many")
        settings.set_value("flag", "yes")
        db.session.commit()
        assert settings.get_int("stations.city_min", 30) == 30
        assert settings.get_bool("flag", False) is False


# ---- uploads ------------------------------------------------------------------------------------

def test_image_is_stored_under_a_random_name_and_served_back(app, tmp_path):
    with app.test_request_context():
        app.config["UPLOAD_DIR"] = str(tmp_path)
        stored = uploads.save(_file(_png(), "../../etc/passwd.png"), "stations")
        assert stored.name.startswith("stations/") and stored.name.endswith(".png")
        assert ".." not in stored.name and stored.original_name == "passwd.png"
        resp = uploads.send_stored(stored.name)
        resp.direct_passthrough = False
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
        resp.close()


@pytest.mark.parametrize("data,name,message", [
    (b"MZ\x90\x00 not an image", "photo.png", "文件类型不支持"),
    (b"%PDF-1.7 fake", "scan.jpg", "文件类型不支持"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "broken.png", "图片文件已损坏"),
    (b"", "empty.png", "文件是空的"),
])
def test_refused_uploads_say_why(app, tmp_path, data, name, message):
    with app.test_request_context():
        app.config["UPLOAD_DIR"] = str(tmp_path)
        with pytest.raises(uploads.UploadError) as err:
            uploads.save(_file(data, name), "stations")
        assert message in err.value.message
        db.session.flush()
        assert db.session.query(uploads.FileBlob).count() == 0


def test_oversized_upload_is_refused(app, tmp_path):
    with app.test_request_context():
        app.config["UPLOAD_DIR"] = str(tmp_path)
        with pytest.raises(uploads.UploadError) as err:
            uploads.save(_file(_png((600, 600)), "big.png"), "stations", max_bytes=1024)
        assert "文件过大" in err.value.message


@pytest.mark.parametrize("name", ["../instance/secret_key", "stations/../../x.png", "/etc/passwd",
                                  "stations/abc.png", "stations/" + "0" * 32 + ".exe", None, ""])
def test_names_we_could_not_have_made_are_not_served(app, tmp_path, name):
    from werkzeug.exceptions import NotFound

    with app.test_request_context():
        app.config["UPLOAD_DIR"] = str(tmp_path)
        assert uploads.read_stored(name) is None
        with pytest.raises(NotFound):
            uploads.send_stored(name)


# ---- reverse proxy ------------------------------------------------------------------------------

def test_forwarded_client_address_is_trusted_only_when_configured():
    from flask import request

    from app import create_app

    seen = []
    for proxies in (0, 1):
        app = create_app({"TESTING": True, "TRUSTED_PROXIES": proxies,
                          "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        app.add_url_rule("/_ip", "ip", lambda: request.remote_addr)
        seen.append(app.test_client().get("/_ip", headers={"X-Forwarded-For": "10.9.8.7"},
                                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True))
    assert seen == ["127.0.0.1", "10.9.8.7"]


# ---- phones inside free text --------------------------------------------------------------------

@pytest.mark.parametrize("text,shown", [
    ("王老师 13812345678", "王老师 138****5678"),
    ("电话 0759-3312345，或 138 1234 5678", "电话 0759-*****45，或 138****5678"),
    ("身份证 440802199001011234 不是电话", "身份证 440802199001011234 不是电话"),
    ("上午 9:00 前到达", "上午 9:00 前到达"),
    ("", ""),
])
def test_phones_inside_free_text_are_masked(text, shown):
    from core.templating import mask_phones_in_text

    assert mask_phones_in_text(text) == shown


def test_an_unreadable_number_or_date_gets_one_message_not_two(app):
    from wtforms.validators import InputRequired, NumberRange

    from core.forms import DateField, IntegerField
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    class F(FlaskForm):
        n = IntegerField("n", validators=[InputRequired("请填写"), NumberRange(0, 10, "请填写 0–10 的整数")])
        d = DateField("d", validators=[InputRequired("请填写")])

    with app.test_request_context():
        form = F(MultiDict({"n": "abc", "d": "2026-13-45"}), meta={"csrf": False})
        assert not form.validate()
        assert form.errors["n"] == ["请填写整数"]
        assert len(form.errors["d"]) == 1 and "YYYY-MM-DD" in form.errors["d"][0]
        form = F(MultiDict({"n": "11", "d": "2026-01-01"}), meta={"csrf": False})
        assert not form.validate() and form.errors == {"n": ["请填写 0–10 的整数"]}


# ---- module boundaries --------------------------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _imported_modules(path, root=ROOT) -> set[str]:
    """Every module a file imports, at module level or inside functions (relative imports resolved
    against the file's package)."""
    import ast

    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _touches(imported: set[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in imported)


@pytest.mark.parametrize("path", sorted((ROOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_imports_no_feature_and_not_the_app(path):
    imported = _imported_modules(path)
    assert not _touches(imported, "blueprints"), f"core/{path.name} imports a feature"
    assert not _touches(imported, "app"), f"core/{path.name} imports app.py"


@pytest.mark.parametrize("path", sorted((ROOT / "blueprints").glob("*/models.py")), ids=lambda p: p.parent.name)
def test_models_import_no_services_or_routes(path):
    # A model may use other features' models; never a services/routes/workflow module (its own or
    # another feature's): the labels a model shows live next to it.
    imported = _imported_modules(path)
    feature_modules = {name.split(".")[2] for name in imported
                       if name.startswith("blueprints.") and len(name.split(".")) > 2}
    assert feature_modules <= {"models"}, f"blueprints.{path.parent.name}.models imports {feature_modules}"


def test_volunteers_view_modules_do_not_import_each_other():
    registry = ROOT / "blueprints" / "volunteers" / "routes.py"
    ledger = ROOT / "blueprints" / "volunteers" / "routes_ledger.py"
    assert not _touches(_imported_modules(registry), "blueprints.volunteers.routes_ledger")
    assert not _touches(_imported_modules(ledger), "blueprints.volunteers.routes")


def test_the_import_checker_sees_imports_inside_functions(tmp_path):
    # The boundary tests above are only worth something if a nested or relative import is caught.
    (tmp_path / "core").mkdir()
    sample = tmp_path / "core" / "sample.py"
    sample.write_text("def f():\n    from blueprints.orgs.models import Organization\n"
                      "from .x import y\nimport app\n", encoding="utf-8")
    imported = _imported_modules(sample, root=tmp_path)
    assert _touches(imported, "blueprints") and _touches(imported, "app") and "core.x.y" in imported


# ---- page or partial ------------------------------------------------------------------------------

def test_a_page_or_partial_answer_says_it_varies_by_hx_request(app):
    from core.templating import render_htmx

    asked = []
    with app.test_request_context(headers={"HX-Request": "true"}):
        resp = render_htmx("errors/error.html", "_macros/forms.html",
                           page_context=lambda: asked.append(1) or {}, code=400, title="t", text="x")
        assert "HX-Request" in resp.vary and not asked  # the partial: page-only context never computed
    with app.test_request_context():
        resp = render_htmx("errors/error.html", "_macros/forms.html", page=3, status="x",
                           page_context=lambda: asked.append(1) or {}, code=404, title="标题", text="正文")
        assert "HX-Request" in resp.vary and asked == [1] and resp.status_code == 200
        assert "正文" in resp.get_data(as_text=True)


def test_no_feature_sets_vary_by_hand():
    # A page-or-partial URL answers through core.templating.render_htmx / vary_hx, never a local copy.
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "blueprints").rglob("*.py")
                 if "vary.add" in p.read_text(encoding="utf-8") or '"Vary"' in p.read_text(encoding="utf-8")
                 or "def _vary" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_every_import_preview_is_the_shared_macro():
    # The preview table of an uploaded file (summary, confirm button, rows with their problems) has one
    # home: templates/_macros/imports.html. A second copy in a feature's template is a regression.
    macro = ROOT / "templates" / "_macros" / "imports.html"
    copies = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
              if p != macro and "selectattr('errors')" in p.read_text(encoding="utf-8")]
    users = [p.parent.name for p in (ROOT / "templates").rglob("import.html")
             if "import_preview(" in p.read_text(encoding="utf-8")]
    assert copies == []
    assert sorted(users) == ["exchange", "insurance", "orgs", "regions", "themes", "volunteers"]
