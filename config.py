"""Settings read from the environment. Nothing secret is a constant in the code."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _instance_secret(name: str, nbytes: int = 32) -> str:
    """Read a secret kept in instance/, generating it once on first use."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        # O_EXCL: two workers starting at once must agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(value)
        except FileExistsError:
            pass
    return path.read_text().strip()


KEYS_REQUIRED = (
    "数据库不是 SQLite（{db}），必须在环境变量中设置 {missing}：多台应用服务器共用一个数据库时，"
    "每台必须使用相同的密钥，不能各自生成。请用 `python -c \"import secrets; print(secrets.token_urlsafe(32))\"` "
    "生成并妥善保管（PII_KEY 丢失后已加密的身份证号无法恢复），详见 docs/deployment.md。"
)


def ensure_keys(config) -> None:
    """SECRET_KEY and PII_KEY: kept as given; with SQLite generated once into instance/ when missing;
    with any other database (PostgreSQL: possibly several app servers) a missing key stops the app,
    since a key generated per server would split sessions and make personal data unreadable
    across servers (issue 16)."""
    missing = [name for name in ("SECRET_KEY", "PII_KEY") if not config.get(name)]
    if not missing:
        return
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not uri.startswith("sqlite"):
        raise RuntimeError(KEYS_REQUIRED.format(db=uri.split(":", 1)[0], missing=" 和 ".join(missing)))
    for name in missing:
        config[name] = _instance_secret(name.lower())


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class Config:
    def __init__(self) -> None:
        # From the environment; with SQLite (one server) generated into instance/ when unset, with
        # PostgreSQL required (ensure_keys, called by create_app once the database is known).
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        # Key for the encrypted personal data columns (ID numbers); kept apart from SECRET_KEY
        # so that rotating sessions does not make stored data unreadable.
        self.PII_KEY = os.environ.get("PII_KEY") or None
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'zhiyuan.db'}"
        )
        # hide_parameters: a database error in the log never prints the values (names, phone numbers);
        # create_app turns it off under TESTING/DEBUG.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # A server restart must not fail the next request of each pooled connection. (SQLite has no
            # server to lose: no ping, one round trip less per request, issue 16.)
            self.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] = True
            # Wait at most this long for a row lock, then answer 503 "系统繁忙" (core/security.py);
            # SQLite's counterpart is the busy timeout (core/extensions.py).
            self.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] = {
                "options": f"-c lock_timeout={_int('DB_LOCK_TIMEOUT_MS', 10000)}"}
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 20) * 1024 * 1024
        self.MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
        # Sessions: idle timeout and absolute lifetime (minutes).
        self.IDLE_TIMEOUT_MINUTES = _int("IDLE_TIMEOUT_MINUTES", 30)
        self.SESSION_LIFETIME_MINUTES = _int("SESSION_LIFETIME_MINUTES", 12 * 60)
        self.LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 5)
        # Login throttles (database-backed, shared by all workers): failures per address within a
        # window, and failures per minute across all addresses beyond which every failing address
        # waits a minute between tries.
        self.LOGIN_IP_MAX_FAILURES = _int("LOGIN_IP_MAX_FAILURES", 30)
        self.LOGIN_IP_WINDOW_MINUTES = _int("LOGIN_IP_WINDOW_MINUTES", 15)
        self.LOGIN_GLOBAL_MAX_FAILURES = _int("LOGIN_GLOBAL_MAX_FAILURES", 60)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
        self.SESSION_COOKIE_NAME = "zhiyuan_session"
        self.WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token
        # Number of reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto are
        # trusted only then, so per-client throttles count real clients and cookies turn Secure.
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        self.ORG_APPLY_MAX_PER_HOUR = _int("ORG_APPLY_MAX_PER_HOUR", 10)
        self.OFFICE_NAME = os.environ.get("OFFICE_NAME", "湛江市文明办")
        self.SMTP_HOST = os.environ.get("SMTP_HOST", "")
        self.SMTP_PORT = _int("SMTP_PORT", 25)
        self.SMTP_FROM = os.environ.get("SMTP_FROM", "")
        self.PDF_CACHE_DIR = os.environ.get("PDF_CACHE_DIR", str(INSTANCE_DIR / "pdf-cache"))
        # Base of every absolute link printed on a PDF or sent by e-mail (core/urls.py public_url):
        # never taken from the request's Host header.
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
        # Host names the app answers to (comma-separated; Flask refuses others with 400). Unset: any.
        self.TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None
        # Public duplicate-name check of the application form, per client address and minute.
        self.ORG_CHECK_MAX_PER_MINUTE = _int("ORG_CHECK_MAX_PER_MINUTE", 60)
        # Imports (core/tabular.py): data rows per file, the file, an XLSX once unzipped.
        self.IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 50000)
        self.IMPORT_MAX_MB = _int("IMPORT_MAX_MB", 10)
        self.IMPORT_MAX_UNZIPPED_MB = _int("IMPORT_MAX_UNZIPPED_MB", 160)
        self.IMPORT_INLINE_KB = _int("IMPORT_INLINE_KB", 256)  # larger uploads are previewed by a job
        self.IMPORT_INLINE_MAX_ROWS = _int("IMPORT_INLINE_MAX_ROWS", 20000)  # imports previewed in the request
        # Background jobs (core/jobs.py): Redis when set (shared by every server), else SQLite in instance/.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.JOB_KEEP_DAYS = _int("JOB_KEEP_DAYS", 7)
        self.JOB_PII_KEEP_HOURS = _int("JOB_PII_KEEP_HOURS", 24)
        self.JOBS_IMMEDIATE = os.environ.get("JOBS_IMMEDIATE", "0") == "1"
        self.TESTING = False
