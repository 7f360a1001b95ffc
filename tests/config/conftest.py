from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.config.loader import load_config
from audit.config.project import context_from_config
from audit.core.context import AuditContext
from audit.core.errors import AuditInputError

load_builtin_checks()


def customers(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A small customer table with a binary outcome that depends on tenure."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "age": rng.integers(20, 80, n),
            "tenure": tenure,
            "monthly": rng.normal(60, 15, n).round(2),
            "churn": np.where(rng.random(n) < 1 / (1 + np.exp((tenure - 30) / 10)), "Yes", "No"),
        }
    )


class Project:
    """A folder with audit.yaml and data files, loaded the way `crm-audit run` loads it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, data: str | bytes) -> Path:
        p = self.root / name
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data, encoding="utf-8")
        return p

    def config(self, text: str) -> Path:
        return self.write("audit.yaml", text)

    def load(self) -> AuditContext:
        cfg, _doc = load_config(self.root / "audit.yaml")
        ctx, _inputs = context_from_config(cfg, base=self.root, config_file=str(self.root / "audit.yaml"))
        return ctx

    def error(self) -> str:
        """The rendered input error (exit 2) of loading the project, whitespace-normalised."""
        with pytest.raises(AuditInputError) as exc:
            self.load()
        return " ".join(exc.value.render().split())

    def inputs(self) -> list[dict[str, Any]]:
        cfg, _doc = load_config(self.root / "audit.yaml")
        return context_from_config(cfg, base=self.root, config_file=str(self.root / "audit.yaml"))[1]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


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
