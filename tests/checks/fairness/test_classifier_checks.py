from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
)
from sklearn.metrics import roc_auc_score

from audit.checks.fairness.classifier import (
    CalibrationByGroup,
    DemographicParityDifference,
    EqualizedOddsDifference,
    EqualOpportunityDifference,
    Intersectional,
    PerformanceByGroup,
    SelectionRateImpactRatio,
)
from audit.core.types import Provenance, Status

from .helpers import age_labels, classifier, classifier_data, context, run

BASE = "model:churn_test"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return classifier_data()


@pytest.fixture(scope="module")
def ctx(data):
    return context([classifier(data)])


def _eligible(data: pd.DataFrame, attr: str) -> tuple[pd.DataFrame, np.ndarray]:
    labels = age_labels(data["age"]) if attr == "age" else data[attr].to_numpy(dtype=object)
    keep = labels != "unknown"
    return data[keep], labels[keep]


def test_impact_ratio_fails_on_age_only_and_matches_fairlearn(ctx, data):
    out = run(SelectionRateImpactRatio, ctx)
    assert set(out) == {f"{BASE}/by:gender", f"{BASE}/by:age"}
    age, gender = out[f"{BASE}/by:age"], out[f"{BASE}/by:gender"]
    assert age.status is Status.FAIL and gender.status is Status.PASS
    assert "four-fifths screen" in age.message
    assert SelectionRateImpactRatio.meta.provenance is Provenance.GUIDANCE
    assert age.evidence["worst_group"] == "18-29"
    d, lab = _eligible(data, "age")
    fav = (d["y_pred"] == 0).astype(int)
    assert age.observed == pytest.approx(demographic_parity_ratio(d["y_true"], fav, sensitive_features=lab))
    d, lab = _eligible(data, "gender")
    assert gender.observed == pytest.approx(demographic_parity_ratio(d["y_true"], (d["y_pred"] == 0).astype(int), sensitive_features=lab))


def test_evidence_shape_and_small_groups(ctx):
    o = run(SelectionRateImpactRatio, ctx)[f"{BASE}/by:age"]
    ev = o.evidence
    groups = {row["group"]: row for row in ev["by_group"]}
    assert set(groups) == {"18-29", "30-44", "45-59", "60-120", "unknown"}
    assert groups["unknown"]["n"] == 10 and groups["unknown"]["eligible"] is False
    assert ev["excluded_groups"] == ["unknown"]
    assert "shown but not judged: unknown (n=10)" in o.message
    assert all(set(r) >= {"group", "n", "value", "ci_low", "ci_high", "eligible"} for r in ev["by_group"])
    assert groups["18-29"]["ci_low"] < groups["18-29"]["value"] < groups["18-29"]["ci_high"]
    assert ev["attribute"] == "age" and len(ev["ci"]) == 2 and ev["ci"][0] <= o.observed <= ev["ci"][1]
    assert ev["p_value"] < 1e-6 and ev["statistically_clear"] is True
    assert "breach statistically clear" in o.message


def test_demographic_parity_difference_matches_fairlearn(ctx, data):
    out = run(DemographicParityDifference, ctx)
    assert out[f"{BASE}/by:age"].status is Status.FAIL
    assert out[f"{BASE}/by:gender"].status is Status.PASS
    for attr in ("age", "gender"):
        d, lab = _eligible(data, attr)
        expected = demographic_parity_difference(d["y_true"], d["y_pred"], sensitive_features=lab)
        assert out[f"{BASE}/by:{attr}"].observed == pytest.approx(expected)


def test_equalized_odds_matches_fairlearn(ctx, data):
    out = run(EqualizedOddsDifference, ctx)
    for attr in ("age", "gender"):
        d, lab = _eligible(data, attr)
        expected = equalized_odds_difference(d["y_true"], d["y_pred"], sensitive_features=lab)
        assert out[f"{BASE}/by:{attr}"].observed == pytest.approx(expected)
    age = out[f"{BASE}/by:age"]
    assert age.status is Status.FAIL
    # favourable decisions (not flagged) are rarest among the young
    assert age.evidence["worst_group"] == "18-29"


def test_equal_opportunity_on_the_favourable_outcome(ctx, data):
    out = run(EqualOpportunityDifference, ctx)
    for attr in ("age", "gender"):
        d, lab = _eligible(data, attr)
        merits = (d["y_true"] == 0).astype(int)
        received = (d["y_pred"] == 0).astype(int)
        expected = equal_opportunity_difference(merits, received, sensitive_features=lab)
        assert out[f"{BASE}/by:{attr}"].observed == pytest.approx(expected)
    assert out[f"{BASE}/by:age"].status is Status.FAIL
    assert out[f"{BASE}/by:age"].evidence["worst_group"] == "18-29"


