"""The processes that serve pages and run jobs freeze their start-up objects (core/heap.py): otherwise
every full garbage collection walks pypinyin's ~190,000 lists and the app's mappers (issue 16's p95
outliers). Counts, not timings: what is frozen is no longer in the generations a collection walks."""
from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from core import heap


@pytest.fixture
def unfrozen(monkeypatch):
    gc.unfreeze()
    monkeypatch.setattr(heap, "_frozen", False)
    yield
    gc.unfreeze()  # the rest of the test session collects as before


def test_a_process_freezes_once(unfrozen):
    first = heap.freeze_startup_heap()
    gc.unfreeze()  # as if a job had run since: a second call must not freeze its objects
    assert first > 0 and heap.freeze_startup_heap() == gc.get_freeze_count() == 0


def _walked() -> int:
    return sum(len(gc.get_objects(generation=g)) for g in range(3))


def test_freezing_takes_the_start_up_objects_out_of_the_walks(app, unfrozen):
    import pypinyin.phrases_dict  # what the app loads at start: the largest part of its heap

    assert len(pypinyin.phrases_dict.phrases_dict) > 40_000
    before = _walked()
    frozen = heap.freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 150_000
    assert _walked() < before - 150_000


def test_gunicorn_workers_freeze_after_loading_the_app(unfrozen):
    namespace: dict = {"__file__": os.path.abspath("gunicorn.conf.py")}
    exec(compile(Path("gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    namespace["post_worker_init"](None)  # gunicorn calls it in each worker once the app is loaded
    assert gc.get_freeze_count() > 150_000


def test_the_job_worker_builds_its_app_then_freezes(unfrozen, monkeypatch):
    from core import jobs

    monkeypatch.setattr(jobs, "_app_factory", jobs._app_factory)
    monkeypatch.setattr(jobs, "_worker_app", None)
    import worker

    hook = worker.huey._startup["build_app_then_freeze"]  # huey's consumer calls it in each thread
    built = []
    monkeypatch.setattr(jobs, "_app_factory", lambda: built.append(1) or object())
    for _ in range(2):  # two consumer threads (a new thread has no app context of the test's)
        t = threading.Thread(target=hook)
        t.start()
        t.join()
    assert built == [1] and gc.get_freeze_count() > 150_000
