"""Locate the shipped policy packs and templates, in a checkout or an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _resolve(packaged: str, checkout: str) -> Path:
    inside = Path(str(resources.files("audit"))) / packaged
    if inside.is_dir():
        return inside
    candidate = _REPO_ROOT / checkout
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(
        f"crm-audit data folder {checkout!r} not found (looked in {inside} and {candidate}); reinstall the package"
    )


def policies_dir() -> Path:
    return _resolve("_policies", "policies")


def templates_dir() -> Path:
    return _resolve("_templates", "templates")


def schemas_dir() -> Path:
    return _resolve("_schemas", "schemas")