def test_calibration_gap_equals_hand_computed_ece(ctx, data):
    out = run(CalibrationByGroup, ctx)
    o = out[f"{BASE}/by:gender"]
    ece = {}
    for g, grp in data.groupby("gender"):
        bins = np.minimum((grp["score"] * 10).astype(int), 9)
        total = sum(abs(b["y_true"].mean() - b["score"].mean()) * len(b) for _, b in grp.groupby(bins))
        ece[g] = total / len(grp)
    assert o.observed == pytest.approx(abs(ece["F"] - ece["M"]))
    rows = {r["group"]: r["value"] for r in o.evidence["by_group"]}
    assert rows["F"] == pytest.approx(ece["F"]) and rows["M"] == pytest.approx(ece["M"])
    assert o.status is (Status.PASS if o.observed <= 0.05 else Status.FAIL)


def test_intersectional_reports_small_cells(ctx, data):
    out = run(Intersectional, ctx)
    assert set(out) == {f"{BASE}/by:gender×age"}
    o = out[f"{BASE}/by:gender×age"]
    assert o.status is Status.FAIL
    groups = {r["group"]: r for r in o.evidence["by_group"]}
    assert {"F×unknown", "M×unknown"} <= set(groups)
    assert groups["F×unknown"]["eligible"] is False and groups["F×18-29"]["eligible"] is True
    assert o.evidence["worst_group"] in {"F×18-29", "M×18-29"}
    lab = np.char.add(np.char.add(data["gender"].to_numpy().astype(str), "×"), age_labels(data["age"]).astype(str))
    keep = ~np.char.endswith(lab, "unknown")
    fav = (data["y_pred"] == 0).astype(int)
    assert o.observed == pytest.approx(demographic_parity_ratio(data["y_true"][keep], fav[keep], sensitive_features=lab[keep]))


def test_performance_by_group_matches_sklearn(ctx, data):
    out = run(PerformanceByGroup, ctx)
    assert f"{BASE}/by:age/metric:auc" in out and f"{BASE}/by:age/metric:auc_gap" in out
    o = out[f"{BASE}/by:gender/metric:auc"]
    aucs = {g: roc_auc_score(grp["y_true"], grp["score"]) for g, grp in data.groupby("gender")}
    assert o.observed == pytest.approx(min(aucs.values()))
    assert o.evidence["worst_group"] == min(aucs, key=aucs.get)
    gap = out[f"{BASE}/by:gender/metric:auc_gap"]
    assert gap.observed == pytest.approx(abs(aucs["F"] - aucs["M"]))
    # a declared minimum no group reaches fails
    strict = run(PerformanceByGroup, ctx, min_auc=0.999, max_auc_gap=None, min_accuracy=0.5)
    assert strict[f"{BASE}/by:gender/metric:auc"].status is Status.FAIL
    assert f"{BASE}/by:gender/metric:auc_gap" not in strict
    assert f"{BASE}/by:gender/metric:accuracy" in strict


def test_band_column_preferred_and_missing_attributes(data):
    sens = data[["gender", "age"]].assign(age_band=age_labels(data["age"])).reset_index(drop=True)
    ctx = context([classifier(data, sensitive=sens)])
    out = run(SelectionRateImpactRatio, ctx)
    assert set(out) == {f"{BASE}/by:gender", f"{BASE}/by:age_band"}
    out = run(SelectionRateImpactRatio, ctx, attributes=["gender", "religion"])
    assert out[f"{BASE}/by:religion"].status is Status.SKIPPED
    assert out[f"{BASE}/by:gender"].status is Status.PASS
    none = context([classifier(data, sensitive=pd.DataFrame(index=range(len(data))))])
    only = run(DemographicParityDifference, none)
    assert list(only) == [BASE] and only[BASE].status is Status.SKIPPED


def test_unbanded_numeric_attribute_is_left_out(data):
    ctx = context([classifier(data)])
    ctx.datasets["customers"].bands = {}
    out = run(SelectionRateImpactRatio, ctx)
    # ages take only four values here, so they still form groups without bands
    assert f"{BASE}/by:age" in out
    wide = data.assign(age=np.arange(len(data)) % 60 + 18.0)
    ctx = context([classifier(wide)])
    ctx.datasets["customers"].bands = {}
    out = run(SelectionRateImpactRatio, ctx, attributes=["age"])
    assert out[f"{BASE}/by:age"].status is Status.SKIPPED
    assert "declare bands" in out[f"{BASE}/by:age"].message
