"""A cache every worker and every server shares, keyed by a cheap data version.

- `data_version()`: one integer that changes whenever any business row changes. A one-row counter
  (`data_version` table) is bumped just before COMMIT by every transaction that wrote something
  (ORM flushes and bulk insert/update/delete statements alike), so the new number and the data
  become visible together; bookkeeping tables (sessions, login attempts, the audit log, this cache)
  do not count. Reading it is one primary-key lookup, memoised per request.
- `shared(namespace, key, make)`: the value of `make()` for `key` at the current data version, from
  Redis when `REDIS_URL` is set, else from the `figure_cache` table; computed by the first worker
  that asks, then read by all. Values are pickled; stale versions are simply overwritten.

The home page's figures (core/figures.py), the assessment results and the key figures
(blueprints/assessment/services.py) use it, so a change in the data shows on the next request on
any worker, and a cold worker does not recompute what another already has.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app, has_request_context, request
from sqlalchemy import BigInteger, LargeBinary, String, delete, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.extensions import db
from core.timeutil import utcnow

# Rows of these tables change on every login or page view; they never feed a cached figure.
BOOKKEEPING = {"data_version", "figure_cache", "user_session", "login_attempt", "login_lock", "audit_entry",
               "notification", "job", "job_file"}
_WROTE = "_data_written"


class DataVersion(db.Model):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class FigureCache(db.Model):
    __tablename__ = "figure_cache"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- the data version -----------------------------------------------------------------------------

# Columns that change on every login: a row whose only changes are these does not move the version.
VOLATILE = {"user": {"last_login_at", "failed_logins", "locked_until", "session_token", "updated_at"}}


def _business(obj) -> bool:
    table = getattr(obj, "__tablename__", None)
    return table is not None and table not in BOOKKEEPING


def _changed(session: Session, obj) -> bool:
    if not _business(obj) or not session.is_modified(obj, include_collections=False):
        return False
    volatile = VOLATILE.get(obj.__tablename__)
    if not volatile:
        return True
    from sqlalchemy import inspect as sa_inspect

    state = sa_inspect(obj)
    return any(attr.key not in volatile and attr.history.has_changes() for attr in state.attrs)


# Per-request memos (core/settings.py, the assessment year) that a write in this request makes stale.
_PER_REQUEST = ("settings", "assessment_year")


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _ctx) -> None:
    memo = request_memo()
    for name in _PER_REQUEST:
        memo.pop(name, None)
    if any(_business(o) for o in session.new) or any(_business(o) for o in session.deleted) or any(
            _changed(session, o) for o in session.dirty):
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name not in BOOKKEEPING:
            state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if not session.info.get(_WROTE):
        session.flush()  # what the commit would flush may be the first change
    if not session.info.pop(_WROTE, False):
        return
    if "data_version" not in _known_tables(session):
        return  # a database from before migration 0018 (tests building old schemas)
    if not session.execute(update(DataVersion).where(DataVersion.id == 1)
                           .values(n=DataVersion.n + 1)).rowcount:
        # A counter that starts again (an emptied or a new database) starts from a random base, so that
        # no key built on an old number (a PDF in PDF_CACHE_DIR, a value in Redis) is found again.
        session.execute(insert(DataVersion).values(id=1, n=secrets.randbits(40) << 20))
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_commit")
def _committed(_session: Session) -> None:
    memo = request_memo()
    memo.pop("data_version", None)  # read again: this commit may have bumped it
    memo.pop("shared", None)
    memo.pop("prefetched", None)
    memo.pop("figures", None)
    memo.pop("unread", None)  # blueprints/reports: the person's unread notifications
    for name in _PER_REQUEST:
        memo.pop(name, None)


_TABLES: dict[str, set[str]] = {}


def _known_tables(session: Session) -> set[str]:
    url = str(session.get_bind().url)
    if url not in _TABLES:
        from sqlalchemy import inspect

        # Through the session's own connection: on SQLite another one would wait for this one's lock.
        _TABLES[url] = set(inspect(session.connection()).get_table_names())
        if "data_version" not in _TABLES[url]:
            return _TABLES.pop(url)  # look again next time (a test may create the tables later)
    return _TABLES[url]


def request_memo() -> dict:
    """A dict that lives as long as the current request (a fresh one, unshared, outside requests)."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("zhiyuan.memo", {})


