"""Keep the objects that live as long as the process out of the garbage collector's way.

The app holds some 430,000 container objects for its whole life: pypinyin's phrase dictionary alone is
about 190,000 lists, then SQLAlchemy's mappers, Jinja, the blueprints. Python's full (generation 2)
collection walks every one of them, and a busy worker runs one about once a second (each page view's
temporary rows survive the young collections and count towards it): 160–180 ms each at 10× on the 2-core
bench machine, so about one page view in a hundred took that much longer, whatever the page (issue 16:
the p95 outliers of `make bench`, seen on SQLite and PostgreSQL alike).

`freeze_startup_heap()` runs once a process has built its app (gunicorn.conf.py's `post_worker_init`,
worker.py's startup hook): `gc.freeze()` moves everything alive into the permanent generation, which
collections skip. Objects made later (requests, caches) are collected exactly as before; the frozen ones
are still freed when their reference count drops to zero."""
from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_startup_heap() -> int:
    """Collect once, then freeze what is left; returns how many objects are frozen. Once per process: the
    job worker's threads each call it at start, and a second freeze could catch a job's garbage."""
    global _frozen
    with _lock:
        if not _frozen:
            gc.collect()
            gc.freeze()
            _frozen = True
    return gc.get_freeze_count()
