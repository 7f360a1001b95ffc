"""Token explanations for text models and evidence behind recommendations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import sparse

from audit.crm.artifacts import RecommenderArtifact, TextModelArtifact
from audit.explain import explain_recommendation, explain_text

FILLER = [
    "order",
    "delivery",
    "parcel",
    "arrived",
    "today",
    "yesterday",
    "package",
    "box",
    "courier",
    "store",
    "online",
]


def _text_artifact(opaque: bool = False) -> TextModelArtifact:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(200):
        words = list(rng.choice(FILLER, size=6))
        planted = i % 2 == 0
        if planted:
            words.insert(int(rng.integers(0, 6)), "refund")
        texts.append(" ".join(words))
        labels.append("complaint" if planted else "other")
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(texts, labels)
    return TextModelArtifact(
        name="topics",
        algorithm="tfidf_lr",
        purpose="test",
        dataset="synthetic",
        features=["text"],
        estimator=None if opaque else pipe,
        texts=pd.Series(texts),
        y_true=np.array(labels),
        y_pred=pipe.predict(texts),
        y_score=pipe.predict_proba(texts),
        language=pd.Series(["en"] * len(texts)),
        predict_proba=pipe.predict_proba,
        labels=list(pipe.classes_),
    )


def test_coefficient_explanation_finds_the_planted_token():
    exp = explain_text(_text_artifact(), "the courier said my refund is on the way", top_n=3)
    assert exp.label == "complaint"
    assert exp.method == "tfidf_coefficients"
    assert exp.tokens[0][0] == "refund"
    assert len(exp.tokens) <= 3
    json.dumps(exp.to_dict())


def test_leave_one_token_out_finds_the_planted_token_in_a_black_box():
    exp = explain_text(_text_artifact(opaque=True), "the courier said my refund is on the way", top_n=3)
    assert exp.method == "leave_one_token_out"
    assert exp.tokens[0][0] == "refund"
    assert exp.tokens[0][1] > 0.2


def test_explaining_the_other_class_reverses_the_token():
    exp = explain_text(_text_artifact(), "refund for the parcel", label="other")
    assert exp.label == "other"
    assert "refund" in [t for t, _ in exp.opposing]


class _Neighbourly:
    """A user-based recommender stub exposing ``explain`` like the CRM recommenders."""

    def explain(self, user_id, item_id):
        return [("U2", 0.4, 4.0), ("U3", 0.9, 5.0)] if (user_id, item_id) == ("U1", "I9") else []


class _ContentStub:
    """Item-similarity model with the fitted attributes a content recommender exposes."""

    def __init__(self) -> None:
        self.users_ = np.array(["U1", "U2"], dtype=object)
        self.items_ = np.array(["I1", "I2", "I3", "I9"], dtype=object)
        self.user_index_ = {u: i for i, u in enumerate(self.users_)}
        self.item_index_ = {i: j for j, i in enumerate(self.items_)}
        # U1 rated I1 (5), I2 (2), I3 (4)
        self.R_ = sparse.csr_matrix(np.array([[5.0, 2.0, 4.0, 0.0], [0.0, 0.0, 0.0, 3.0]]))
        sims = np.zeros((4, 4))
        sims[3, :3] = [0.8, 0.1, 0.0]
        self.item_sim_ = sims
        self.k = 20


def _rec_artifact(estimator) -> RecommenderArtifact:
    return RecommenderArtifact(
        name="recs",
        algorithm="stub",
        purpose="test",
        dataset="synthetic",
        features=["user_id", "item_id", "rating"],
        estimator=estimator,
        recommendations=pd.DataFrame(
            {"user_id": ["U1"], "rank": [1], "item_id": ["I9"], "score": [4.6], "price": [10.0]}
        ),
        item_features=pd.DataFrame(),
        test_ratings=pd.DataFrame(),
    )


def test_user_neighbours_are_listed_by_similarity():
    exp = explain_recommendation(_rec_artifact(_Neighbourly()), "U1", "I9")
    assert exp.kind == "user_neighbours"
    assert [n["user_id"] for n in exp.neighbours] == ["U3", "U2"]
    assert exp.score == 4.6 and exp.rank == 1
    json.dumps(exp.to_dict())


def test_content_recommendation_lists_similar_rated_items():
    exp = explain_recommendation(_rec_artifact(_ContentStub()), "U1", "I9")
    assert exp.kind == "similar_items"
    assert [n["item_id"] for n in exp.similar_items] == ["I1", "I2"]  # zero similarity is not evidence
    assert exp.similar_items[0]["rating"] == 5.0


def test_no_evidence_is_reported():
    exp = explain_recommendation(_rec_artifact(_Neighbourly()), "U1", "I1")
    assert exp.kind == "none"
    assert exp.notes


def test_real_content_recommender():
    from audit.crm.recommend import ContentRecommender

    ratings = pd.DataFrame(
        {
            "user_id": ["U1", "U1", "U2", "U2", "U3"],
            "item_id": ["A", "B", "A", "C", "C"],
            "rating": [5.0, 1.0, 4.0, 5.0, 2.0],
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["A", "B", "C", "D"],
            "category": ["shoes", "books", "shoes", "shoes"],
            "provider": ["p1", "p2", "p1", "p1"],
            "price": [50.0, 10.0, 55.0, 52.0],
        }
    )
    model = ContentRecommender(k=5).fit(ratings, items)
    exp = explain_recommendation(_rec_artifact(model), "U1", "D")
    assert exp.kind == "similar_items"
    assert exp.similar_items[0]["item_id"] == "A"  # the shoe U1 rated, not the book
