"""The job worker's entry point: `huey_consumer worker.huey` (make run starts it beside gunicorn).

core/jobs.py holds the queue and runs each job inside a Flask app; it must not import the app factory
(core imports no feature and not app.py), so the worker wires the factory in here, as app.py is the
web server's entry point."""
from __future__ import annotations

from app import create_app
from core import jobs
from core.heap import freeze_startup_heap

jobs.set_app_factory(create_app)
huey = jobs.huey


@huey.on_startup()
def build_app_then_freeze() -> None:
    """Each consumer thread at start: the app is built once (the first thread), then the start-up objects
    leave the garbage collector's walks (core/heap.py), as in gunicorn's workers."""
    jobs._app()
    freeze_startup_heap()
