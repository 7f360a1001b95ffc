"""Segmentation and recommender fairness checks on further tiny hand-computed inputs.

Segmentation: three groups over three segments plus DBSCAN noise, with a
group too small to judge; treatments attached to some segments only.
Recommender: four users, four items, k = 2, every number worked out below.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit.core.finding import Finding
from audit.core.types import Status
from audit.crm.artifacts import RecommenderArtifact, SegmentationArtifact

from ..runcheck import findings
from .helpers import context

SEG = "model:segs"
REC = "model:recs"
D = 1 / math.log2(3)  # position weight of rank 2




def statuses(out: dict[str, Finding]) -> dict[str, Status]:
    return {k: f.status for k, f in out.items()}


def tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())


# ---------------------------------------------------------------------------
# segmentation


def segmentation(cells: dict[tuple[str, int], int], *, treatment: dict[int, str] | None = None) -> SegmentationArtifact:
    """One row per customer from (group, segment) -> count; ``band`` alternates p/q inside every cell."""
    grp, labels, band = [], [], []
    for (g, seg), count in cells.items():
        grp += [g] * count
        labels += [seg] * count
        band += ["p", "q"] * (count // 2) + ["p"] * (count % 2)
    n = len(labels)
    return SegmentationArtifact(
        name="segs",
        algorithm="dbscan",
        purpose="test",
        dataset="customers",
        features=["recency"],
        estimator=None,
        sensitive=pd.DataFrame({"grp": grp, "band": band}),
        X=pd.DataFrame({"recency": np.arange(n)}),
        labels=np.asarray(labels),
        profiles=pd.DataFrame(),
        treatment=treatment,
        noise_count=labels.count(-1),
    )


# A: 20/10/10 over segments 0/1/2 and 4 noise rows; B: 10/10/20; C (n=10): all in segment 2
TV_CELLS = {
    ("A", 0): 20,
    ("A", 1): 10,
    ("A", 2): 10,
    ("A", -1): 4,
    ("B", 0): 10,
    ("B", 1): 10,
    ("B", 2): 20,
    ("C", 2): 10,
}


def test_cluster_dist_tv_judged_segments_and_groups():
    ctx = context([segmentation(TV_CELLS)])
    out = findings("fairness.cluster_dist_tv", ctx)
    assert statuses(out) == {f"{SEG}/by:grp": Status.FAIL, f"{SEG}/by:band": Status.PASS}
    o = out[f"{SEG}/by:grp"]
    # noise (4 of 94 rows) is under 5% and not judged; C (n=10) is under 30 and not judged
    a, b, c = np.array([20.0, 10, 10]), np.array([10.0, 10, 20]), np.array([0.0, 0, 10])
    assert o.observed == pytest.approx(tv(a, b)) and tv(a, b) == pytest.approx(0.25)
    assert o.threshold == 0.2
    assert o.evidence["small_segments"] == {"noise": 4}
    assert o.evidence["excluded_groups"] == ["C"]
    assert o.evidence["value_all_groups"] == pytest.approx(tv(a, c)) and tv(a, c) == pytest.approx(0.75)
    # the pair is listed with the group farther from the overall mix (1/3, 2/9, 4/9) first
    overall = a + b + c
    rows = {r["group"]: r for r in o.evidence["by_group"]}
    assert tv(a, overall) == pytest.approx(7 / 36) and tv(b, overall) == pytest.approx(1 / 12)
    assert rows["A"]["value"] == pytest.approx(7 / 36) and rows["B"]["value"] == pytest.approx(1 / 12)
    assert {g: (r["n"], r["eligible"]) for g, r in rows.items()} == {"A": (40, True), "B": (40, True), "C": (10, False)}
    assert o.evidence["pair"] == ["A", "B"]
    assert "not judged: noise (n=4)" in o.message
    assert out[f"{SEG}/by:band"].observed == pytest.approx(0.0)


def test_cluster_dist_tv_when_small_groups_and_noise_are_judged():
    art = segmentation(TV_CELLS)
    o = findings("fairness.cluster_dist_tv", context([art]), min_group_size=5)[f"{SEG}/by:grp"]
    assert o.observed == pytest.approx(0.75) and o.evidence["pair"] == ["C", "A"]
    o = findings("fairness.cluster_dist_tv", context([art]), min_cluster_share=0.01)[f"{SEG}/by:grp"]
    # noise is now a fourth segment: A (20, 10, 10, 4) against B (10, 10, 20, 0)
    assert o.observed == pytest.approx(tv(np.array([20.0, 10, 10, 4]), np.array([10.0, 10, 20, 0])))
    assert o.evidence["small_segments"] == {}
    relaxed = findings("fairness.cluster_dist_tv", context([art]), max_distance=0.3)
    assert statuses(relaxed) == {f"{SEG}/by:grp": Status.PASS, f"{SEG}/by:band": Status.PASS}


# X: 20/20/4/6 and Y: 10/6/20/14 over segments 0-3; segments 0 and 1 get the discount, 2 the
# standard offer, 3 nothing
TREAT_CELLS = {
    ("X", 0): 20,
    ("X", 1): 20,
    ("X", 2): 4,
    ("X", 3): 6,
    ("Y", 0): 10,
    ("Y", 1): 6,
    ("Y", 2): 20,
    ("Y", 3): 14,
}
OFFERS = {0: "discount", 1: "discount", 2: "standard"}


def test_segment_treatment_ratio_favourable_treatment():
    ctx = context([segmentation(TREAT_CELLS, treatment=OFFERS)])
    out = findings("fairness.segment_treatment_ratio", ctx, favourable_treatments=["discount"])
    assert statuses(out) == {f"{SEG}/by:grp": Status.FAIL, f"{SEG}/by:band": Status.PASS}
    o = out[f"{SEG}/by:grp"]
    x, y = 40 / 50, 16 / 50
    assert o.observed == pytest.approx(y / x) and o.observed == pytest.approx(0.4)
    assert o.evidence["worst_group"] == "Y" and o.evidence["best_group"] == "X"
    assert o.evidence["group_threshold"] == pytest.approx(0.8 * x)
    assert {r["group"]: r["value"] for r in o.evidence["by_group"]} == pytest.approx({"X": x, "Y": y})
    assert o.evidence["mode"] == "favourable"
    assert out[f"{SEG}/by:band"].observed == pytest.approx(1.0)
    comp = ctx.report.segments["segs"]["composition"]
    assert set(comp) == {"0 (discount)", "1 (discount)", "2 (standard)", "3"}
    assert comp["2 (standard)"]["grp=Y"] == pytest.approx(20 / 24)


def test_segment_treatment_ratio_reach_and_graded():
    ctx = context([segmentation(TREAT_CELLS, treatment=OFFERS)])
    reach = findings("fairness.segment_treatment_ratio", ctx)
    assert statuses(reach) == {f"{SEG}/by:grp": Status.FAIL, f"{SEG}/by:band": Status.PASS}
    o = reach[f"{SEG}/by:grp"]
    # reach X vs Y: discount 0.8 vs 0.32, standard 0.08 vs 0.4, no treatment 0.12 vs 0.28
    assert o.evidence["impact_ratio_by_treatment"] == pytest.approx(
        {"discount": 0.4, "standard": 0.2, "no treatment": 0.12 / 0.28}
    )
    assert o.evidence["treatment"] == "standard" and o.observed == pytest.approx(0.2)
    assert o.evidence["worst_group"] == "X" and o.evidence["mode"] == "reach"
    graded = findings("fairness.segment_treatment_ratio", ctx, treatment_values={"discount": 1.0, "standard": 0.5})
    g = graded[f"{SEG}/by:grp"]
    # X: 0.8 + 0.08 * 0.5 = 0.84; Y: 0.32 + 0.4 * 0.5 = 0.52
    assert g.observed == pytest.approx(0.52 / 0.84) and g.status is Status.FAIL
    assert g.evidence["mode"] == "graded"
    assert graded[f"{SEG}/by:band"].status is Status.PASS
    missing = findings("fairness.segment_treatment_ratio", ctx, treatment_values={"discount": 1.0})
    assert statuses(missing) == {SEG: Status.SKIPPED}
    assert "no value for ['standard']" in missing[SEG].message


def test_segment_treatment_ratio_noise_segment_treatment():
    cells = {(g, -1 if s == 3 else s): n for (g, s), n in TREAT_CELLS.items()}
    art = segmentation(cells, treatment={**OFFERS, -1: "discount"})
    o = findings("fairness.segment_treatment_ratio", context([art]), favourable_treatments=["discount"])[
        f"{SEG}/by:grp"
    ]
    # noise rows get the discount too: X 46/50, Y 30/50
    assert o.observed == pytest.approx((30 / 50) / (46 / 50))
    assert o.status is Status.FAIL


# ---------------------------------------------------------------------------
# recommender

ITEMS = pd.DataFrame(
    {
        "item_id": ["i1", "i2", "i3", "i4"],
        "category": ["A", "B", "A", "B"],
        "provider": ["P1", "P1", "P2", "P2"],
        "price": [10.0, 20.0, 30.0, 40.0],
        "popularity": [100, 10, 40, 5],
    }
)
LISTS = {"u1": ["i1", "i2", "i4"], "u2": ["i1", "i3"], "u3": ["i3", "i1"], "u4": ["i2", "i1"]}
# u9 was never served: its rating must not count as relevance
RATINGS = [
    ("u1", "i1", 5),
    ("u1", "i3", 5),
    ("u2", "i1", 4),
    ("u3", "i1", 5),
    ("u4", "i4", 5),
    ("u4", "i2", 3),
    ("u9", "i2", 5),
]


def recommender(lists: dict[str, list[str]] | None = None) -> RecommenderArtifact:
    """k = 2: u1's third item (i4) lies beyond the cut-off and is never shown."""
    rows = [
        (u, r, it, 1.0 / r)
        for u, items in (LISTS if lists is None else lists).items()
        for r, it in enumerate(items, start=1)
    ]
    recs = pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])
    recs["price"] = recs["item_id"].map(ITEMS.set_index("item_id")["price"])
    users = ["u1", "u2", "u3", "u4"]
    user_sensitive = pd.DataFrame({"gender": ["F", "F", "M", "M"]}, index=pd.Index(users, name="user_id"))
    return RecommenderArtifact(
        name="recs",
        algorithm="knn",
        purpose="test",
        dataset="ratings",
        features=["user_id", "item_id", "rating"],
        estimator=None,
        ids=np.asarray(users, dtype=object),
        sensitive=user_sensitive.reset_index(drop=True),
        recommendations=recs,
        item_features=ITEMS.copy(),
        test_ratings=pd.DataFrame(RATINGS, columns=["user_id", "item_id", "rating"]),
        k=2,
        user_sensitive=user_sensitive,
    )


