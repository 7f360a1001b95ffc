"""Small hand-built datasets and a runner for the privacy and data-quality check tests."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd

from audit.checks import load_builtin_checks
from audit.core.check import Check
from audit.core.context import AuditContext, ColumnRoles, Dataset
from audit.core.finding import Outcome
from audit.crm.demo import cn_id_check_digit

load_builtin_checks()

AS_OF = date(2025, 6, 30)


def run(check_cls: type[Check], ctx: AuditContext, **params: Any) -> dict[str, Outcome]:
    """Evaluate one check over every applicable subject; outcomes keyed by subject label."""
    check = check_cls()
    p = check_cls.Params(**params)
    out: dict[str, Outcome] = {}
    for kind in check_cls.meta.subjects:
        for subject in ctx.subjects(kind):
            if not check.applies(subject, p, ctx):
                continue
            for o in check.evaluate(subject, p, ctx):
                assert o.subject not in out, f"duplicate subject {o.subject}"
                out[o.subject] = o
    return out


def statuses(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {k: o.status.value for k, o in outcomes.items()}


def dataset(name: str, frame: pd.DataFrame, language_column: str | None = None, **roles: Any) -> Dataset:
    return Dataset(
        name=name,
        frame=frame,
        roles=ColumnRoles(**roles),
        source=f"{name}.csv",
        sha256="0" * 64,
        language_column=language_column,
    )


def context(*datasets: Dataset, models: list[Any] | None = None, scanner: Any = None, seed: int = 0) -> AuditContext:
    ctx = AuditContext(datasets={d.name: d for d in datasets}, models=list(models or []), seed=seed)
    if scanner is not None:
        ctx.memo["pii_scanner"] = scanner  # share the session's scanner instead of loading the model again
    return ctx


def model(name: str, dataset: str, features: list[str], kind: str = "classifier", **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(
        name=name, kind=kind, dataset=dataset, features=features, purpose=extra.pop("purpose", "test"), **extra
    )


def resident_id(born: date, sex: str, area: str = "110105", seq: str = "12") -> str:
    """A valid GB 11643 resident ID for the birth date and sex (17th digit odd = male)."""
    digit = "3" if sex == "male" else "4"
    body = f"{area}{born:%Y%m%d}{seq}{digit}"
    return body + cn_id_check_digit(body)


def days_before(n: int) -> date:
    return AS_OF - timedelta(days=n)
