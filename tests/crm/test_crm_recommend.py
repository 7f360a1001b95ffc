from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit.crm.recommend import (
    ContentRecommender,
    HybridRecommender,
    KNNWithMeansRecommender,
    evaluate_recommender,
    ranking_metrics,
    split_ratings,
)

HAND = pd.DataFrame(
    [
        ("A", "i1", 5),
        ("A", "i2", 3),
        ("A", "i3", 4),
        ("B", "i1", 4),
        ("B", "i2", 2),
        ("B", "i3", 3),
        ("B", "i4", 4),
        ("C", "i1", 2),
        ("C", "i2", 4),
        ("C", "i3", 3),
        ("C", "i4", 1),
        ("D", "i1", 5),
        ("D", "i2", 2),
        ("D", "i3", 2),
        ("D", "i4", 2),
    ],
    columns=["user_id", "item_id", "rating"],
)

# By hand. User means: A 4, B 13/4, C 10/4, D 11/4.
# Pearson on co-rated items (means over those items):
#   A-B: A (5,3,4) -> (1,-1,0); B (4,2,3) -> (1,-1,0): sim 1
#   A-C: C (2,4,3) -> (-1,1,0): sim -1 (never used: only positive similarities count)
#   A-D: D (5,2,2) -> (2,-1,-1): 3 / (sqrt 2 * sqrt 6) = 3 / sqrt 12
SIM_AD = 3 / math.sqrt(12)
PRED_K40 = 4 + (1.0 * (4 - 13 / 4) + SIM_AD * (2 - 11 / 4)) / (1.0 + SIM_AD)
PRED_K1 = 4 + (4 - 13 / 4)


@pytest.mark.parametrize("backend", ["sparse", "surprise"])
def test_knn_with_means_matches_hand_computation(backend: str) -> None:
    model = KNNWithMeansRecommender(k=40, backend=backend, n_neighbours=None).fit(HAND)
    assert model.predict(["A"], ["i4"])[0] == pytest.approx(PRED_K40)
    one = KNNWithMeansRecommender(k=1, backend=backend, n_neighbours=None).fit(HAND)
    assert one.predict(["A"], ["i4"])[0] == pytest.approx(PRED_K1)
    strict = KNNWithMeansRecommender(min_k=3, backend=backend, n_neighbours=None).fit(HAND)
    assert strict.predict(["A"], ["i4"])[0] == pytest.approx(4.0)  # too few neighbours: user mean
    explained = model.explain("A", "i4")
    assert [(u, r) for u, _, r in explained] == [("B", 4.0), ("D", 2.0)]
    assert explained[1][1] == pytest.approx(SIM_AD)


def test_unknown_user_or_item_gets_global_mean() -> None:
    model = KNNWithMeansRecommender(backend="sparse").fit(HAND)
    glob = HAND["rating"].mean()
    assert model.predict(["nobody", "A"], ["i4", "nothing"]).tolist() == pytest.approx([glob, glob])


def test_recommend_excludes_rated_items_and_adds_prices() -> None:
    model = KNNWithMeansRecommender(backend="sparse").fit(HAND)
    recs = model.recommend(["A"], k=3, item_prices={"i4": 9.5})
    assert recs[["user_id", "rank", "item_id"]].values.tolist() == [["A", 1, "i4"]]
    assert recs["score"].iloc[0] == pytest.approx(PRED_K40)
    assert recs["price"].iloc[0] == 9.5


def _random_ratings(seed: int = 0, users: int = 150, items: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        for i in rng.choice(items, size=int(rng.integers(6, 20)), replace=False):
            rows.append((f"u{u}", f"i{i}", int(rng.integers(1, 6))))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])


def test_sparse_backend_agrees_with_scikit_surprise() -> None:
    surprise = pytest.importorskip("surprise")
    ratings = _random_ratings()
    ours = KNNWithMeansRecommender(k=40, backend="sparse", n_neighbours=None).fit(ratings)
    data = surprise.Dataset.load_from_df(ratings, surprise.Reader(rating_scale=(1, 5)))
    ref = surprise.KNNWithMeans(k=40, sim_options={"name": "pearson", "user_based": True}, verbose=False)
    ref.fit(data.build_full_trainset())
    rated = set(zip(ratings["user_id"], ratings["item_id"]))
    pairs = [(f"u{u}", f"i{i}") for u in range(0, 150, 7) for i in range(40) if (f"u{u}", f"i{i}") not in rated]
    users, items = zip(*pairs)
    expected = np.array([ref.predict(u, i).est for u, i in pairs])
    assert np.allclose(ours.predict(users, items), expected, atol=1e-9)


