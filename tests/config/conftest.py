from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.config.loader import load_config
from audit.config.project import context_from_config
from audit.core.context import AuditContext

load_builtin_checks()

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> Any:
    name = "crm_audit_examples_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "generate.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


@pytest.fixture(scope="session")
def gen() -> Any:
    """examples/generate.py as a module: the seeded data behind every example."""
    return _generator()


Build = Callable[..., AuditContext]


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """Write tables and an audit.yaml into tmp_path and build the audit context from them."""

    def _build(config: str, tables: dict[str, pd.DataFrame] | None = None, *, trust_pickle: bool = False) -> AuditContext:
        for name, frame in (tables or {}).items():
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
        cfg_path = tmp_path / "audit.yaml"
        cfg_path.write_text(config, encoding="utf-8")
        cfg, _doc = load_config(cfg_path)
        ctx, _inputs = context_from_config(cfg, base=tmp_path, config_file=str(cfg_path), trust_pickle=trust_pickle)
        return ctx

    return _build
