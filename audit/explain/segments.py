"""Why a customer is in their segment.

Segments often decide which offer a customer gets, so the customer may ask
why they were put there. For centroid models (k-means) the answer is exact:
the squared distance to the customer's centroid and to the next-nearest
centroid both split into one term per feature (in the standardised space the
clustering used), and a feature's share of the margin says how much it pulls
the customer into their own segment rather than the runner-up. Density
models (DBSCAN) have no such decomposition, so a shallow decision tree is
fitted to the segment labels as a surrogate; its decision path is the
explanation and its fidelity (agreement with the real labels) says how far to
trust it.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SegmentExplanation", "SegmentSurrogate", "explain_segment", "segment_surrogate"]


@dataclass(frozen=True, eq=False)
class SegmentSurrogate:
    """A depth-limited decision tree mimicking a segmentation, with its fidelity."""

    tree: Any
    features: list[str]
    fidelity: float
    per_segment_fidelity: dict[int, float]
    max_depth: int


@dataclass(frozen=True, eq=False)
class SegmentExplanation:
    """Why evaluation row ``row_index`` got segment ``segment``.

    Centroid method: ``features`` has one row per feature with the value in
    original units, the standardised value, both centroid coordinates, the
    two squared-distance terms and ``margin`` (next minus own: positive pulls
    the customer into their own segment), largest margin first;
    ``margin_share`` divides by the total margin, so the shares sum to 1 and a
    negative share pulls towards the runner-up segment.
    Surrogate method: ``rules`` is the decision path of the surrogate tree.
    """

    row_index: int
    id: Any
    segment: int
    method: str
    features: pd.DataFrame
    next_segment: int | None = None
    distance_own: float | None = None
    distance_next: float | None = None
    rules: list[dict[str, Any]] = field(default_factory=list)
    surrogate_segment: int | None = None
    fidelity: float | None = None
    treatment: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        frame = self.features.replace({np.nan: None})
        return {
            "row_index": self.row_index,
            "id": _plain(self.id),
            "segment": self.segment,
            "method": self.method,
            "next_segment": self.next_segment,
            "distance_own": self.distance_own,
            "distance_next": self.distance_next,
            "features": [{k: _plain(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")],
            "rules": [{k: _plain(v) for k, v in rule.items()} for rule in self.rules],
            "surrogate_segment": self.surrogate_segment,
            "fidelity": self.fidelity,
            "treatment": self.treatment,
            "notes": list(self.notes),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------- centroids
def _centroid_space(estimator: Any) -> tuple[Any, np.ndarray, Any, list[str]] | None:
    """(transform, centres, inverse transform or None, notes) for centroid models, else None."""
    notes: list[str] = []
    inner = getattr(estimator, "model_", None)
    if inner is not None and hasattr(inner, "cluster_centers_"):
        log1p = bool(getattr(estimator, "log1p", False))
        scaler = getattr(estimator, "scaler_", None) if getattr(estimator, "scale", True) else None
        private = getattr(estimator, "_scaled", None)

        def transform(X: pd.DataFrame) -> np.ndarray:
            if callable(private):  # the segmenter's own transform, so the space matches exactly
                return np.asarray(private(X, fit=False), dtype=float)
            values = np.asarray(X, dtype=float)
            if log1p:
                values = np.log1p(np.clip(values, 0.0, None))
            return scaler.transform(values) if scaler is not None else values

        def inverse(Z: np.ndarray) -> np.ndarray:
            values = scaler.inverse_transform(Z) if scaler is not None else np.asarray(Z, dtype=float)
            return np.expm1(values) if log1p else values

        if scaler is None:
            notes.append("the segmenter does not standardise: distances are in its own (unscaled) units")
        if log1p:
            notes.append("features were log1p-transformed before standardising, as the segmenter does")
        return transform, np.asarray(inner.cluster_centers_, dtype=float), inverse, notes
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline) and hasattr(estimator.steps[-1][1], "cluster_centers_"):
        head = estimator[:-1]
        head_inverse = head.inverse_transform if hasattr(head, "inverse_transform") else None
        return (
            lambda X: np.asarray(head.transform(X), dtype=float),
            np.asarray(estimator.steps[-1][1].cluster_centers_, dtype=float),
            head_inverse,
            notes,
        )
    if hasattr(estimator, "cluster_centers_"):
        notes.append("the model clusters raw values: distances are in original units")
        return (lambda X: np.asarray(X, dtype=float)), np.asarray(estimator.cluster_centers_, dtype=float), None, notes
    return None


def _explain_centroid(
    artifact: Any, row_index: int, space: tuple[Any, np.ndarray, Any, list[str]]
) -> SegmentExplanation:
    transform, centres, inverse, notes = space
    X: pd.DataFrame = artifact.X
    features = [str(c) for c in X.columns]
    z = transform(X.iloc[[row_index]])[0]
    label = int(np.asarray(artifact.labels)[row_index])
    distances = ((centres - z) ** 2).sum(axis=1)
    own = label if 0 <= label < len(centres) else int(np.argmin(distances))
    if own != label:
        notes = [*notes, f"label {label} is not a centroid index; nearest centroid {own} used"]
    others = [k for k in np.argsort(distances) if k != own]
    nxt = int(others[0]) if others else None
    own_sq = (z - centres[own]) ** 2
    frame = pd.DataFrame(
        {
            "feature": features,
            "value": X.iloc[row_index].to_numpy(),
            "standardised": z,
            "own_centroid": centres[own],
            "own_sq": own_sq,
        }
    )
    if nxt is not None:
        next_sq = (z - centres[nxt]) ** 2
        frame["next_centroid"] = centres[nxt]
        frame["next_sq"] = next_sq
        frame["margin"] = next_sq - own_sq
        total = float(next_sq.sum() - own_sq.sum())
        frame["margin_share"] = frame["margin"] / total if total > 0 else np.nan
    if inverse is not None:
        try:
            pair = centres[[own, nxt]] if nxt is not None else centres[[own]]
            original = np.asarray(inverse(pair), dtype=float)
            frame["own_centroid_original"] = original[0]
            if nxt is not None:
                frame["next_centroid_original"] = original[1]
        except (ValueError, TypeError, FloatingPointError):
            notes = [*notes, "centroids could not be mapped back to original units"]
    frame = frame.sort_values("margin" if nxt is not None else "own_sq", ascending=False, kind="stable")
    treatment = (getattr(artifact, "treatment", None) or {}).get(label)
    return SegmentExplanation(
        row_index=int(row_index),
        id=_row_id(artifact, row_index),
        segment=label,
        method="centroid distance",
        features=frame.reset_index(drop=True),
        next_segment=nxt,
        distance_own=float(own_sq.sum()),
        distance_next=float(((z - centres[nxt]) ** 2).sum()) if nxt is not None else None,
        treatment=treatment,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------- surrogate
_SURROGATES: dict[int, tuple[weakref.ref[Any], tuple[int, int], SegmentSurrogate]] = {}


def segment_surrogate(artifact: Any, *, max_depth: int = 4, seed: int = 0) -> SegmentSurrogate:
    """Fit (or reuse) a decision tree of depth <= ``max_depth`` that predicts the segment labels.

    The tree is fitted on the features in original units, so its thresholds
    read directly ("recency > 120 days"). Fidelity is its accuracy against
    the real labels over all rows (noise, label -1, included as a class).
    """
    from sklearn.tree import DecisionTreeClassifier

    depth = max(1, min(int(max_depth), 4))
    key = id(artifact)
    cached = _SURROGATES.get(key)
    if cached is not None and cached[0]() is artifact and cached[1] == (depth, seed):
        return cached[2]
    X = artifact.X
    labels = np.asarray(artifact.labels).astype(int)
    tree = DecisionTreeClassifier(max_depth=depth, random_state=seed).fit(np.asarray(X, dtype=float), labels)
    predicted = tree.predict(np.asarray(X, dtype=float))
    per_segment = {int(s): float(np.mean(predicted[labels == s] == s)) for s in np.unique(labels)}
    surrogate = SegmentSurrogate(
        tree=tree,
        features=[str(c) for c in X.columns],
        fidelity=float(np.mean(predicted == labels)),
        per_segment_fidelity=per_segment,
        max_depth=depth,
    )

    def forget(_ref: Any, k: int = key) -> None:
        _SURROGATES.pop(k, None)

    with contextlib.suppress(TypeError):  # objects without weak references are simply not cached
        _SURROGATES[key] = (weakref.ref(artifact, forget), (depth, seed), surrogate)
    return surrogate


def _explain_surrogate(artifact: Any, row_index: int, surrogate: SegmentSurrogate) -> SegmentExplanation:
    X = artifact.X
    row = np.asarray(X.iloc[[row_index]], dtype=float)
    tree = surrogate.tree.tree_
    path = surrogate.tree.decision_path(row).indices
    rules = []
    for node in path:
        if tree.children_left[node] == tree.children_right[node]:  # leaf
            continue
        j = int(tree.feature[node])
        threshold = float(tree.threshold[node])
        value = float(row[0, j])
        rules.append(
            {
                "feature": surrogate.features[j],
                "op": "<=" if value <= threshold else ">",
                "threshold": threshold,
                "value": value,
            }
        )
    label = int(np.asarray(artifact.labels)[row_index])
    predicted = int(surrogate.tree.predict(row)[0])
    used = {r["feature"] for r in rules}
    frame = pd.DataFrame(
        {
            "feature": surrogate.features,
            "value": X.iloc[row_index].to_numpy(),
            "in_rules": [f in used for f in surrogate.features],
        }
    )
    own_fidelity = surrogate.per_segment_fidelity.get(label, float("nan"))
    notes = [
        (
            f"surrogate decision tree (depth <= {surrogate.max_depth}) agrees with the real segments on "
            f"{surrogate.fidelity:.1%} of customers ({own_fidelity:.1%} of segment {label})"
        )
    ]
    if predicted != label:
        notes.append(
            f"the surrogate puts this customer in segment {predicted}, not {label}: its rules do not explain them"
        )
    if label == -1:
        notes.append("label -1: the customer is in no dense region (noise) and receives no segment treatment")
    treatment = (getattr(artifact, "treatment", None) or {}).get(label)
    return SegmentExplanation(
        row_index=int(row_index),
        id=_row_id(artifact, row_index),
        segment=label,
        method="surrogate tree",
        features=frame,
        rules=rules,
        surrogate_segment=predicted,
        fidelity=surrogate.fidelity,
        treatment=treatment,
        notes=tuple(notes),
    )


def _row_id(artifact: Any, row_index: int) -> Any:
    ids = np.asarray(getattr(artifact, "ids", []))
    return _plain(ids[row_index]) if len(ids) == len(artifact.X) else int(row_index)


def explain_segment(
    artifact: Any,
    row_index: int,
    *,
    method: str = "auto",
    surrogate: SegmentSurrogate | None = None,
    max_depth: int = 4,
    seed: int = 0,
) -> SegmentExplanation:
    """Explain the segment of row ``row_index`` of a SegmentationArtifact.

    ``method="auto"`` uses the centroid decomposition when the model has
    centroids (k-means) and a surrogate tree otherwise (DBSCAN); force
    ``"centroid"`` or ``"surrogate"``. Pass a prebuilt ``surrogate`` to
    explain many rows without refitting it (it is also cached per artifact).
    """
    n = len(artifact.X)
    if not 0 <= int(row_index) < n:
        raise IndexError(f"row_index {row_index} outside 0..{n - 1}")
    space = _centroid_space(artifact.estimator) if method in ("auto", "centroid") else None
    if space is not None:
        return _explain_centroid(artifact, int(row_index), space)
    if method == "centroid":
        raise ValueError(f"{type(artifact.estimator).__name__} has no centroids; use method='surrogate'")
    tree = surrogate if surrogate is not None else segment_surrogate(artifact, max_depth=max_depth, seed=seed)
    return _explain_surrogate(artifact, int(row_index), tree)
