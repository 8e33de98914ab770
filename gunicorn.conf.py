"""gunicorn settings used by `make run`: access logs without ID or phone numbers (core/privacy.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from core.privacy import make_gunicorn_logger  # noqa: E402

logger_class = make_gunicorn_logger  # gunicorn calls it: a Logger that redacts 7+ digit runs
umask = 0o077  # files gunicorn itself creates (the app sets the same umask for its own)


def post_worker_init(worker):
    """Each worker has loaded the app: its start-up objects leave the garbage collector's walks (core/heap.py)."""
    from core.heap import freeze_startup_heap

    freeze_startup_heap()