def data_version() -> int:
    """The current data version (memoised for the request: one primary-key read); -1 while this
    session holds uncommitted changes (nothing is then cached under a shared version)."""
    if db.session.info.get(_WROTE) or db.session.new or db.session.deleted:
        return -1
    memo = request_memo()
    if "data_version" not in memo:
        memo["data_version"] = db.session.scalar(select(DataVersion.n).where(DataVersion.id == 1)) or 0
    return memo["data_version"]


# ---- the shared store ------------------------------------------------------------------------------

_REDIS: dict[str, Any] = {}
TTL_SECONDS = 7 * 24 * 3600


def _redis():
    url = current_app.config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    if not url:
        return None
    if url not in _REDIS:
        try:
            import redis  # the job queue's Redis client (requirements.txt of the jobs feature)
        except ImportError:  # not installed: the database table serves as the shared store
            _REDIS[url] = None
        else:
            _REDIS[url] = redis.Redis.from_url(url, socket_timeout=2)
    return _REDIS[url]


def _version_text(version) -> str:
    """A version as stored (figure_cache.version holds 64 characters; a composite version — several data
    versions joined — longer than that is stored as its digest, which PostgreSQL would otherwise refuse
    and SQLite silently keep)."""
    text = str(version)
    return text if len(text) <= 64 else "sha1:" + hashlib.sha1(text.encode()).hexdigest()


def _full_key(namespace: str, key: str) -> str:
    full = f"{namespace}:{key}"
    return f"{namespace}:sha1:{hashlib.sha1(key.encode()).hexdigest()}" if len(full) > 200 else full


def shared(namespace: str, key: str, make: Callable[[], Any], version: str | int | None = None,
           stale: tuple | None = None, stale_group: str | None = None,
           pending: Callable[[], Any] | None = None) -> Any:
    """`make()` for `namespace:key` at `version` (default: the data version), shared by all workers.

    `stale=(refresher, *args)`: a GET request that finds only a value of an older version gets that
    one at once (is_stale() then says so), and `refresher(*args)` (registered with @refresher) runs
    in the job worker to compute the current one (queued once per `stale_group`, default the key); nothing is computed inside the request unless no
    value was ever stored. `pending=placeholder`: not even then: a page view that finds no value of any version
    (a new database, a scope nobody looked at, an emptied Redis) queues the refresh too and gets `placeholder()`
    (is_pending() then says so), so that no page view does the whole computation (issue 16: no request
    does more than ~2 s of work; how soon the value is there depends on the worker: the home page, which
    polls for it, renders it itself after ~30 s, core/dashboard.py).
    With JOBS_IMMEDIATE (tests) the refresh runs at once and its value is used."""
    version = _version_text(data_version() if version is None else version)
    full = _full_key(namespace, key)
    memo = request_memo().setdefault("shared", {})
    if (full, version) in memo:
        return memo[(full, version)]
    cacheable = version != "-1"
    prefetched = any(full.startswith(p) and v == version for p, v in request_memo().get("prefetched", ()))
    value = _load(full, version) if cacheable and not prefetched else None
    if value is None and stale is not None and cacheable and _may_defer() and not _queue_runs_at_once():
        old = _load_any(full)
        if old is not None:
            _refresh_later(stale_group or full, version, stale)
            request_memo().setdefault("stale", set()).add(full)
            memo[(full, version)] = old
            return old
        if pending is not None:
            _refresh_later(stale_group or full, version, stale)
            request_memo().setdefault("pending", set()).add(full)
            return pending()
    if value is None:
        before = len(request_memo().get("stale", ()))
        value = make()
        if len(request_memo().get("stale", ())) > before:
            # Made from an older value of another key (answered stale): not kept under this version.
            request_memo()["stale"].add(full)
        elif cacheable:
            _store(full, version, value)
    memo[(full, version)] = value
    return value


