"""Small hand-built artifacts and a runner for the fairness check tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.checks import load_builtin_checks
from audit.core.check import Check
from audit.core.context import AuditContext, ColumnRoles, Dataset
from audit.core.finding import Outcome
from audit.crm.artifacts import (
    ClassifierArtifact,
    RecommenderArtifact,
    SegmentationArtifact,
    TextModelArtifact,
)

load_builtin_checks()

AGE_EDGES = [18, 30, 45, 60, 121]


def run(check_cls: type[Check], ctx: AuditContext, **params: Any) -> dict[str, Outcome]:
    """Evaluate one check over every applicable subject; outcomes keyed by subject label."""
    check = check_cls()
    p = check_cls.Params(**params)
    out: dict[str, Outcome] = {}
    for kind in check_cls.meta.subjects:
        for subject in ctx.subjects(kind):
            if not check.applies(subject, p, ctx):
                continue
            for o in check.evaluate(subject, p, ctx):
                assert o.subject not in out, f"duplicate subject {o.subject}"
                out[o.subject] = o
    return out


def customers_dataset(frame: pd.DataFrame | None = None) -> Dataset:
    frame = frame if frame is not None else pd.DataFrame({"customer_id": ["C1"], "age": [30], "gender": ["F"]})
    return Dataset(
        name="customers",
        frame=frame,
        roles=ColumnRoles(id="customer_id", protected=["gender", "age"]),
        source="customers.csv",
        sha256="0" * 64,
        bands={"age": AGE_EDGES},
    )


def context(models: list[Any], frame: pd.DataFrame | None = None, seed: int = 0) -> AuditContext:
    return AuditContext(datasets={"customers": customers_dataset(frame)}, models=models, seed=seed)


# ---------------------------------------------------------------------------
# classifier


def classifier_data() -> pd.DataFrame:
    """400 rows: young customers are flagged far more often; gender plays no role.

    Favourable outcome = not flagged (prediction 0). Ages are numeric and banded
    through the dataset configuration; 10 rows have no age ("unknown", too small
    to judge).
    """
    rng = np.random.default_rng(11)
    n = 400
    gender = np.tile(["F", "M"], n // 2)
    band_of = np.repeat([0, 1, 2, 3], n // 4)
    rng.shuffle(band_of)
    age = np.array([22, 37, 50, 70])[band_of].astype(float)
    age[:10] = np.nan
    young = band_of == 0
    y_true = (rng.random(n) < np.where(young, 0.5, 0.15)).astype(int)
    score = np.clip(np.where(young, 0.55, 0.2) + 0.3 * (y_true - 0.3) + rng.normal(0, 0.1, n), 0.01, 0.99)
    y_pred = (score >= 0.5).astype(int)
    return pd.DataFrame({"gender": gender, "age": age, "y_true": y_true, "y_pred": y_pred, "score": score, "tenure": rng.integers(1, 60, n)})


def classifier(data: pd.DataFrame, *, name: str = "churn_test", sensitive: pd.DataFrame | None = None) -> ClassifierArtifact:
    return ClassifierArtifact(
        name=name,
        algorithm="logistic_regression",
        purpose="test",
        dataset="customers",
        features=["tenure"],
        estimator=None,
        sensitive=data[["gender", "age"]].reset_index(drop=True) if sensitive is None else sensitive,
        X_eval=data[["tenure"]],
        y_true=data["y_true"].to_numpy(),
        y_pred=data["y_pred"].to_numpy(),
        y_score=data["score"].to_numpy(),
        positive_label=1,
        favourable_outcome="negative",
    )


def age_labels(age: pd.Series) -> np.ndarray:
    out = pd.cut(age, bins=AGE_EDGES, right=False, labels=["18-29", "30-44", "45-59", "60-120"]).astype(object)
    return np.where(age.isna(), "unknown", out).astype(object)


# ---------------------------------------------------------------------------
# segmentation


def segmentation(*, treatment: dict[int, str] | None = None, noise: int = 0) -> SegmentationArtifact:
    """200 customers in two segments: group A is 80% of segment 0, B 80% of segment 1.

    ``g2`` is split evenly within every segment. ``noise`` extra rows get label -1.
    """
    grp = np.array(["A"] * 80 + ["B"] * 20 + ["A"] * 20 + ["B"] * 80 + ["A"] * noise, dtype=object)
    labels = np.array([0] * 100 + [1] * 100 + [-1] * noise)
    g2 = np.array((["x", "y"] * 50) * 2 + ["x"] * noise, dtype=object)
    n = labels.size
    return SegmentationArtifact(
        name="segments_test",
        algorithm="kmeans",
        purpose="test",
        dataset="customers",
        features=["recency"],
        estimator=None,
        sensitive=pd.DataFrame({"grp": grp, "g2": g2}),
        X=pd.DataFrame({"recency": np.arange(n)}),
        labels=labels,
        profiles=pd.DataFrame(),
        treatment=treatment,
        noise_count=noise,
    )


# ---------------------------------------------------------------------------
# recommender

ITEMS = pd.DataFrame(
    {
        "item_id": ["a_cheap", "a_pricey", "b_cheap", "b_pricey", "c_other"],
        "category": ["A", "A", "B", "B", "C"],
        "price": [10.0, 20.0, 50.0, 100.0, 30.0],
        "popularity": [50, 10, 40, 5, 30],
        "provider": ["P2", "P1", "P2", "P1", "P3"],
    }
)


def recommender(*, opted_out_lists: dict[str, list[str]] | None = None) -> RecommenderArtifact:
    """60 users: women (u00-u29) get the pricey item of each category, men the cheap one.

    Band ``young``/``old`` alternates within each gender. Women's held-out liked
    item is a_pricey; men's are a_cheap and c_other.
    """
    users = [f"u{j:02d}" for j in range(60)]
    gender = ["F"] * 30 + ["M"] * 30
    band = ["young", "old"] * 30
    rows, ratings = [], []
    for u, g in zip(users, gender, strict=True):
        items = ["a_pricey", "b_pricey"] if g == "F" else ["a_cheap", "b_cheap"]
        for r, it in enumerate(items, start=1):
            rows.append((u, r, it, 5.0 - r))
        liked = ["a_pricey"] if g == "F" else ["a_cheap", "c_other"]
        ratings += [(u, it, 5) for it in liked] + [(u, "b_cheap", 2)]
    for u, items in (opted_out_lists or {}).items():
        for r, it in enumerate(items, start=1):
            rows.append((u, r, it, 1.0))
    recs = pd.DataFrame(rows, columns=["user_id", "rank", "item_id", "score"])
    recs["price"] = recs["item_id"].map(ITEMS.set_index("item_id")["price"])
    user_sensitive = pd.DataFrame({"gender": gender, "age_band": band}, index=pd.Index(users, name="user_id"))
    return RecommenderArtifact(
        name="recs_test",
        algorithm="knn",
        purpose="test",
        dataset="ratings",
        features=["user_id", "item_id", "rating"],
        estimator=None,
        ids=np.asarray(users, dtype=object),
        sensitive=user_sensitive.reset_index(drop=True),
        recommendations=recs,
        item_features=ITEMS.copy(),
        test_ratings=pd.DataFrame(ratings, columns=["user_id", "item_id", "rating"]),
        k=2,
        user_sensitive=user_sensitive,
    )


# ---------------------------------------------------------------------------
# text


def text_model(predict: Any, texts: list[str], *, name: str = "sentiment_test") -> TextModelArtifact:
    n = len(texts)
    proba = np.asarray(predict(texts))
    return TextModelArtifact(
        name=name,
        algorithm="rules",
        purpose="test",
        dataset="feedback",
        features=["text"],
        estimator=None,
        texts=pd.Series(texts),
        y_true=np.array(["positive"] * n),
        y_pred=np.array(["negative", "positive"])[proba.argmax(axis=1)],
        y_score=proba,
        language=pd.Series(["en"] * n),
        predict_proba=predict,
        labels=["negative", "positive"],
        positive_label="positive",
    )
