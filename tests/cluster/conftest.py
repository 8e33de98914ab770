"""The cluster scenario talks to real app servers over HTTP: no app of its own, no database wiping."""
import pytest


@pytest.fixture(autouse=True)
def _db():  # overrides tests/conftest.py's per-test database wipe
    yield
