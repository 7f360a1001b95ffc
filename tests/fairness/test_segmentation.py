"""Segmentation fairness against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from audit.fairness import (
    cluster_balance,
    cluster_composition,
    segment_treatment_impact_ratio,
    total_variation_distance,
)

# six customers: cluster A holds x, x, y; cluster B holds x, y, y
CLUSTERS = ["A", "A", "A", "B", "B", "B"]
GROUPS = ["x", "x", "y", "x", "y", "y"]
KW = {"min_group_size": 0, "n_boot": 200}


def test_cluster_balance_tiny() -> None:
    # overall shares x = y = 1/2; in A: x 2/3 (r = 4/3 -> 3/4), y 1/3 (r = 2/3); B mirrors A
    res = cluster_balance(CLUSTERS, groups=GROUPS, **KW)
    assert res.value == pytest.approx(2 / 3)
    table = res.by_group.set_index("group")
    assert table.loc["x", "balance"] == pytest.approx(2 / 3)
    assert table.loc["x", "worst_cluster"] == "B"
    assert table.loc["y", "worst_cluster"] == "A"
    assert res.ci_low <= res.value <= res.ci_high
    comp = cluster_composition(CLUSTERS, groups=GROUPS).set_index(["cluster", "group"])
    assert comp.loc[("A", "x"), "ratio"] == pytest.approx(4 / 3)
    assert comp.loc[("B", "x"), "share_in_cluster"] == pytest.approx(1 / 3)


def test_cluster_balance_absent_group_is_zero_and_p_value_is_scipy() -> None:
    clusters = ["A"] * 40 + ["B"] * 40
    groups = ["x"] * 40 + ["x"] * 20 + ["y"] * 20  # y never in A
    res = cluster_balance(clusters, groups=groups, min_group_size=0, n_boot=100)
    assert res.value == 0.0
    assert res.worst_group in {"x", "y"}
    expected = stats.chi2_contingency([[40, 20], [0, 20]], correction=False).pvalue
    assert res.p_value == pytest.approx(expected, rel=1e-9)
    assert res.test == "chi2"


def test_total_variation_tiny() -> None:
    # P(.|x) = (2/3, 1/3), P(.|y) = (1/3, 2/3), overall (1/2, 1/2)
    res = total_variation_distance(CLUSTERS, groups=GROUPS, **KW)
    assert res.value == pytest.approx(1 / 3)
    assert {res.worst_group, res.best_group} == {"x", "y"}
    assert res.by_group.set_index("group")["tv_to_overall"].tolist() == pytest.approx([1 / 6, 1 / 6])
    to_all = total_variation_distance(CLUSTERS, groups=GROUPS, method="to_overall", **KW)
    assert to_all.value == pytest.approx(1 / 6)
    assert to_all.metric == "total_variation_to_overall"


def test_treatment_impact_ratio_binary_and_graded() -> None:
    res = segment_treatment_impact_ratio(CLUSTERS, groups=GROUPS, treatment={"A": 1, "B": 0}, **KW)
    # x treated 2/3, y treated 1/3
    assert res.value == pytest.approx(0.5)
    assert (res.worst_group, res.best_group) == ("y", "x")
    assert res.test == "fisher"
    assert res.p_value == pytest.approx(stats.fisher_exact([[1, 2], [2, 1]]).pvalue)
    graded = segment_treatment_impact_ratio(
        CLUSTERS, groups=GROUPS, treatment={"A": 0.5, "B": 0.2}, n_permutations=50, **KW
    )
    # x: 2/3*0.5 + 1/3*0.2 = 0.4; y: 1/3*0.5 + 2/3*0.2 = 0.3
    assert graded.value == pytest.approx(0.75)
    assert graded.by_group.set_index("group")["treatment_rate"].tolist() == pytest.approx([0.4, 0.3])
    assert graded.test == "permutation"
    assert 0.0 < graded.p_value <= 1.0
    adverse = segment_treatment_impact_ratio(
        CLUSTERS, groups=GROUPS, treatment={"A": 1, "B": 0}, outcome="adverse", **KW
    )
    assert adverse.worst_group == "x"


def test_clear_disparity_versus_noise() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    groups = rng.choice(["x", "y"], n)
    clusters = np.where(groups == "x", rng.choice(["A", "B"], n, p=[0.8, 0.2]), rng.choice(["A", "B"], n, p=[0.3, 0.7]))
    res = segment_treatment_impact_ratio(clusters, groups=groups, treatment={"A": 1, "B": 0}, n_boot=500)
    assert res.statistically_clear(0.8, "below")
    tv = total_variation_distance(clusters, groups=groups, n_boot=500)
    assert tv.statistically_clear(0.2, "above")
    noise_groups = rng.choice(["x", "y"], 120)
    noise_clusters = rng.choice(["A", "B"], 120)
    noisy = segment_treatment_impact_ratio(noise_clusters, groups=noise_groups, treatment={"A": 1, "B": 0}, n_boot=500)
    assert not noisy.statistically_clear(0.8, "below")
    for r in (res, tv, noisy):
        assert r.ci_low <= r.value <= r.ci_high


def test_missing_groups_and_small_groups() -> None:
    groups = ["x"] * 50 + ["y"] * 50 + [None] * 5
    clusters = (["A", "B"] * 53)[:105]
    res = cluster_balance(clusters, groups=groups, n_boot=50)
    assert "unknown" in res.by_group["group"].tolist()
    assert res.excluded_groups == ("unknown",)
    assert not math.isnan(res.value_all_groups)


def test_missing_treatment_raises() -> None:
    with pytest.raises(KeyError, match="no treatment"):
        segment_treatment_impact_ratio(CLUSTERS, groups=GROUPS, treatment={"A": 1})