def test_exposure_parity_by_hand():
    ctx = context([recommender()])
    out = findings("fairness.exposure_parity", ctx, item_attributes=["provider", "category", "colour"])
    assert statuses(out) == {
        f"{REC}/items_by:provider": Status.FAIL,
        f"{REC}/items_by:category": Status.FAIL,
        f"{REC}/items_by:colour": Status.SKIPPED,
    }
    # exposure: i1 = 2 + 2D, i2 = i3 = 1 + D, i4 = 0 -> P1 3/4, P2 1/4; A 3/4, B 1/4
    # relevance (served users, rating >= 4): i1 x3, i3 x1, i4 x1 -> P1 3/5, P2 2/5; A 4/5, B 1/5
    prov = out[f"{REC}/items_by:provider"]
    assert prov.observed == pytest.approx((0.25 / 0.4) / (0.75 / 0.6)) and prov.observed == pytest.approx(0.5)
    assert prov.evidence["worst_group"] == "P2" and prov.evidence["best_group"] == "P1"
    rows = {r["group"]: r for r in prov.evidence["by_group"]}
    assert rows["P1"]["exposure_share"] == pytest.approx(0.75) and rows["P1"]["relevance_share"] == pytest.approx(0.6)
    assert rows["P2"]["value"] == pytest.approx(0.625) and rows["P2"]["n"] == 2
    cat = out[f"{REC}/items_by:category"]
    assert cat.observed == pytest.approx((0.75 / 0.8) / (0.25 / 0.2)) and cat.observed == pytest.approx(0.75)
    assert cat.evidence["worst_group"] == "A"
    assert "no 'colour' column" in out[f"{REC}/items_by:colour"].message
    extras = ctx.report.exposure["recs"]
    assert extras == {
        "P1": {"exposure_share": pytest.approx(0.75), "relevance_share": pytest.approx(0.6), "attribute": "provider"},
        "P2": {"exposure_share": pytest.approx(0.25), "relevance_share": pytest.approx(0.4), "attribute": "provider"},
    }
    relaxed = findings("fairness.exposure_parity", context([recommender()]), min_ratio=0.7)
    assert statuses(relaxed) == {f"{REC}/items_by:provider": Status.FAIL, f"{REC}/items_by:category": Status.PASS}


