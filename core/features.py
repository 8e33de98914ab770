"""The feature list: one entry per folder under blueprints/, read by app.py (models, routes, figures)
and by core/cli.py (demo data), so neither imports the other. A feature is found by its module names
(`blueprints.<name>.models`, `.routes`, `.figures`, `.seed`); core never imports a feature by name."""
from __future__ import annotations

import importlib
from types import ModuleType

# In dependency order (demo data is seeded in this order).
FEATURES = [
    "home", "regions", "orgs", "stations", "accounts", "volunteers", "activities", "themes", "reports",
    "insurance", "funding", "awards", "training", "projects", "assessment", "audit", "search", "jobs", "portal",
    "settings", "rewards", "exchange",
]


def optional_module(module: str) -> ModuleType | None:
    """Import a feature's module if the feature has it (not every feature has models or a seed)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


def feature_modules(kind: str) -> list[tuple[str, ModuleType]]:
    """Import `blueprints/<name>/<kind>.py` of each feature that has one; (name, module) in FEATURES order."""
    found = [(name, optional_module(f"blueprints.{name}.{kind}")) for name in FEATURES]
    return [(name, module) for name, module in found if module is not None]
