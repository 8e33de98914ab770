"""What the volunteers feature's two view modules share: its blueprints (the registry's `bp`, the
ledger's `ledger_bp`, the public certificate check `public_bp`), who may read and write, and a few
small view helpers. routes.py (the registry) and routes_ledger.py (the ledger) both import from here
and never from each other; app.py registers `bp`, which brings its companions along."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from blueprints.accounts.models import Role
from blueprints.orgs.models import Organization
from blueprints.volunteers.models import Volunteer
from core import auth, scope

bp = Blueprint("volunteers", __name__, url_prefix="/volunteers", cli_group=None)  # its commands join `flask`
ledger_bp = Blueprint("ledger", __name__, url_prefix="/volunteers/records")
public_bp = Blueprint("verify", __name__, url_prefix="/verify")
auth.allow_volunteer("verify.verify_form", "verify.verify")  # a volunteer checks their own certificate too


@bp.record_once
def _register_companions(state) -> None:
    # app.py registers one `bp` per feature; the ledger and the public check are their own blueprints
    # (own nav entry, no login) and come along with it.
    state.app.register_blueprint(ledger_bp)
    state.app.register_blueprint(public_bp)


READERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER, Role.LEADER)
WRITERS = (Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.ORG_LEADER)


def volunteer_or_404(vid: int, write: bool = False) -> Volunteer:
    return scope.get_scoped_or_404(Volunteer, vid, current_user, write=write)


def org_choices(orgs: list[Organization]) -> list[tuple[int, str]]:
    return [(o.id, o.name) for o in orgs]


def field_error(form, error, default: str) -> None:
    """Show a service's error under the field it names (or under `default`)."""
    name = error.field if error.field and hasattr(form, error.field) and getattr(form, error.field) is not None else default
    getattr(form, name).errors = list(getattr(form, name).errors) + [error.message]


# Both view modules add views to these blueprints before app.py registers them: loading the shared
# module loads the ledger's views too (the registry's routes.py imports this module).
from blueprints.volunteers import routes_ledger  # noqa: E402,F401
from blueprints.volunteers.keys import rotate_pii_key_command  # noqa: E402

bp.cli.add_command(rotate_pii_key_command)