def scalar(stmt, namespace: str = "count"):
    """`db.session.scalar(stmt)` kept per data version and day in the shared store: a list's total,
    which would otherwise count tens of thousands of rows on every page view (issue 16). The key is the
    statement's SQL and its parameters, so whatever decides the answer (the user's scope, the filters)
    is in the key by construction. Rows of this namespace are swept a day after they were stored."""
    return shared_for_day(namespace, digest(statement_text(stmt)), lambda: db.session.scalar(stmt))


def choices(stmt) -> list:
    """`db.session.scalars(stmt)` as a list, kept like scalar(): a picker's suggestions that read every row
    of the scope (the 工作单位 of a district's volunteers: ~50 ms at 10× on PostgreSQL)."""
    return shared_for_day("choices", digest(statement_text(stmt)), lambda: list(db.session.scalars(stmt)))


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def shared_for_day(namespace: str, key: str, make: Callable[[], Any]) -> Any:
    """shared() at the data version and today's date (what is shown may depend on the day)."""
    from core.timeutil import local_today

    version = data_version()
    return shared(namespace, key, make, version="-1" if version < 0 else f"{version}-{local_today().isoformat()}")


_SQL_TEXT: dict = {}  # a statement's structure (SQLAlchemy's cache key) → its SQL, in this process


def statement_text(stmt) -> str:
    """The SQL of `stmt` with its parameter values: compiled once per statement shape (compiling costs
    about a millisecond), the values taken from SQLAlchemy's own cache key."""
    ck = stmt._generate_cache_key()
    if ck is None:  # a statement SQLAlchemy cannot cache: compile it each time
        compiled = stmt.compile(dialect=db.engine.dialect)
        return f"{compiled}|{sorted((k, repr(v)) for k, v in compiled.params.items())}"
    sql = _SQL_TEXT.get(ck.key)
    if sql is None:
        if len(_SQL_TEXT) > 2000:
            _SQL_TEXT.clear()
        sql = _SQL_TEXT[ck.key] = str(stmt.compile(dialect=db.engine.dialect))
    return f"{sql}|{[repr(b.effective_value) for b in ck.bindparams]}"


SWEPT_NAMESPACES = ("count", "rows", "choices")  # values cheap to make again, and one key per distinct query


def sweep(session, now, keep=timedelta(days=1)) -> None:
    """Delete shared values of SWEPT_NAMESPACES stored more than `keep` ago (run hourly by the job
    worker's cleanup); the figures keep their last value (it serves a page view after a change)."""
    for namespace in SWEPT_NAMESPACES:
        session.execute(delete(FigureCache).where(FigureCache.key.startswith(f"{namespace}:"),
                                                  FigureCache.created_at < now - keep))


def is_pending(namespace: str, key: str) -> bool:
    """Whether shared(namespace, key, …, pending=…) answered this request with its placeholder."""
    return _full_key(namespace, key) in request_memo().get("pending", ())


def is_stale(namespace: str, key: str) -> bool:
    """Whether shared(namespace, key, …, stale=…) answered this request with an older version's value."""
    return _full_key(namespace, key) in request_memo().get("stale", ())


# ---- refreshing in the background (stale-while-revalidate) ------------------------------------------

_REFRESHERS: dict[str, Callable] = {}
REFRESH_RETRY_SECONDS = 300  # a refresh asked for but never done (no worker running) is asked again


def refresher(name: str):
    """Register `fn(*args)` that recomputes (and stores) a shared value: the job worker calls it."""
    def deco(fn: Callable) -> Callable:
        _REFRESHERS[name] = fn
        return fn

    return deco


def _may_defer() -> bool:
    # Only a page view answers with an older value; a write request (and a job) computes what it needs.
    from flask import g

    return has_request_context() and request.method in ("GET", "HEAD") and not g.get("in_job_worker")


def _queue_runs_at_once() -> bool:
    from core.jobs import huey

    return bool(huey.immediate)


