"""Classifier fairness figures against Fairlearn, plus bootstrap and tests."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from scipy import stats
from sklearn.metrics import accuracy_score, brier_score_loss, precision_score, recall_score, roc_auc_score

from audit.fairness import (
    FairnessResult,
    as_groups,
    calibration_by_group,
    calibration_gap,
    classification_fairness,
    confusion_by_group,
    make_groups,
    performance_by_group,
    rate_disparity,
    rates_by_group,
    selection_rate_impact_ratio,
)
from audit.fairness import (
    demographic_parity_difference as our_dpd,
)
from audit.fairness import (
    equal_opportunity_difference as our_eopp,
)
from audit.fairness import (
    equalized_odds_difference as our_eod,
)
from audit.fairness._stats import two_proportion_test
from audit.fairness.classification import _auc_from_counts

from .datasets import DATASETS

TOL = 1e-9

FAIRLEARN_RATES = {
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "true_negative_rate": true_negative_rate,
    "precision": functools.partial(precision_score, zero_division=0),
    "accuracy": accuracy_score,
}

ALL_METRICS = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "selection_rate_impact_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
]


def _fl_groups(g: np.ndarray) -> np.ndarray:
    """Labels as Fairlearn gets them: missing values replaced by 'unknown'."""
    return np.array(["unknown" if pd.isna(v) else str(v) for v in g], dtype=object)


@functools.cache
def _rates_frame(name: str) -> MetricFrame:
    y, p, g = DATASETS[name]
    return MetricFrame(metrics=FAIRLEARN_RATES, y_true=y, y_pred=p, sensitive_features=_fl_groups(g))


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOL


def test_rates_by_group_match_metricframe(dataset) -> None:
    name, y, p, g = dataset
    mf = _rates_frame(name)
    ours = rates_by_group(y, p, groups=g, undefined="zero").set_index("group")
    assert list(ours.index) == [str(i) for i in mf.by_group.index]
    for rate in FAIRLEARN_RATES:
        for grp, value in mf.by_group[rate].items():
            assert abs(ours.loc[str(grp), rate] - value) <= TOL, (rate, grp)
    assert ours["n"].sum() == len(y)


def test_disparities_match_fairlearn_functions(dataset) -> None:
    _, y, p, g = dataset
    sf = _fl_groups(g)
    expected = {
        "demographic_parity_difference": demographic_parity_difference(y, p, sensitive_features=sf),
        "demographic_parity_ratio": demographic_parity_ratio(y, p, sensitive_features=sf),
        "selection_rate_impact_ratio": demographic_parity_ratio(y, p, sensitive_features=sf),
        "equalized_odds_difference": equalized_odds_difference(y, p, sensitive_features=sf),
        "equalized_odds_ratio": equalized_odds_ratio(y, p, sensitive_features=sf),
        "equal_opportunity_difference": equal_opportunity_difference(y, p, sensitive_features=sf),
    }
    ours = classification_fairness(y, p, groups=g, metrics=ALL_METRICS, undefined="zero", min_group_size=0, n_boot=50)
    for name, value in expected.items():
        assert _close(ours[name].value, float(value)), (name, ours[name].value, value)
        assert _close(ours[name].value_all_groups, float(value)), name


def test_generic_rate_differences_match_metricframe(dataset) -> None:
    name, y, p, g = dataset
    mf = _rates_frame(name)
    names = [f"{r}_difference" for r in FAIRLEARN_RATES] + [f"{r}_ratio" for r in FAIRLEARN_RATES]
    ours = classification_fairness(y, p, groups=g, metrics=names, undefined="zero", min_group_size=0, n_boot=0)
    diff, ratio = mf.difference(), mf.ratio()
    for r in FAIRLEARN_RATES:
        assert _close(ours[f"{r}_difference"].value, float(diff[r])), r
        assert _close(ours[f"{r}_ratio"].value, float(ratio[r])), r


def test_named_wrappers_agree_with_fairlearn() -> None:
    y, p, g = (np.asarray(a) for a in zip(*[(1, 1, "a"), (0, 1, "a"), (1, 0, "b"), (0, 0, "b")] * 40, strict=True))
    y, p = y.astype(int), p.astype(int)
    kw = {"groups": g, "undefined": "zero", "min_group_size": 0, "n_boot": 0}
    assert our_dpd(y, p, **kw).value == pytest.approx(
        demographic_parity_difference(y, p, sensitive_features=g), abs=TOL
    )
    assert our_eod(y, p, **kw).value == pytest.approx(equalized_odds_difference(y, p, sensitive_features=g), abs=TOL)
    assert our_eopp(y, p, **kw).value == pytest.approx(
        equal_opportunity_difference(y, p, sensitive_features=g), abs=TOL
    )
    assert selection_rate_impact_ratio(y, p, **kw).value == pytest.approx(
        demographic_parity_ratio(y, p, sensitive_features=g), abs=TOL
    )
    r = rate_disparity(y, p, metric="false_positive_rate", kind="difference", **kw)
    assert r.metric == "false_positive_rate_difference"


def test_intersectional_groups_match_metricframe() -> None:
    rng = np.random.default_rng(11)
    n = 1200
    df = pd.DataFrame({"gender": rng.choice(["F", "M"], n), "age": rng.integers(18, 80, n)})
    df.loc[::13, "gender"] = None
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    groups = make_groups(df, attributes=["gender", "age"], bands={"age": [18, 30, 45, 60, 120]})
    res = classification_fairness(
        y,
        p,
        groups=groups,
        metrics=["equalized_odds_difference", "demographic_parity_difference"],
        undefined="zero",
        min_group_size=0,
        n_boot=0,
    )
    labels = groups.labels
    assert res["equalized_odds_difference"].value == pytest.approx(
        equalized_odds_difference(y, p, sensitive_features=labels), abs=TOL
    )
    mf = MetricFrame(metrics=selection_rate, y_true=y, y_pred=p, sensitive_features=labels)
    table = res["demographic_parity_difference"].by_group.set_index("group")["selection_rate"]
    for grp, value in mf.by_group.items():
        assert table[grp] == pytest.approx(value, abs=TOL)


def test_undefined_tpr_is_nan_by_default_and_skipped() -> None:
    y, p, g = (np.asarray(a) for a in _no_positive_group())
    res = our_eod(y, p, groups=g, min_group_size=0, n_boot=0)
    table = res.by_group.set_index("group")
    assert math.isnan(table.loc["c", "true_positive_rate"])
    assert not math.isnan(table.loc["c", "false_positive_rate"])
    assert any("true_positive_rate undefined" in note for note in res.notes)
    mf = MetricFrame(
        metrics={"tpr": true_positive_rate, "fpr": false_positive_rate}, y_true=y, y_pred=p, sensitive_features=g
    )
    tpr = mf.by_group["tpr"].drop("c")
    fpr = mf.by_group["fpr"]
    expected = max(tpr.max() - tpr.min(), fpr.max() - fpr.min())
    assert res.value == pytest.approx(expected, abs=TOL)
    # the Fairlearn convention (TPR = 0) is available and matches exactly
    zero = our_eod(y, p, groups=g, min_group_size=0, n_boot=0, undefined="zero")
    assert zero.value == pytest.approx(equalized_odds_difference(y, p, sensitive_features=g), abs=TOL)
    assert our_eopp(y, p, groups=g, min_group_size=0, n_boot=0).value == pytest.approx(tpr.max() - tpr.min(), abs=TOL)


def _no_positive_group() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    g = rng.choice(np.array(["a", "b", "c"], dtype=object), 600)
    y = np.where(g == "c", 0, rng.integers(0, 2, 600))
    p = rng.integers(0, 2, 600)
    return y, p, g


def test_small_groups_reported_but_excluded() -> None:
    rng = np.random.default_rng(5)
    g = np.array(["big1"] * 300 + ["big2"] * 300 + ["tiny"] * 10, dtype=object)
    p = np.concatenate([rng.random(300) < 0.5, rng.random(300) < 0.4, np.ones(10, bool)]).astype(int)
    y = rng.integers(0, 2, g.size)
    res = our_dpd(y, p, groups=g, min_group_size=30, n_boot=0)
    assert res.excluded_groups == ("tiny",)
    assert res.by_group.set_index("group").loc["tiny", "eligible"] == False
    keep = g != "tiny"
    assert res.value == pytest.approx(
        demographic_parity_difference(y[keep], p[keep], sensitive_features=g[keep]), abs=TOL
    )
    assert res.value_all_groups == pytest.approx(demographic_parity_difference(y, p, sensitive_features=g), abs=TOL)
    assert res.worst_group == "big2" and res.best_group == "big1"
    assert res.by_group["n"].tolist() == [300, 300, 10]


def test_worst_and_best_follow_metric_direction() -> None:
    g = np.array(["a"] * 100 + ["b"] * 100, dtype=object)
    y = np.tile([0, 1], 100)
    p = np.concatenate([np.tile([1, 1], 50), np.tile([0, 1], 50)])  # a: FPR 1, b: FPR 0
    res = rate_disparity(y, p, groups=g, metric="false_positive_rate", n_boot=0)
    assert (res.worst_group, res.best_group) == ("a", "b")
    sel = our_dpd(y, p, groups=g, n_boot=0)
    assert (sel.worst_group, sel.best_group) == ("b", "a")
    adverse = our_dpd(y, p, groups=g, n_boot=0, outcome="adverse")
    assert (adverse.worst_group, adverse.best_group) == ("a", "b")


def test_one_group_only() -> None:
    y, p, g = DATASETS["one_group"]
    res = classification_fairness(y, p, groups=g, metrics=ALL_METRICS, n_boot=100)
    for r in res.values():
        assert r.worst_group == r.best_group == "only"
        assert math.isnan(r.p_value)
        assert any("fewer than two" in note for note in r.notes)
    assert res["demographic_parity_difference"].value == 0.0
    assert res["selection_rate_impact_ratio"].value == 1.0


def test_all_predictions_equal() -> None:
    rng = np.random.default_rng(3)
    g = rng.choice(np.array(["a", "b"], dtype=object), 200)
    y = rng.integers(0, 2, 200)
    zeros = classification_fairness(y, np.zeros(200, int), groups=g, metrics=ALL_METRICS, n_boot=100)
    assert zeros["demographic_parity_difference"].value == 0.0
    assert math.isnan(zeros["selection_rate_impact_ratio"].value)  # 0/0 as in Fairlearn
    assert zeros["demographic_parity_difference"].p_value == 1.0
    ones = classification_fairness(y, np.ones(200, int), groups=g, metrics=ALL_METRICS, n_boot=100)
    assert ones["selection_rate_impact_ratio"].value == 1.0
    assert ones["equalized_odds_difference"].value == 0.0


def test_nan_groups_become_unknown_group() -> None:
    g = np.array(["a", None, "b", np.nan, "a", "b"] * 10, dtype=object)
    y = np.tile([1, 0, 1, 1, 0, 0], 10)
    p = np.tile([1, 1, 0, 1, 0, 1], 10)
    conf = confusion_by_group(y, p, groups=g)
    assert conf.groups == ("a", "b", "unknown")
    assert conf.table()["n"].tolist() == [20, 20, 20]
    assert conf.counts.sum() == 60


def test_bootstrap_ci_contains_point_and_is_reproducible(dataset) -> None:
    _, y, p, g = dataset
    a = classification_fairness(y, p, groups=g, metrics=ALL_METRICS, min_group_size=0, n_boot=300, seed=7)
    b = classification_fairness(y, p, groups=g, metrics=ALL_METRICS, min_group_size=0, n_boot=300, seed=7)
    for name, r in a.items():
        if math.isnan(r.value):
            continue
        assert r.ci_low <= r.value <= r.ci_high, name
        assert 0.0 <= r.ci_low and r.ci_high <= 1.0
        assert (r.ci_low, r.ci_high) == (b[name].ci_low, b[name].ci_high)


def test_large_gap_is_clear_and_tiny_gap_is_noise() -> None:
    rng = np.random.default_rng(0)
    g = np.array(["a"] * 2000 + ["b"] * 2000, dtype=object)
    y = rng.integers(0, 2, 4000)
    clear_p = np.concatenate([rng.random(2000) < 0.6, rng.random(2000) < 0.3]).astype(int)
    res = classification_fairness(
        y, clear_p, groups=g, metrics=["demographic_parity_difference", "selection_rate_impact_ratio"], n_boot=500
    )
    assert res["demographic_parity_difference"].statistically_clear(0.1, "above")
    assert res["demographic_parity_difference"].verdict(0.1, "above") == "clear_breach"
    assert res["selection_rate_impact_ratio"].statistically_clear(0.8, "below")
    assert res["demographic_parity_difference"].p_value < 1e-6

    g_small = np.array(["a"] * 40 + ["b"] * 40, dtype=object)
    noisy_p = (rng.random(80) < 0.5).astype(int)
    noisy = classification_fairness(
        rng.integers(0, 2, 80),
        noisy_p,
        groups=g_small,
        metrics=["demographic_parity_difference", "selection_rate_impact_ratio"],
        n_boot=500,
    )
    assert not noisy["demographic_parity_difference"].statistically_clear(0.1, "above")
    assert noisy["demographic_parity_difference"].verdict(0.1, "above") == "within_noise"
    assert not noisy["selection_rate_impact_ratio"].statistically_clear(0.8, "below")


def test_count_bootstrap_matches_row_bootstrap() -> None:
    """Multinomial draws over confusion cells reproduce a stratified row bootstrap."""
    rng = np.random.default_rng(1)
    g = np.array(["a"] * 300 + ["b"] * 200, dtype=object)
    y = rng.integers(0, 2, 500)
    p = np.concatenate([rng.random(300) < 0.55, rng.random(200) < 0.35]).astype(int)
    ours = our_dpd(y, p, groups=g, n_boot=4000, ci_method="percentile", seed=3)
    idx_a, idx_b = np.flatnonzero(g == "a"), np.flatnonzero(g == "b")
    reps = []
    for _ in range(4000):
        ra = rng.choice(idx_a, idx_a.size)
        rb = rng.choice(idx_b, idx_b.size)
        reps.append(abs(p[ra].mean() - p[rb].mean()))
    lo, hi = np.quantile(reps, [0.025, 0.975])
    assert ours.ci_low == pytest.approx(lo, abs=0.012)
    assert ours.ci_high == pytest.approx(hi, abs=0.012)


def test_pooled_scheme_runs() -> None:
    y, p, g = _no_positive_group()
    r = our_dpd(y, p, groups=g, scheme="pooled", n_boot=200)
    assert r.ci_low <= r.value <= r.ci_high


def test_p_value_matches_scipy() -> None:
    rng = np.random.default_rng(8)
    g = np.array(["a"] * 400 + ["b"] * 300, dtype=object)
    p = np.concatenate([rng.random(400) < 0.5, rng.random(300) < 0.4]).astype(int)
    res = our_dpd(None, p, groups=g, n_boot=0)
    assert res.test == "z"
    table = [[p[:400].sum(), 400 - p[:400].sum()], [p[400:].sum(), 300 - p[400:].sum()]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert res.p_value == pytest.approx(expected, rel=1e-9)
    assert res.p_value_adjusted == pytest.approx(expected, rel=1e-9)  # 2 groups: one pair

    # small counts switch to Fisher's exact test
    g2 = np.array(["a"] * 8 + ["b"] * 8, dtype=object)
    p2 = np.array([1] * 7 + [0] * 1 + [1] * 1 + [0] * 7)
    res2 = our_dpd(None, p2, groups=g2, n_boot=0, min_group_size=0)
    assert res2.test == "fisher"
    assert res2.p_value == pytest.approx(stats.fisher_exact([[1, 7], [7, 1]]).pvalue, rel=1e-9)
    z_p, name = two_proportion_test(3, 12, 10, 12, test="z")
    assert name == "z"
    assert z_p == pytest.approx(stats.chi2_contingency([[3, 9], [10, 2]], correction=False).pvalue, rel=1e-9)


def test_calibration_matches_hand_computation() -> None:
    rng = np.random.default_rng(4)
    n = 900
    g = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    score = rng.random(n)
    y = (rng.random(n) < np.where(g == "c", score**2, score)).astype(int)
    table = calibration_by_group(y, score, groups=g, n_bins=10).set_index("group")
    mf = MetricFrame(metrics=brier_score_loss, y_true=y, y_pred=score, sensitive_features=g)
    for grp in ("a", "b", "c"):
        m = g == grp
        bins = np.minimum((score[m] * 10).astype(int), 9)
        ece = sum(
            (bins == b).sum() / m.sum() * abs(y[m][bins == b].mean() - score[m][bins == b].mean())
            for b in range(10)
            if (bins == b).any()
        )
        assert table.loc[grp, "ece"] == pytest.approx(ece, abs=TOL)
        assert table.loc[grp, "brier"] == pytest.approx(mf.by_group[grp], abs=TOL)
    res = calibration_gap(y, score, groups=g, n_boot=300)
    ece_r, brier_r = res["ece_difference"], res["brier_difference"]
    assert ece_r.value == pytest.approx(table["ece"].max() - table["ece"].min(), abs=TOL)
    assert ece_r.worst_group == table["ece"].idxmax()
    assert ece_r.ci_low <= ece_r.value <= ece_r.ci_high
    assert brier_r.value == pytest.approx(float(mf.difference()), abs=TOL)
    w, b = brier_r.worst_group, brier_r.best_group
    sq = (score - y) ** 2
    assert brier_r.p_value == pytest.approx(stats.ttest_ind(sq[g == w], sq[g == b], equal_var=False).pvalue, rel=1e-9)
    assert brier_r.test == "welch_t"


def test_performance_by_group_matches_metricframe() -> None:
    rng = np.random.default_rng(9)
    n = 800
    g = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    y = rng.integers(0, 2, n)
    score = np.round(np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1), 2)  # ties on purpose
    p = (score > 0.5).astype(int)
    res = performance_by_group(y, p, groups=g, y_score=score, n_boot=200)
    mf = MetricFrame(
        metrics={"accuracy": accuracy_score, "recall": recall_score}, y_true=y, y_pred=p, sensitive_features=g
    )
    assert res["accuracy_difference"].value == pytest.approx(float(mf.difference()["accuracy"]), abs=TOL)
    assert res["recall_difference"].value == pytest.approx(float(mf.difference()["recall"]), abs=TOL)
    auc_mf = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=score, sensitive_features=g)
    table = res["auc_difference"].by_group.set_index("group")["auc"]
    for grp, value in auc_mf.by_group.items():
        assert table[grp] == pytest.approx(value, abs=TOL)
    auc = res["auc_difference"]
    assert auc.value == pytest.approx(float(auc_mf.difference()), abs=TOL)
    assert auc.ci_low <= auc.value <= auc.ci_high
    assert auc.worst_group == auc_mf.by_group.idxmin()


def test_auc_from_counts_handles_ties() -> None:
    rng = np.random.default_rng(2)
    s = rng.integers(0, 5, 300).astype(float)
    y = (rng.random(300) < s / 5).astype(int)
    uniq, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=uniq.size)
    neg = np.bincount(inv, weights=1 - y, minlength=uniq.size)
    assert float(_auc_from_counts(pos, neg)) == pytest.approx(roc_auc_score(y, s), abs=TOL)


def test_group_labels_object_and_to_dict_are_json_ready() -> None:
    y, p, g = _no_positive_group()
    groups = as_groups(g)
    res = our_eod(y, p, groups=groups, n_boot=50)
    assert isinstance(res, FairnessResult)
    payload = json.dumps(res.to_dict())
    assert "by_group" in payload


def test_input_errors() -> None:
    g = np.array(["a", "b", "c"], dtype=object)
    with pytest.raises(ValueError, match="at most two distinct"):
        our_dpd(np.array([0, 1, 2]), np.array([0, 1, 1]), groups=g)
    with pytest.raises(ValueError, match="rows"):
        our_dpd(np.array([0, 1]), np.array([0, 1]), groups=g)
    with pytest.raises(ValueError, match="missing"):
        our_dpd(np.array([0, 1, np.nan]), np.array([0, 1, 1]), groups=g)
    with pytest.raises(ValueError, match="unknown fairness metric"):
        classification_fairness([0, 1, 1], [0, 1, 1], groups=g, metrics=["nope"])
    with pytest.raises(ValueError, match="needs y_true"):
        classification_fairness(None, [0, 1, 1], groups=g, metrics=["equalized_odds_difference"])
    with pytest.raises(ValueError, match="confidence"):
        our_dpd([0, 1, 1], [0, 1, 1], groups=g, confidence=1.5)
    with pytest.raises(ValueError, match="direction"):
        our_dpd([0, 1, 1], [0, 1, 1], groups=g, n_boot=0).statistically_clear(0.1, "sideways")  # type: ignore[arg-type]
