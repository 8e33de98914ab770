"""The app factory: config, extensions, blueprints, error handlers, CLI. Nothing else lives here."""
from __future__ import annotations

import logging
import os

from flask import Flask

from core.features import FEATURES, feature_modules, optional_module


def import_models() -> None:
    """Import every feature's models so that SQLAlchemy and Alembic see all tables."""
    import core.audit  # noqa: F401  (AuditEntry)
    import core.jobs  # noqa: F401  (Job: background work and its progress)
    import core.settings  # noqa: F401  (Setting: configurable targets and option lists)
    import core.tabular  # noqa: F401  (PendingImport: import previews awaiting confirmation)
    import core.uploads  # noqa: F401  (FileBlob: uploaded files, shared by every app server)
    import core.cache  # noqa: F401  (DataVersion, FigureCache: the cache all workers share)

    feature_modules("models")


def create_app(config: dict | None = None) -> Flask:
    from config import INSTANCE_DIR, Config, ensure_keys
    from core.auth import enforce_session_limits
    from core.cli import register_cli
    from core.extensions import csrf, db, login_manager, migrate
    from core.privacy import init_privacy, restrict_file_modes
    from core.security import init_security
    from core.templating import init_templating
    from core.urls import init_public_urls

    restrict_file_modes()  # before anything is written: database, uploads, pending imports are 0600
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(Config())
    if config:
        app.config.update(config)
    ensure_keys(app.config)  # PostgreSQL without SECRET_KEY/PII_KEY in the environment: refuse to start
    if app.testing or app.debug:  # bound parameters in database errors: only while developing
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": False}
    os.makedirs(app.config["UPLOAD_DIR"], exist_ok=True)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)

    # Every `<int:…>` in a URL is bounded to the database's INTEGER range: a huge id is a plain
    # 404, never an overflow inside the driver (a 500).
    from core.security import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter

    import_models()
    for name in FEATURES:
        module = optional_module(f"blueprints.{name}.routes")
        if module is not None:
            app.register_blueprint(module.bp)
        optional_module(f"blueprints.{name}.figures")  # its headline figures (core/figures.py)

    from core.timing import init_timing

    init_timing(app)  # first: Server-Timing covers the other hooks too
    from core.extensions import init_read_only_requests

    init_read_only_requests(app)  # before the session check's query
    app.before_request(enforce_session_limits)
    init_security(app)
    init_templating(app)
    init_privacy(app)
    register_cli(app)
    init_public_urls(app)
    from core.jobs import init_jobs

    init_jobs(app)
    return app
