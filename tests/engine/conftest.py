from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.core.context import AuditContext, ColumnRoles, Dataset

load_builtin_checks()


def small_frame(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "gender": rng.choice(["F", "M"], size=n),
            "age": rng.integers(18, 80, size=n),
            "zip3": rng.choice(["100", "200", "300"], size=n),
            "income": rng.normal(50_000, 10_000, size=n).round(0),
            "email": [f"user{i}@example.com" for i in range(n)],
        }
    )
    # income missing only for women: a planted group gap
    women = df.index[df["gender"] == "F"]
    df.loc[women[: len(women) // 4], "income"] = np.nan
    return df


@pytest.fixture
def ctx() -> AuditContext:
    df = small_frame()
    roles = ColumnRoles(id="customer_id", protected=["gender"], quasi_identifiers=["age", "zip3"])
    ds = Dataset(name="customers", frame=df, roles=roles, source="customers.csv", sha256="0" * 64, bands={"age": [18, 30, 45, 60, 121]})
    return AuditContext(datasets={"customers": ds}, models=[], seed=0)


@pytest.fixture
def write_yaml(tmp_path: Path):
    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return _write
