"""Model artifacts: the contract between the CRM modelling stack and the audit checks.

Checks never refit a model; they read what a fitted model produced on its
evaluation rows (inputs in original units, outputs, protected attributes) from
one of these dataclasses. Keeping them plain dataclasses keeps fitted
estimators and DataFrames inside without validation overhead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ArtifactKind",
    "ClassifierArtifact",
    "ModelArtifact",
    "RecommenderArtifact",
    "RegressorArtifact",
    "SegmentationArtifact",
    "TextModelArtifact",
]

ArtifactKind = Literal["classifier", "regressor", "segmentation", "recommender", "text_classifier"]


def _json_number(value: Any) -> float | None:
    """Metrics go into JSON reports, where NaN/inf are not valid numbers."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(kw_only=True)
class ModelArtifact:
    """Fields shared by every model kind.

    ``features`` lists ORIGINAL input columns (before one-hot encoding) so a
    check can tell whether a direct identifier or protected attribute was fed
    to the model. ``ids`` and ``sensitive`` are aligned row by row with the
    evaluation data of the concrete artifact.
    """

    name: str
    kind: ArtifactKind
    algorithm: str
    purpose: str
    dataset: str
    features: list[str]
    estimator: Any
    ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    sensitive: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: dict[str, float] = field(default_factory=dict)
    training_rows: int = 0
    notes: list[str] = field(default_factory=list)
    source: str = "train"  # where the model came from (see audit.core.kinds)

    def to_summary(self) -> dict[str, Any]:
        """JSON-safe description for reports (no estimator, no row data)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "algorithm": self.algorithm,
            "purpose": self.purpose,
            "dataset": self.dataset,
            "features": [str(f) for f in self.features],
            "source": self.source,
            "training_rows": int(self.training_rows),
            "metrics": {str(k): _json_number(v) for k, v in self.metrics.items()},
        }


@dataclass(kw_only=True)
class ClassifierArtifact(ModelArtifact):
    """A binary classifier evaluated on held-out rows.

    ``favourable_outcome`` says which prediction benefits the person: for the
    demo churn models a predicted churner is flagged as a risk (the flag drives
    lower-priority service and fewer discounts), so ``"negative"`` (not flagged)
    is favourable. Fairness checks compute selection rates on the favourable
    outcome. ``y_score`` is the calibrated probability of ``positive_label``.
    """

    kind: ArtifactKind = "classifier"
    X_eval: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray
    threshold: float = 0.5
    positive_label: Any = 1
    favourable_outcome: Literal["positive", "negative"] = "positive"
    X_train_sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    preprocessor: Any = None

    def favourable_mask(self) -> np.ndarray:
        """Boolean mask of evaluation rows that received the favourable outcome."""
        positive = np.asarray(self.y_pred) == self.positive_label
        return positive if self.favourable_outcome == "positive" else ~positive


@dataclass(kw_only=True)
class RegressorArtifact(ModelArtifact):
    """A regressor (e.g. customer value) evaluated on held-out rows."""

    kind: ArtifactKind = "regressor"
    X_eval: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    X_train_sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    preprocessor: Any = None


@dataclass(kw_only=True)
class SegmentationArtifact(ModelArtifact):
    """A clustering of customers; label -1 marks noise (DBSCAN)."""

    kind: ArtifactKind = "segmentation"
    X: pd.DataFrame
    labels: np.ndarray
    profiles: pd.DataFrame
    treatment: dict[int, str] | None = None
    noise_count: int = 0


@dataclass(kw_only=True)
class RecommenderArtifact(ModelArtifact):
    """A recommender with its top-k lists and the item catalogue.

    ``recommendations`` has columns user_id, rank, item_id, score, price;
    ``item_features`` has item_id, category, price, popularity, provider;
    ``user_sensitive`` is indexed by user_id. ``ids``/``sensitive`` hold the
    users that received recommendations, in the same order.
    """

    kind: ArtifactKind = "recommender"
    recommendations: pd.DataFrame
    item_features: pd.DataFrame
    test_ratings: pd.DataFrame
    k: int = 10
    user_sensitive: pd.DataFrame = field(default_factory=pd.DataFrame)

    def explain_neighbours(self, user_id: Any, item_id: Any) -> list[tuple[Any, float, float]]:
        """(neighbour user id, similarity, neighbour's rating) behind a prediction.

        Empty when the estimator is not neighbour-based (content filtering),
        which is itself informative for an explanation check.
        """
        explain = getattr(self.estimator, "explain", None)
        if explain is None:
            return []
        return list(explain(user_id, item_id))


@dataclass(kw_only=True)
class TextModelArtifact(ModelArtifact):
    """A text classifier (sentiment, ticket topic) on raw strings.

    ``y_score`` has one column per entry of ``labels`` (same order);
    ``predict_proba`` takes raw strings so checks can swap identity words and
    compare the outputs.
    """

    kind: ArtifactKind = "text_classifier"
    texts: pd.Series
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray
    language: pd.Series
    predict_proba: Callable[[Sequence[str]], np.ndarray]
    labels: list[Any]
    positive_label: Any = None
