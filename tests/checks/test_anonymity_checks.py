"""privacy.l_diversity and privacy.uniqueness on a ten-row table computed by hand."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from audit.checks import load_builtin_checks
from audit.core.context import AuditContext, ColumnRoles, Dataset
from audit.core.types import Status

from .runcheck import findings

load_builtin_checks()

AGE_BANDS = [18, 30, 45, 60, 121]




def customers() -> pd.DataFrame:
    """Equivalence classes over (age band, zip3) with the dataset's bands:

    rows 0-2 (18-29, 100), rows 3-5 (30-44, 200), rows 6-7 (45-59, 300),
    row 8 (60-120, 300) and row 9 (60-120, 100) are alone.
    """
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)],
            "age": [23, 27, 25, 41, 44, 38, 52, 55, 67, 70],
            "zip3": ["100", "100", "100", "200", "200", "200", "300", "300", "300", "100"],
            "plan": ["gold", "gold", "silver", "basic", "basic", "gold", "gold", "silver", "basic", "basic"],
            "health_flag": ["no"] * 10,
        }
    )


def context(frame: pd.DataFrame | None = None, **roles: Any) -> AuditContext:
    roles = {
        "id": "customer_id",
        "quasi_identifiers": ["age", "zip3"],
        "sensitive_values": ["plan", "health_flag"],
        **roles,
    }
    ds = Dataset(
        name="customers",
        frame=customers() if frame is None else frame,
        roles=ColumnRoles(**roles),
        source="customers.csv",
        sha256="0" * 64,
        bands={"age": AGE_BANDS},
    )
    return AuditContext(datasets={"customers": ds}, models=[])


def test_uniqueness_with_dataset_bands():
    out = findings("privacy.uniqueness", context())
    assert list(out) == ["dataset:customers"]
    o = out["dataset:customers"]
    # rows 8 and 9 are the only members of their classes
    assert o.status is Status.FAIL and o.observed == pytest.approx(2 / 10) and o.threshold == 0.01
    assert o.evidence == {"unique_rows": 2, "rows": 10}


def test_uniqueness_with_coarser_generalisation():
    # ages 18-44 and 45-120: classes {0,1,2}, {3,4,5}, {6,7,8}, {9}
    o = findings("privacy.uniqueness", context(), generalise={"age": [18, 45, 121]})["dataset:customers"]
    assert o.observed == pytest.approx(1 / 10) and o.evidence["unique_rows"] == 1
    assert o.status is Status.FAIL
    relaxed = findings("privacy.uniqueness", context(), generalise={"age": [18, 45, 121]}, max_unique_rate=0.15)
    assert relaxed["dataset:customers"].status is Status.PASS


def test_uniqueness_missing_quasi_identifier_forms_its_own_class():
    frame = customers()
    frame.loc[[8, 9], "age"] = None
    frame.loc[9, "zip3"] = "300"
    # rows 8 and 9 now share (unknown, 300): nobody is unique
    o = findings("privacy.uniqueness", context(frame))["dataset:customers"]
    assert o.status is Status.PASS and o.observed == 0.0 and o.evidence["unique_rows"] == 0


def test_l_diversity_with_dataset_bands():
    out = findings("privacy.l_diversity", context())
    assert {k: f.status for k, f in out.items()} == {
        "dataset:customers/column:plan": Status.FAIL,
        "dataset:customers/column:health_flag": Status.FAIL,
    }
    plan = out["dataset:customers/column:plan"]
    # distinct plans per class: {gold, silver}=2, {basic, gold}=2, {gold, silver}=2, {basic}=1, {basic}=1
    assert plan.observed == 1 and plan.threshold == 2
    assert plan.evidence == {"classes": 5, "classes_below_l": 2}
    flag = out["dataset:customers/column:health_flag"]
    assert flag.observed == 1 and flag.evidence == {"classes": 5, "classes_below_l": 5}


def test_l_diversity_by_zip_only():
    # one age band for everybody leaves the zip3 classes {0,1,2,9}, {3,4,5}, {6,7,8}
    out = findings("privacy.l_diversity", context(), generalise={"age": [18, 121]})
    plan = out["dataset:customers/column:plan"]
    # {gold, silver, basic}=3, {basic, gold}=2, {gold, silver, basic}=3
    assert plan.status is Status.PASS and plan.observed == 2
    assert plan.evidence == {"classes": 3, "classes_below_l": 0}
    assert out["dataset:customers/column:health_flag"].status is Status.FAIL
    strict = findings("privacy.l_diversity", context(), generalise={"age": [18, 121]}, l=3)
    assert strict["dataset:customers/column:plan"].status is Status.FAIL
    assert strict["dataset:customers/column:plan"].evidence["classes_below_l"] == 1


def test_skips_without_roles():
    out = findings("privacy.l_diversity", context(sensitive_values=[]))
    assert out["dataset:customers"].status is Status.SKIPPED
    assert "roles.sensitive_values" in out["dataset:customers"].message
    # a declared sensitive column that is not in the table is ignored
    out = findings("privacy.l_diversity", context(sensitive_values=["plan", "religion"]))
    assert list(out) == ["dataset:customers/column:plan"]
    out = findings("privacy.uniqueness", context(quasi_identifiers=[]))
    assert out["dataset:customers"].status is Status.SKIPPED
    assert "no quasi-identifiers" in out["dataset:customers"].message
