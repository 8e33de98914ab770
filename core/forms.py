"""Form pieces shared by features."""
from __future__ import annotations

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A one-button POST (approve, deactivate, logout): only the CSRF token."""


def form_errors_status(form) -> int:
    return 422 if form.errors else 200
