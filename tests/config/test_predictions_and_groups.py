"""Predictions files, small and one-valued protected groups, and band names shared by every check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.core.context import band_labels
from audit.fairness import make_groups
from tests.checks.runcheck import findings

from .conftest import customers

CFG = """
datasets:
  crm:
    source: {path: crm.csv}
    roles: {id: customer_id, protected: [gender], target: churn}
models:
  - {name: theirs, dataset: crm, source: predictions, path: preds.csv}
"""


def predictions(df: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(len(df)).round(3)
    return pd.DataFrame({"id": df["customer_id"], "y_true": df["churn"], "y_pred": np.where(score >= 0.5, "Yes", "No"), "score": score})


@pytest.fixture
def crm(project):
    df = customers(120)
    project.write("crm.csv", df.to_csv(index=False))
    project.config(CFG)
    return df


def test_clean_predictions_file_loads(project, crm):
    pred = predictions(crm)
    project.write("preds.csv", pred.to_csv(index=False))
    model = project.load().models[0]
    assert model.positive_label == "Yes" and len(model.y_true) == 120
    assert np.allclose(model.y_score, pred["score"])


def test_duplicate_ids_named_with_lines(project, crm):
    pred = predictions(crm)
    pred = pd.concat([pred, pred.iloc[[3, 7]]], ignore_index=True)
    project.write("preds.csv", pred.to_csv(index=False))
    msg = project.error()
    assert "preds.csv: id: 2 id(s) appear more than once (4 rows, lines 5, 9, 122, 123); first: 'C0003', 'C0007'" in msg
    assert "keep one prediction per id" in msg


def test_nan_and_out_of_range_scores(project, crm):
    pred = predictions(crm).astype({"score": object})
    pred.loc[[2, 5], "score"] = np.nan
    pred.loc[[10], "score"] = 1.7
    pred.loc[[11], "score"] = -0.2
    project.write("preds.csv", pred.to_csv(index=False))
    msg = project.error()
    assert "2 errors:" in msg
    assert "score: 2 score(s) are missing (NaN or empty; lines 4, 7)" in msg
    assert "score: 2 score(s) outside [0, 1] (lines 12, 13: 1.7, -0.2)" in msg


def test_prediction_labels_outside_the_target(project, crm):
    pred = predictions(crm)
    pred.loc[0, "y_pred"] = "Maybe"
    project.write("preds.csv", pred.to_csv(index=False))
    assert "y_pred: y_pred has value(s) 'Maybe' that y_true does not" in project.error()


def test_small_group_not_judged_and_one_group_skips(project):
    df = customers(300, seed=4)
    df["gender"] = np.where(np.arange(300) < 15, "X", df["gender"])  # a protected group of 15 rows
    df["region"] = "North"  # one-valued
    df["segment"] = np.where(np.arange(300) < 290, "A", "B")  # only one group reaches n=30 in the evaluation rows
    df.loc[:, "religion"] = np.nan
    project.write("crm.csv", df.to_csv(index=False))
    project.config(
        "datasets:\n  crm:\n    source: {path: crm.csv}\n    roles: {id: customer_id, protected: [gender, region, segment, religion], target: churn}\n"
        "models:\n  - {name: lr, dataset: crm, algorithm: logistic_regression}\n"
    )
    ctx = project.load()
    dpd = findings("fairness.demographic_parity_difference", ctx)
    g = dpd["model:lr/by:gender"]
    assert g.status.value in ("pass", "fail")
    rows = {r["group"]: r for r in g.evidence["by_group"]}
    assert not rows["X"]["eligible"] and rows["X"]["n"] < 30
    assert g.evidence["worst_group"] != "X" and g.evidence["best_group"] != "X"
    seg = dpd["model:lr/by:segment"]
    assert seg.status.value == "skipped"
    assert "fewer than two" in seg.message and "segment" in seg.message
    for attr in ("region", "religion"):
        one = dpd.get(f"model:lr/by:{attr}")
        assert one is not None and one.status.value == "skipped", attr
    miss = findings("dq.missingness", ctx)
    region = miss["dataset:crm/by:region"]
    assert region.status.value == "fail" and region.observed == 1
    assert "distinct values of protected attribute region ('North' in all 300 rows that have a value)" in region.message
    religion = miss["dataset:crm/by:religion"]
    assert religion.status.value == "fail" and religion.observed == 0 and "(missing in every row)" in religion.message


def test_values_below_the_first_edge_have_one_name_everywhere():
    ages = pd.Series([15, 17, 18, 29, 30, 64, 65, 80, None], name="age")
    edges = [18, 30, 65]
    labels = band_labels(ages, edges).tolist()
    assert labels == ["<18", "<18", "18-29", "18-29", "30-64", "30-64", ">=65", ">=65", "unknown"]
    g = make_groups(pd.DataFrame({"age": ages}), attributes=["age"], bands={"age": edges})
    assert sorted(n.split("=", 1)[1] for n in g.names) == sorted(set(labels))


def test_a_measured_gap_over_one_eligible_group_is_skipped_not_passed():
    from audit.checks.fairness._common import fairness_outcome
    from audit.core.check import REGISTRY
    from audit.fairness import FairnessResult

    by_group = pd.DataFrame({"group": ["A201", "A202"], "n": [400, 12], "rate": [0.31, 0.5], "eligible": [True, False]})
    result = FairnessResult(
        metric="dp", value=0.0, ci_low=0.0, ci_high=0.0, p_value=1.0, by_group=by_group, worst_group="A201", best_group="A201",
        excluded_groups=("A202",), value_all_groups=0.19, confidence=0.95, n_boot=0,
    )
    check = REGISTRY.get("fairness.demographic_parity_difference")()
    out = fairness_outcome(check, "model:m/by:status", result, threshold=0.1, op="<=", what="demographic parity difference", column="rate", attribute="status", min_group_size=30, confidence=0.95)
    assert out.status.value == "skipped"
    assert out.message == "demographic parity difference not measured: fewer than two groups of status with n >= 30 (A201 (n=400), A202 (n=12))"


def test_predictions_joined_to_repeated_dataset_ids(project):
    df = customers(60)
    dup = df.iloc[[5]].copy()
    df2 = pd.concat([df, dup], ignore_index=True)
    project.write("crm.csv", df2.to_csv(index=False))
    project.config(CFG)
    project.write("preds.csv", predictions(df).to_csv(index=False))
    model = project.load().models[0]
    assert len(model.sensitive) == 60
    assert any("occur more than once in dataset crm with the same values; the first row of each was used" in n for n in model.notes)
    dup["gender"] = "Other" if dup["gender"].iloc[0] != "Other" else "Female"
    project.write("crm.csv", pd.concat([df, dup], ignore_index=True).to_csv(index=False))
    msg = project.error()
    assert "datasets.crm.roles.id: 1 predicted id(s) occur more than once in dataset 'crm' with different values in gender (first: 'C0005')" in msg
