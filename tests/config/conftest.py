from __future__ import annotations

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