def test_neighbour_lists_are_bounded() -> None:
    ratings = _random_ratings(users=120)
    model = KNNWithMeansRecommender(n_neighbours=5, backend="sparse", block_size=16).fit(ratings)
    assert model.nbr_idx_.shape == (120, 5)
    sims = model.nbr_sim_
    assert (np.diff(sims, axis=1) <= 1e-12).all()  # best first
    assert ((model.nbr_idx_ >= 0) == (sims > 0)).all()  # only positive similarities kept
    full = KNNWithMeansRecommender(n_neighbours=None, backend="sparse").fit(ratings)
    # the kept neighbours are the most similar ones of the full list
    assert np.allclose(model.nbr_sim_[:, 0], full.nbr_sim_[:, 0])


def test_content_recommender_by_hand() -> None:
    items = pd.DataFrame({"item_id": ["X", "Y", "Z"], "category": ["a", "a", "b"], "price": [10.0, 10.0, 10.0]})
    ratings = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["X", "Z", "Y"], "rating": [5, 1, 3]})
    model = ContentRecommender(categorical=("category",)).fit(ratings, items)
    # Y is identical to X (cosine 1) and orthogonal to Z: mean 3 + (5 - 3) = 5
    assert model.predict(["u1"], ["Y"])[0] == pytest.approx(5.0)
    assert model.recommend(["u1"], k=5)["item_id"].tolist() == ["Y"]


def test_hybrid_blends_where_both_parts_have_support() -> None:
    ratings = _random_ratings(seed=2, users=80, items=30)
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(30)],
            "category": [f"c{i % 4}" for i in range(30)],
            "price": np.linspace(5, 50, 30),
            "provider": "p",
        }
    )
    knn = KNNWithMeansRecommender(backend="sparse").fit(ratings, items=items["item_id"])
    content = ContentRecommender().fit(ratings, items)
    hybrid = HybridRecommender(knn, content, weight=0.25).fit(ratings, items, prefitted=True)
    users = ["u1", "u2", "u3"]
    k_rows, c_rows = knn.user_positions(users), content.user_positions(users)
    k_est, k_ok = knn._score_rows(k_rows)
    c_est, c_ok = content._score_rows(c_rows)
    h = hybrid.score_users(users)
    both = k_ok & c_ok
    assert both.any()
    assert np.allclose(h[both], np.clip(0.25 * k_est[both] + 0.75 * c_est[both], 1, 5))
    only_c = c_ok & ~k_ok
    assert np.allclose(h[only_c], np.clip(c_est[only_c], 1, 5))
    assert hybrid.explain("u1", "i0") == knn.explain("u1", "i0")


def test_ranking_metrics_by_hand() -> None:
    recs = pd.DataFrame(
        {"user_id": ["u1"] * 3 + ["u2"] * 3, "rank": [1, 2, 3] * 2, "item_id": ["a", "b", "c", "x", "y", "z"]}
    )
    relevant = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["b", "d", "x"]})
    m = ranking_metrics(recs, relevant, k=3)
    ndcg_u1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["precision@3"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert m["recall@3"] == pytest.approx((1 / 2 + 1) / 2)
    assert m["ndcg@3"] == pytest.approx((ndcg_u1 + 1.0) / 2)


def test_split_and_evaluate() -> None:
    ratings = _random_ratings(seed=5)
    train, test = split_ratings(ratings, test_size=0.2, seed=1)
    assert len(train) + len(test) == len(ratings)
    assert not set(zip(train.user_id, train.item_id)) & set(zip(test.user_id, test.item_id))
    counts = ratings.groupby("user_id").size()
    held = test.groupby("user_id").size()
    assert (held.to_numpy() == np.floor(counts.loc[held.index].to_numpy() * 0.2)).all()
    model = KNNWithMeansRecommender(backend="sparse").fit(train, items=ratings["item_id"].unique())
    metrics = evaluate_recommender(model, test, k=5)
    pred = model.predict(test.user_id, test.item_id)
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean((pred - test.rating) ** 2)))
    recs = model.recommend(list(test.user_id.unique()), k=5)
    assert metrics["coverage"] == pytest.approx(recs.item_id.nunique() / 40)
    assert 0 <= metrics["ndcg@5"] <= 1 and metrics["rmse"] < 2.0
