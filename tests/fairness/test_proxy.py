"""Proxy associations and protected-attribute AUC."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association
from sklearn.metrics import normalized_mutual_info_score

from audit.fairness import cramers_v, discretise, protected_attribute_auc, proxy_associations


def test_cramers_v_by_hand() -> None:
    # table [[10, 20, 30], [20, 10, 10]], n = 100
    x = ["a"] * 60 + ["b"] * 40
    y = ["p"] * 10 + ["q"] * 20 + ["r"] * 30 + ["p"] * 20 + ["q"] * 10 + ["r"] * 10
    table = np.array([[10, 20, 30], [20, 10, 10]], dtype=float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / 100
    chi2 = ((table - expected) ** 2 / expected).sum()
    phi2 = max(0.0, chi2 / 100 - (3 - 1) * (2 - 1) / 99)
    k = 3 - (3 - 1) ** 2 / 99
    r = 2 - (2 - 1) ** 2 / 99
    assert cramers_v(x, y) == pytest.approx(math.sqrt(phi2 / min(k - 1, r - 1)))
    assert cramers_v(x, y, bias_correction=False) == pytest.approx(association(table.astype(int), method="cramer"))


def test_cramers_v_extremes() -> None:
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z"], 3000)
    assert cramers_v(a, a) == pytest.approx(1.0, abs=1e-3)
    assert cramers_v(a, rng.choice(["p", "q"], 3000)) < 0.05
    assert math.isnan(cramers_v(["x"] * 10, ["p", "q"] * 5))


def test_discretise_quantiles_and_missing() -> None:
    values = pd.Series(np.r_[np.arange(100, dtype=float), [np.nan]])
    codes = discretise(values, n_bins=4)
    assert np.bincount(codes).tolist() == [25, 25, 25, 25, 1]
    assert discretise(pd.Series([1, 2, 1, 2]), n_bins=4).tolist() == [0, 1, 0, 1]


def test_proxy_associations_rank_the_proxy_first() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    gender = rng.choice(["F", "M"], n)
    features = pd.DataFrame(
        {
            "postcode_income": np.where(gender == "F", 1.0, 0.0) * 2 + rng.normal(size=n),
            "noise": rng.normal(size=n),
            "segment": rng.choice(["s1", "s2", "s3"], n),
        }
    )
    table = proxy_associations(features, protected={"gender": gender})
    assert table.iloc[0]["feature"] == "postcode_income"
    assert table.iloc[0]["cramers_v"] > 0.5
    noise = table.set_index("feature").loc["noise"]
    assert noise["cramers_v"] < 0.1
    codes = discretise(features["postcode_income"])
    g_codes = (gender == "M").astype(int)
    assert table.iloc[0]["nmi"] == pytest.approx(normalized_mutual_info_score(g_codes, codes))


def test_protected_attribute_auc() -> None:
    rng = np.random.default_rng(2)
    n = 300
    group = rng.choice(["a", "b", "c"], n)
    features = pd.DataFrame(
        {
            "proxy": np.select([group == "a", group == "b"], [0.0, 1.5], 3.0) + rng.normal(size=n),
            "noise": rng.normal(size=n),
            "cat": rng.choice(["u", "v"], n),
        }
    )
    strong = protected_attribute_auc(features, protected=group, attribute="group", seed=0)
    assert strong.auc > 0.85
    assert strong.classes == ("a", "b", "c")
    assert len(strong.fold_aucs) == 5
    again = protected_attribute_auc(features, protected=group, attribute="group", seed=0)
    assert again.auc == strong.auc
    weak = protected_attribute_auc(features[["noise", "cat"]], protected=group, cv=3)
    assert 0.35 < weak.auc < 0.65
    boosted = protected_attribute_auc(features[["proxy"]], protected=(group == "a"), model="gradient_boosting", cv=2)
    assert boosted.auc > 0.8 and boosted.model == "gradient_boosting"


def test_protected_attribute_auc_unknown_and_rare_classes() -> None:
    rng = np.random.default_rng(3)
    n = 300
    group = rng.choice(np.array(["a", "b"], dtype=object), n)
    group[:20] = None
    group[20:22] = "rare"
    features = pd.DataFrame({"x": (group == "a").astype(float) + rng.normal(scale=0.5, size=n)})
    res = protected_attribute_auc(features, protected=group)
    assert "unknown" in res.classes and "rare" in res.dropped_classes
    dropped = protected_attribute_auc(features, protected=group, drop_unknown=True)
    assert dropped.classes == ("a", "b")
    assert dropped.n == n - 22
