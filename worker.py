"""The job worker's entry point: `huey_consumer worker.huey` (make run starts it beside gunicorn).

core/jobs.py holds the queue and runs each job inside a Flask app; it must not import the app factory
(core imports no feature and not app.py), so the worker wires the factory in here, as app.py is the
web server's entry point."""
from __future__ import annotations

from app import create_app
from core import jobs

jobs.set_app_factory(create_app)
huey = jobs.huey
