"""Figures audited from audit.yaml equal an independent computation on the same data."""

from __future__ import annotations

import math

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest

from tests.checks.runcheck import findings

RECS = """\
datasets:
  heldout:
    source: {path: heldout.csv}
    roles: {user: user_id, item: item_id, rating: rating}
  users:
    source: {path: users.csv}
    roles: {id: user_id, protected: [gender]}
models:
  - {name: theirs, kind: recommender, source: recommendations, path: recs.csv, dataset: heldout, users: users}
"""


def _recommender_tables(seed: int = 5) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    users = pd.DataFrame({"user_id": [f"U{i:03d}" for i in range(80)], "gender": ["F"] * 40 + ["M"] * 40})
    items = [f"I{j:02d}" for j in range(25)]
    ratings, recs = [], []
    for i, u in enumerate(users["user_id"]):
        rated = list(rng.choice(items, size=8, replace=False))
        for it in rated:
            ratings.append({"user_id": u, "item_id": it, "rating": int(rng.integers(1, 6))})
        # men's lists start with three items they rated, women's are drawn at random: a quality gap by construction
        if i < 40:
            chosen = list(rng.choice(items, size=6, replace=False))
        else:
            rest = [it for it in items if it not in rated[:3]]
            chosen = rated[:3] + list(rng.choice(rest, size=3, replace=False))
        for rank, it in enumerate(chosen, start=1):
            recs.append({"user": u, "item": it, "rank": rank, "score": 1.0 / rank})
    return {"heldout": pd.DataFrame(ratings), "users": users}, pd.DataFrame(recs)


def _ndcg_by_hand(lists: dict[str, list[str]], relevant: dict[str, set[str]], k: int) -> dict[str, float]:
    out = {}
    for user, items in lists.items():
        rel = relevant.get(user, set())
        if not rel:
            continue
        dcg = sum(1.0 / math.log2(rank + 1) for rank, item in enumerate(items[:k], start=1) if item in rel)
        idcg = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(rel), k) + 1))
        out[user] = dcg / idcg
    return out


def test_recommender_quality_gap_from_config_equals_a_hand_computation(build, tmp_path):
    tables, recs = _recommender_tables()
    recs.to_csv(tmp_path / "recs.csv", index=False)
    ctx = build(RECS, tables)
    f = findings("fairness.user_quality_gap", ctx, n_boot=0)["model:theirs/by:gender"]

    ratings = tables["heldout"]
    relevant = {u: set(g["item_id"]) for u, g in ratings[ratings["rating"] >= 4].groupby("user_id")}
    lists = {u: list(g.sort_values("rank")["item"]) for u, g in recs.groupby("user")}
    ndcg = _ndcg_by_hand(lists, relevant, k=6)
    gender = dict(zip(tables["users"]["user_id"], tables["users"]["gender"], strict=True))
    means = {g: float(np.mean([v for u, v in ndcg.items() if gender[u] == g])) for g in ("F", "M")}
    assert f.observed == pytest.approx(min(means.values()) / max(means.values()), abs=1e-12)
    rows = {r["group"]: r for r in f.evidence["by_group"]}
    assert rows["F"]["value"] == pytest.approx(means["F"], abs=1e-12)
    assert rows["M"]["value"] == pytest.approx(means["M"], abs=1e-12)
    assert rows["F"]["n"] == sum(1 for u in ndcg if gender[u] == "F")
    assert f.evidence["k"] == 6
    assert means["F"] < means["M"] and f.status.value == "fail", (means, f.message)


CLASSIFIER = """\
datasets:
  applicants:
    source: {path: applicants.csv}
    roles: {id: customer_id, protected: [gender, region], target: outcome}
    positive_labels: ["declined"]
models:
  - {name: credit, kind: classifier, source: predictions, path: preds.csv, dataset: applicants, adverse_outcome: positive}
"""


def test_classifier_fairness_from_config_equals_fairlearn(build, tmp_path):
    rng = np.random.default_rng(9)
    n = 600
    df = pd.DataFrame(
        {
            "customer_id": [f"A{i:04d}" for i in range(n)],
            "gender": rng.choice(["female", "male"], n),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    truth = np.where(rng.random(n) < 0.3, "declined", "approved")
    p_decline = np.where(df["gender"] == "female", 0.45, 0.25)
    pred = np.where(rng.random(n) < p_decline, "declined", "approved")
    df["outcome"] = truth
    pd.DataFrame({"id": df["customer_id"], "y_true": truth, "y_pred": pred}).to_csv(tmp_path / "preds.csv", index=False)
    ctx = build(CLASSIFIER, {"applicants": df})

    # "declined" is the positive class and adverse: the favourable outcome is being approved
    fav_true = (truth == "approved").astype(int)
    fav_pred = (pred == "approved").astype(int)
    for attr in ("gender", "region"):
        sf = df[attr].to_numpy()
        label = f"model:credit/by:{attr}"
        dpd = findings("fairness.demographic_parity_difference", ctx, n_boot=0)[label]
        assert dpd.observed == pytest.approx(flm.demographic_parity_difference(fav_true, fav_pred, sensitive_features=sf), abs=1e-12)
        ratio = findings("fairness.selection_rate_impact_ratio", ctx, n_boot=0)[label]
        assert ratio.observed == pytest.approx(flm.demographic_parity_ratio(fav_true, fav_pred, sensitive_features=sf), abs=1e-12)
        eod = findings("fairness.equalized_odds_difference", ctx, n_boot=0)[label]
        assert eod.observed == pytest.approx(flm.equalized_odds_difference(fav_true, fav_pred, sensitive_features=sf), abs=1e-12)
        eop = findings("fairness.equal_opportunity_difference", ctx, n_boot=0)[label]
        tpr = flm.MetricFrame(metrics=flm.true_positive_rate, y_true=fav_true, y_pred=fav_pred, sensitive_features=sf)
        assert eop.observed == pytest.approx(tpr.difference(), abs=1e-12)