def test_exposure_parity_with_a_stricter_relevance_threshold():
    out = findings("fairness.exposure_parity", context([recommender()]), relevance_threshold=5)
    # u2's rating 4 no longer counts: relevance i1 x2, i3 x1, i4 x1 -> P1 1/2, P2 1/2; A 3/4, B 1/4
    assert out[f"{REC}/items_by:provider"].observed == pytest.approx((0.25 / 0.5) / (0.75 / 0.5))
    assert out[f"{REC}/items_by:category"].observed == pytest.approx(1.0)
    assert statuses(out) == {f"{REC}/items_by:provider": Status.FAIL, f"{REC}/items_by:category": Status.PASS}


def test_user_quality_gap_by_hand():
    out = findings("fairness.user_quality_gap", context([recommender()]), min_group_size=2)
    assert statuses(out) == {f"{REC}/by:gender": Status.FAIL}
    o = out[f"{REC}/by:gender"]
    # NDCG@2: u1 1/(1+D) (one of two relevant at rank 1), u2 1, u3 D (rank 2), u4 0
    women, men = (1 / (1 + D) + 1) / 2, (D + 0) / 2
    assert o.observed == pytest.approx(men / women)
    assert o.evidence["worst_group"] == "M" and o.evidence["best_group"] == "F"
    assert {r["group"]: r["value"] for r in o.evidence["by_group"]} == pytest.approx({"F": women, "M": men})
    # precision@2: F (0.5, 0.5), M (0.5, 0); recall@2: F (0.5, 1), M (1, 0)
    assert o.evidence["ratios"] == pytest.approx(
        {"precision_at_k": 0.25 / 0.5, "recall_at_k": 0.5 / 0.75, "ndcg_at_k": men / women}
    )
    assert o.evidence["users_evaluated"] == 4 and o.evidence["k"] == 2
    recall = findings(
        "fairness.user_quality_gap", context([recommender()]), min_group_size=2, metric="recall_at_k", min_ratio=0.6
    )
    assert recall[f"{REC}/by:gender"].status is Status.PASS
    assert recall[f"{REC}/by:gender"].observed == pytest.approx(2 / 3)


