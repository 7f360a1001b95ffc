"""pii.direct_identifiers: which columns identify a person, and which models use them as features."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from audit.checks.privacy.pii import DirectIdentifiers
from audit.core.types import Severity, Status

from .helpers import context, dataset, model, resident_id, run, statuses

FIRST = ["Alice", "Brian", "Chloe", "Daniel", "Emma", "Frank", "Grace", "Henry", "Isla", "James"]
LAST = ["Walker", "Hughes", "Morgan", "Turner", "Patel", "Evans"]


def crm_frame(n: int = 60) -> pd.DataFrame:
    names = [f"{FIRST[i % 10]} {LAST[i % 6]}" for i in range(n)]
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "full_name": names,
            "email": [f"{n.lower().replace(' ', '.')}{i}@example.com" for i, n in enumerate(names)],
            "mobile": [f"138{10000000 + 7919 * i:08d}" for i in range(n)],
            "doc_no": [
                resident_id(date(1970 + i % 30, 1 + i % 12, 1 + i % 28), "male" if i % 2 else "female")
                for i in range(n)
            ],
            "segment": ["gold", "silver", "bronze"] * (n // 3),
            "tenure": list(range(n)),
            "spend": [10.5 * i for i in range(n)],
            "active": [True, False] * (n // 2),
        }
    )


MODELS = [
    model("leaky", "crm", ["tenure", "email", "segment"]),
    model("clean", "crm", ["tenure", "spend", "segment"]),
    model("undeclared", "crm", [], purpose="Rank customers for a retention call"),
    model("warehouse_model", "warehouse", ["mobile", "basket_size"]),
    model("other_dataset", "elsewhere", ["tenure"]),
]


@pytest.fixture(scope="module")
def result(scanner):
    ctx = context(
        dataset("crm", crm_frame(), id="customer_id"),
        dataset("elsewhere", pd.DataFrame({"x": [1]})),
        models=MODELS,
        scanner=scanner,
    )
    return ctx, run(DirectIdentifiers, ctx)


def test_exact_subjects(result):
    _, out = result
    assert statuses(out) == {
        "dataset:crm": "pass",
        "model:leaky/feature:email": "fail",
        "model:clean/features": "pass",
        "model:undeclared/features": "fail",
        "model:warehouse_model/feature:mobile": "fail",
        "dataset:elsewhere": "pass",
        "model:other_dataset/features": "pass",
    }


def test_dataset_report_lists_identifier_columns(result):
    ctx, out = result
    o = out["dataset:crm"]
    assert o.severity is Severity.INFO and o.observed == 4
    cols = o.evidence["identifier_columns"]
    assert {c: d["entity_type"] for c, d in cols.items()} == {
        "full_name": "PERSON",
        "email": "EMAIL_ADDRESS",
        "mobile": "CN_MOBILE",
        "doc_no": "CN_RESIDENT_ID",
    }
    assert all(d["sample_size"] == 60 and d["confidence"] >= 0.8 for d in cols.values())
    assert o.evidence["not_scanned"] == {"spend": "non-integer numbers", "active": "boolean values"}
    assert ctx.facts.direct_identifier_columns["crm"] == ["full_name", "email", "mobile", "doc_no"]


def test_feature_failure_names_the_column_and_evidence(result):
    _, out = result
    o = out["model:leaky/feature:email"]
    assert o.status is Status.FAIL
    assert "feature 'email' is a direct identifier (EMAIL_ADDRESS" in o.message
    assert o.evidence["column"] == "email" and o.evidence["dataset"] == "crm"
    assert (
        "no features declared for the purpose 'Rank customers for a retention call'"
        in out["model:undeclared/features"].message
    )


def test_evidence_carries_no_value(result):
    _, out = result
    blob = repr([o.evidence for o in out.values()]) + repr([o.message for o in out.values()])
    frame = crm_frame()
    for col in ("full_name", "email", "mobile", "doc_no"):
        assert not [v for v in frame[col] if v in blob]


def test_sample_size_is_respected(scanner):
    ctx = context(dataset("crm", crm_frame(), id="customer_id"), scanner=scanner)
    out = run(DirectIdentifiers, ctx, sample_size=20, columns=["email", "segment"])
    ev = out["dataset:crm"].evidence
    assert ev["identifier_columns"]["email"]["sample_size"] == 20
    assert list(ev["identifier_columns"]) == ["email"] and ev["columns_scanned"] == 2