def _load_any(full: str):
    """The last stored value under `full`, of whatever version (one row per key)."""
    older = request_memo().get("older", {})
    if full in older:  # read by prefetch() with the current ones
        try:
            return pickle.loads(older[full])
        except (pickle.PickleError, EOFError, AttributeError, ImportError):
            return None
    try:
        r = _redis()
        if r is not None:
            last = r.get(f"zhiyuan-last:{full}")
            blob = None if last is None else r.get(f"zhiyuan:{full}:{last.decode()}")
        else:
            blob = db.session.execute(select(FigureCache.value).where(FigureCache.key == full)).scalar()
        return None if blob is None else pickle.loads(blob)
    except (SQLAlchemyError, OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return None


def _refresh_later(full: str, version: str, stale: tuple) -> None:
    """Queue stale[0](*stale[1:]) once per (key, version): a marker row says it was asked for."""
    name, args = stale[0], tuple(stale[1:])
    marker = f"refresh:{full}"
    asked = request_memo().setdefault("refresh_asked", set())
    if (marker, version) in asked:
        return
    asked.add((marker, version))
    try:
        r = _redis()
        if r is not None:
            if not r.set(f"zhiyuan:{marker}:{version}", b"1", nx=True, ex=REFRESH_RETRY_SECONDS):
                return
        else:
            def asked_already(row) -> bool:
                return row is not None and row.version == version and (
                    utcnow() - row.created_at).total_seconds() < REFRESH_RETRY_SECONDS

            # Read first (a page polling for its figures asks every 2 s): the write lock only to ask.
            if asked_already(db.session.execute(select(FigureCache.version, FigureCache.created_at)
                                                .where(FigureCache.key == marker)).first()):
                return
            with db.engine.connect().execution_options(write=True) as conn, conn.begin():
                row = conn.execute(select(FigureCache.version, FigureCache.created_at)
                                   .where(FigureCache.key == marker)).first()
                if asked_already(row):
                    return
                conn.execute(delete(FigureCache).where(FigureCache.key == marker))
                conn.execute(insert(FigureCache).values(key=marker, version=version, value=b"", created_at=utcnow()))
    except (SQLAlchemyError, OSError):
        return  # a busy store: the next page view asks again
    _enqueue(name, args)


_WARMERS: list[Callable] = []


def warmer(fn: Callable) -> Callable:
    """Register `fn()`: a value that pages keep fresh on purpose (never answered stale: whether a volunteer
    is insured today), computed by the job worker right after a change, when it renders the home page
    again (`home.render`), so that the first page that needs it finds it stored."""
    if fn not in _WARMERS:
        _WARMERS.append(fn)
    return fn


def warm() -> None:
    import logging

    for fn in _WARMERS:
        try:
            fn()
        except Exception:  # noqa: BLE001 (a warmer that fails leaves the page to compute it, as before)
            logging.getLogger("zhiyuan.cache").warning("cache warmer %s failed", fn.__name__, exc_info=True)


def _enqueue(name: str, args: tuple) -> None:
    try:
        refresh_task(name, list(args))
    except Exception:  # noqa: BLE001 (a queue that cannot be reached: the value stays stale, the page works)
        import logging

        logging.getLogger("zhiyuan.cache").warning("cache refresh %s not queued", name, exc_info=True)


def _run_refresh(name: str, args: list) -> None:
    from flask import g

    from core import jobs

    fn = _REFRESHERS.get(name)
    if fn is None:
        return
    app = jobs._app()  # the worker's app (the web request's own one when run at once, in tests)
    with app.app_context(), app.test_request_context("/"):
        g.in_job_worker = True
        try:
            fn(*args)
        finally:
            db.session.remove()


def _make_refresh_task():
    from core.jobs import huey

    return huey.task()(_run_refresh)


refresh_task = _make_refresh_task()


def prefetch(namespace: str, prefix: str, version: str | int) -> None:
    """Load every stored value under `namespace:prefix` at `version` into this request's memo in one
    query (a home page shows some 40 figures of one scope). Redis answers single keys fast enough."""
    version = _version_text(version)
    memo = request_memo()
    done = memo.setdefault("prefetched", set())
    start = f"{namespace}:{prefix}"
    if (start, version) in done or version == "-1" or not has_request_context():
        return
    done.add((start, version))
    try:
        if _redis() is not None:
            return
        # SQLite compares bytes: a key range uses the primary key. Elsewhere the collation may not
        # order by code point, so a plain prefix match is the safe form.
        where = ((FigureCache.key >= start) & (FigureCache.key < start + "\uffff")
                 if db.engine.dialect.name == "sqlite" else FigureCache.key.startswith(start, autoescape=True))
        # Every version: the older values serve a page view while the worker computes the new ones.
        rows = db.session.execute(select(FigureCache.key, FigureCache.version, FigureCache.value).where(where)).all()
    except SQLAlchemyError:
        return
    shared_memo = memo.setdefault("shared", {})
    older = memo.setdefault("older", {})
    for key, row_version, blob in rows:
        if row_version != version:
            older[key] = blob
            continue
        try:
            shared_memo[(key, version)] = pickle.loads(blob)
        except (pickle.PickleError, EOFError, AttributeError, ImportError):
            continue


def _load(full: str, version: str):
    try:
        r = _redis()
        if r is not None:
            blob = r.get(f"zhiyuan:{full}:{version}")
        else:
            blob = db.session.execute(select(FigureCache.value).where(
                FigureCache.key == full, FigureCache.version == version)).scalar()
        return None if blob is None else pickle.loads(blob)
    except (SQLAlchemyError, OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return None


def _store(full: str, version: str, value) -> None:
    if has_request_context() and request.method not in ("GET", "HEAD"):
        return  # its session may hold SQLite's write lock: a second connection would wait for it
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        r = _redis()
        if r is not None:
            ttl = 24 * 3600 if full.split(":", 1)[0] in SWEPT_NAMESPACES else TTL_SECONDS
            r.set(f"zhiyuan:{full}:{version}", blob, ex=ttl)
            r.set(f"zhiyuan-last:{full}", version.encode(), ex=ttl)
            return
        # Its own short transaction: the request's session may be read-only or be rolled back.
        # (BEGIN IMMEDIATE on SQLite: a writer from the start, never a reader turned writer.)
        with db.engine.connect().execution_options(write=True) as conn, conn.begin():
            conn.execute(delete(FigureCache).where(FigureCache.key == full))
            conn.execute(insert(FigureCache).values(key=full, version=version, value=blob, created_at=utcnow()))
    except (SQLAlchemyError, OSError):  # a busy database or Redis: the value is simply not kept
        pass


# In-process copies of shared values (a module's own memo, keyed by the data version): emptied by clear().
LOCAL_MEMOS: list[dict] = []


_LOCAL_ROWS: dict = {}
LOCAL_MEMOS.append(_LOCAL_ROWS)


def local_rows(stmt) -> list:
    """The rows of a small column select (a filter's choices: regions, organizations), read once per data
    version in this process. Plain rows, not ORM objects: safe to keep beyond the request's session."""
    version = data_version()
    if version < 0:
        return list(db.session.execute(stmt))
    if _LOCAL_ROWS.get("version") != version or len(_LOCAL_ROWS) > 500:
        _LOCAL_ROWS.clear()
        _LOCAL_ROWS["version"] = version
    key = statement_text(stmt)
    if key not in _LOCAL_ROWS:
        _LOCAL_ROWS[key] = list(db.session.execute(stmt))
    return _LOCAL_ROWS[key]


def clear() -> None:
    """Forget every shared value (the bench's cold runs; tests), and this process's copies."""
    for memo in LOCAL_MEMOS:
        memo.clear()
    r = _redis()
    if r is not None:
        for pattern in ("zhiyuan:*", "zhiyuan-last:*"):
            for k in r.scan_iter(pattern):
                r.delete(k)
    with db.engine.begin() as conn:
        conn.execute(delete(FigureCache))
    request_memo().pop("shared", None)