def test_user_quality_gap_with_groups_below_the_minimum_size_is_not_judged():
    o = findings("fairness.user_quality_gap", context([recommender()]))[f"{REC}/by:gender"]
    assert o.status is Status.SKIPPED
    assert sorted(o.evidence["excluded_groups"]) == ["F", "M"]


def gini(x: np.ndarray) -> float:
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean()))


def test_popularity_bias_by_hand():
    out = findings("rec.popularity_bias", context([recommender()]))
    assert statuses(out) == {
        f"{REC}/metric:exposure_gini": Status.PASS,
        f"{REC}/metric:catalogue_coverage": Status.PASS,
    }
    a = 1 + D
    g = out[f"{REC}/metric:exposure_gini"]
    # exposure (2a, a, a, 0): mean absolute difference 12a over 16 pairs, mean a -> 12a / (2 * 16 * a)
    assert g.observed == pytest.approx(gini(np.array([2 * a, a, a, 0.0]))) and g.observed == pytest.approx(0.375)
    cov = out[f"{REC}/metric:catalogue_coverage"]
    assert cov.observed == pytest.approx(0.75)
    est = g.evidence["estimates"]
    # list popularity: u1 (100+10)/2, u2 (100+40)/2, u3 70, u4 55; i1 alone is the head (20% of 4 items)
    assert est["average_recommended_popularity"]["value"] == pytest.approx(62.5)
    assert est["long_tail_share"]["value"] == pytest.approx(4 / 8)
    assert g.evidence["k"] == 2 and g.evidence["catalogue_items"] == 4
    strict = findings("rec.popularity_bias", context([recommender()]), max_gini=0.3, min_coverage=0.8)
    assert set(statuses(strict).values()) == {Status.FAIL}
    # with k = 3 u1's i4 is shown at rank 3 (weight 1/2): the whole catalogue is covered
    k3 = findings("rec.popularity_bias", context([recommender()]), k=3)
    assert k3[f"{REC}/metric:catalogue_coverage"].observed == pytest.approx(1.0)
    assert k3[f"{REC}/metric:exposure_gini"].observed == pytest.approx(gini(np.array([2 * a, a, a, 0.5])))


def test_popularity_bias_without_recommendations_skips():
    out = findings("rec.popularity_bias", context([recommender(lists={})]))
    assert statuses(out) == {REC: Status.SKIPPED}
    assert "no recommendations" in out[REC].message
