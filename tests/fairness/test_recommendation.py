"""Recommendation fairness against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit.fairness import (
    exposure_parity,
    gini,
    item_exposure,
    popularity_bias,
    price_differential,
    quality_gap,
    quality_per_user,
)

RECS = {"u1": ["a", "b", "c"], "u2": ["b", "d", "e"], "u3": ["a", "e", "c"]}
RELEVANT = {"u1": {"a", "d"}, "u2": {"d"}, "u3": {"z"}, "u4": set()}
USER_GROUPS = {"u1": "F", "u2": "M"}  # u3 has no group -> unknown
W2 = 1 / math.log2(3)  # discount of rank 2
W3 = 1 / math.log2(4)  # discount of rank 3


def test_quality_per_user_by_hand() -> None:
    q = quality_per_user(RECS, relevant=RELEVANT, k=3).set_index("user")
    assert "u4" not in q.index  # no relevant item: skipped
    assert q.loc["u1", "precision_at_k"] == pytest.approx(1 / 3)
    assert q.loc["u1", "recall_at_k"] == pytest.approx(1 / 2)
    assert q.loc["u1", "ndcg_at_k"] == pytest.approx(1 / (1 + W2))  # hit at rank 1; ideal has 2 hits
    assert q.loc["u2", "ndcg_at_k"] == pytest.approx(W2)  # hit at rank 2; ideal 1 hit
    assert q.loc["u3", "hits"] == 0
    q2 = quality_per_user(RECS, relevant=RELEVANT, k=1).set_index("user")
    assert q2.loc["u2", "precision_at_k"] == 0.0
    assert q2.loc["u1", "ndcg_at_k"] == 1.0


def test_quality_gap_ratio_by_hand() -> None:
    res = quality_gap(RECS, relevant=RELEVANT, user_groups=USER_GROUPS, k=3, min_group_size=0, n_boot=100)
    ndcg = res["ndcg_at_k_ratio"]
    table = ndcg.by_group.set_index("group")["ndcg_at_k"]
    assert table.to_dict() == pytest.approx({"F": 1 / (1 + W2), "M": W2, "unknown": 0.0})
    assert ndcg.value == 0.0 and ndcg.worst_group == "unknown" and ndcg.best_group == "M"
    # without the unknown user the ratio is F/M
    res2 = quality_gap(
        {u: v for u, v in RECS.items() if u != "u3"},
        relevant={"u1": RELEVANT["u1"], "u2": RELEVANT["u2"]},
        user_groups=USER_GROUPS,
        k=3,
        min_group_size=0,
        n_boot=0,
    )
    assert res2["ndcg_at_k_ratio"].value == pytest.approx((1 / (1 + W2)) / W2)
    assert res2["recall_at_k_ratio"].value == pytest.approx(0.5)
    assert res2["precision_at_k_ratio"].value == pytest.approx(1.0)


def test_quality_gap_clear_and_noise() -> None:
    rng = np.random.default_rng(0)
    items = [f"i{j}" for j in range(50)]
    recs, rel, groups = {}, {}, {}
    for u in range(400):
        grp = "A" if u % 2 else "B"
        relevant = set(rng.choice(items, 5, replace=False))
        good = grp == "A"
        ranked = (
            list(relevant)[:3] + [i for i in items if i not in relevant][:7]
            if good
            else [i for i in items if i not in relevant][:9] + list(relevant)[:1]
        )
        recs[u], rel[u], groups[u] = ranked, relevant, grp
    res = quality_gap(recs, relevant=rel, user_groups=groups, k=10, n_boot=300)
    assert res["ndcg_at_k_ratio"].statistically_clear(0.8, "below")
    assert res["ndcg_at_k_ratio"].worst_group == "B"
    r = res["precision_at_k_ratio"]
    assert r.ci_low <= r.value <= r.ci_high


def test_exposure_parity_by_hand() -> None:
    exp = item_exposure(RECS)
    assert exp.to_dict() == pytest.approx({"a": 2.0, "b": 1 + W2, "c": 2 * W3, "d": W2, "e": W3 + W2})
    item_groups = {"a": "big", "b": "big", "c": "small", "d": "small", "e": "small"}
    res = exposure_parity(RECS, item_groups=item_groups, item_relevance={i: 1.0 for i in "abcde"}, n_boot=200)
    big = 3 + W2
    small = 2 * W3 + W2 + W3 + W2
    total = big + small
    ratio_big = (big / total) / 0.4
    ratio_small = (small / total) / 0.6
    assert res.value == pytest.approx(ratio_small / ratio_big)
    assert (res.worst_group, res.best_group) == ("small", "big")
    table = res.by_group.set_index("group")
    assert table.loc["big", "n"] == 2
    assert table.loc["small", "exposure_ratio"] == pytest.approx(ratio_small)
    assert res.ci_low <= res.value <= res.ci_high


def test_exposure_parity_relevance_from_users() -> None:
    # relevance counts: d relevant for u1 and u2, a for u1 -> small 2, big 1
    item_groups = {"a": "big", "b": "big", "c": "small", "d": "small", "e": "small"}
    res = exposure_parity(RECS, item_groups=item_groups, relevant={"u1": {"a", "d"}, "u2": {"d"}}, n_boot=100)
    big = 3 + W2
    small = 2 * W3 + 2 * W2 + W3
    total = big + small
    expected = ((small / total) / (2 / 3)) / ((big / total) / (1 / 3))
    assert res.value == pytest.approx(expected)


def test_popularity_bias_by_hand() -> None:
    pop = {"a": 10, "b": 8, "c": 1, "d": 1, "e": 0}
    res = popularity_bias(RECS, item_popularity=pop, n_boot=200)
    assert res["average_recommended_popularity"].value == pytest.approx(((19 / 3) + 3 + (11 / 3)) / 3)
    # head = top 20% of 5 items = {a}; a fills 2 of 9 slots
    assert res["long_tail_share"].value == pytest.approx(7 / 9)
    x = np.array([2.0, 1 + W2, 2 * W3, W2, W3 + W2])
    mad_gini = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert res["exposure_gini"].value == pytest.approx(mad_gini)
    assert res["catalogue_coverage"].value == 1.0
    for est in res.values():
        assert est.ci_low <= est.value <= est.ci_high
    wider = popularity_bias(RECS, item_popularity=pop, catalogue=list("abcdef"), n_boot=0)
    assert wider["catalogue_coverage"].value == pytest.approx(5 / 6)
    x6 = np.append(x, 0.0)
    assert wider["exposure_gini"].value == pytest.approx(np.abs(x6[:, None] - x6[None, :]).sum() / (2 * 36 * x6.mean()))


def test_gini_extremes() -> None:
    assert float(gini(np.ones(4))) == pytest.approx(0.0)
    assert float(gini(np.array([0, 0, 0, 1.0]))) == pytest.approx(0.75)
    assert math.isnan(float(gini(np.zeros(3))))


PRICE = {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "e": 50.0}
CATEGORY = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}


def test_price_differential_matches_lstsq() -> None:
    res = price_differential(
        RECS,
        user_groups=USER_GROUPS,
        item_price=PRICE,
        item_category=CATEGORY,
        min_group_size=0,
        n_boot=100,
        n_permutations=30,
    )
    raw = res["mean_price_ratio"]
    table = raw.by_group.set_index("group")
    assert table["mean_price"].to_dict() == pytest.approx({"F": 20.0, "M": 110 / 3, "unknown": 30.0})
    assert raw.value == pytest.approx(20.0 / (110 / 3))
    assert (raw.worst_group, raw.best_group) == ("M", "F")

    # slot-level OLS: price ~ intercept + group dummies (ref F) + category dummy (ref x)
    rows = []
    for user, items in RECS.items():
        grp = USER_GROUPS.get(user, "unknown")
        for item in items:
            rows.append((PRICE[item], grp == "M", grp == "unknown", CATEGORY[item] == "y"))
    arr = np.array(rows, dtype=float)
    design = np.column_stack([np.ones(len(arr)), arr[:, 1], arr[:, 2], arr[:, 3]])
    coef = np.linalg.lstsq(design, arr[:, 0], rcond=None)[0]
    effects = {"F": 0.0, "M": coef[1], "unknown": coef[2]}
    gap = res["within_category_price_gap"]
    assert gap.by_group.set_index("group")["within_category_effect"].to_dict() == pytest.approx(effects)
    assert gap.value == pytest.approx(max(effects.values()) - min(effects.values()))
    assert gap.test == "permutation" and 0 < gap.p_value <= 1
    assert gap.ci_low <= gap.value <= gap.ci_high


def test_price_gap_vanishes_within_category() -> None:
    # group F is shown the cheap category, group M the dear one; within a category prices match
    price = {"c1": 10.0, "c2": 12.0, "d1": 100.0, "d2": 102.0}
    category = {"c1": "cheap", "c2": "cheap", "d1": "dear", "d2": "dear"}
    recs, groups = {}, {}
    for u in range(60):
        grp = "F" if u < 30 else "M"
        many_cheap = (grp == "F") == (u % 5 != 0)
        recs[u] = ["c1", "c2", "d1"] if many_cheap else ["d1", "d2", "c1"]
        groups[u] = grp
    res = price_differential(
        recs, user_groups=groups, item_price=price, item_category=category, n_boot=200, n_permutations=99
    )
    assert res["mean_price_ratio"].value < 0.8
    assert res["mean_price_ratio"].statistically_clear(0.9, "below")
    assert res["mean_price_ratio"].p_value < 0.01
    within = res["within_category_price_gap"]
    assert within.value < 1.0  # only the 10/12 and 100/102 spreads remain
    assert not within.statistically_clear(5.0, "above")


def test_price_without_category_equals_raw_gap() -> None:
    res = price_differential(
        RECS, user_groups=USER_GROUPS, item_price=PRICE, min_group_size=0, n_boot=0, n_permutations=0
    )
    table = res["within_category_price_gap"].by_group.set_index("group")
    assert table["within_category_effect"]["M"] == pytest.approx(table["mean_price"]["M"] - table["mean_price"]["F"])


def test_dataframe_input() -> None:
    frame = pd.DataFrame(
        [(u, item, rank + 1) for u, items in RECS.items() for rank, item in enumerate(items)],
        columns=["user", "item", "rank"],
    ).sample(frac=1.0, random_state=0)
    assert item_exposure(frame).to_dict() == pytest.approx(item_exposure(RECS).to_dict())
