"""Customer segmentation: RFM features, K-means and DBSCAN segmenters, profiles.

Segments often decide who gets which offer, so besides labels the segmenters
expose what an audit needs: per-segment profiles in original units, the noise
count (DBSCAN), and an optional segment -> treatment mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DBSCANSegmenter",
    "KMeansSegmenter",
    "knee_point",
    "rfm_features",
    "segment_profiles",
    "treatment_by_rank",
]


def rfm_features(
    transactions: pd.DataFrame,
    customer_id: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    as_of: Any = None,
) -> pd.DataFrame:
    """Recency (days since last purchase), frequency (purchases), monetary (total spend).

    ``as_of`` defaults to the day after the last transaction so the most recent
    buyer has recency 1, the usual convention. Returns one row per customer,
    indexed by ``customer_id``.
    """
    dates = pd.to_datetime(transactions[date_col])
    reference = pd.Timestamp(as_of) if as_of is not None else dates.max().normalize() + pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {
            customer_id: transactions[customer_id].to_numpy(),
            "_date": dates.to_numpy(),
            "_amount": transactions[amount_col].to_numpy(),
        }
    )
    grouped = frame.groupby(customer_id, sort=True)
    last = grouped["_date"].max()
    out = pd.DataFrame(
        {
            "recency": (reference - last).dt.days.astype(int),
            "frequency": grouped["_date"].size().astype(int),
            "monetary": grouped["_amount"].sum().astype(float),
        }
    )
    out.index.name = customer_id
    return out


def knee_point(values: npt.ArrayLike) -> int:
    """Index of the elbow of an increasing curve.

    The point farthest from the chord joining the first and last points of
    the sorted, min-max normalised curve: simple, parameter-free and stable.
    """
    y = np.sort(np.asarray(values, dtype=float))
    n = len(y)
    if n < 3:
        return n - 1
    x = np.linspace(0.0, 1.0, n)
    span = y[-1] - y[0]
    yn = (y - y[0]) / span if span > 0 else np.zeros(n)
    return int(np.argmax(x - yn))


def segment_profiles(X: pd.DataFrame, labels: npt.ArrayLike) -> pd.DataFrame:
    """Per-segment size, share and feature means (original units), noise included as -1."""
    data = X.reset_index(drop=True).copy()
    numeric = [c for c in data.columns if pd.api.types.is_numeric_dtype(data[c])]
    data["segment"] = np.asarray(labels)
    grouped = data.groupby("segment", sort=True)
    profiles = grouped[numeric].mean()
    profiles.insert(0, "share", grouped.size() / len(data))
    profiles.insert(0, "size", grouped.size().astype(int))
    return profiles


def treatment_by_rank(
    profiles: pd.DataFrame, column: str, tiers: Sequence[str], descending: bool = True
) -> dict[int, str]:
    """Map segments to treatment tiers ordered by a profile column (e.g. monetary).

    The best segment gets ``tiers[0]``; when there are more segments than
    tiers the last tier repeats. Noise (-1) gets no treatment.
    """
    ranked = profiles.drop(index=-1, errors="ignore").sort_values(column, ascending=not descending)
    return {int(seg): tiers[min(i, len(tiers) - 1)] for i, seg in enumerate(ranked.index)}


class _SegmenterBase(ClusterMixin, BaseEstimator):
    """Shared scaling, profiling and treatment logic."""

    def _scaled(self, X: pd.DataFrame | np.ndarray, fit: bool) -> np.ndarray:
        values = np.asarray(X, dtype=float)
        if self.log1p:
            values = np.log1p(np.clip(values, 0.0, None))
        if not self.scale:
            return values
        if fit:
            self.scaler_ = StandardScaler().fit(values)
        return self.scaler_.transform(values)

    def _finish(self, X: pd.DataFrame | np.ndarray, labels: np.ndarray) -> None:
        self.labels_ = labels
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.profiles_ = segment_profiles(frame, labels)
        self.noise_count_ = int((labels == -1).sum())
        self.treatment_ = self._resolve_treatment()

    def _resolve_treatment(self) -> dict[int, str] | None:
        treatment = self.treatment
        if treatment is None:
            return None
        if isinstance(treatment, Mapping) and "rank_by" in treatment:
            return treatment_by_rank(
                self.profiles_,
                str(treatment["rank_by"]),
                list(treatment["tiers"]),
                bool(treatment.get("descending", True)),
            )
        return {int(k): str(v) for k, v in dict(treatment).items()}

    def assign_treatment(self, labels: Sequence[int] | None = None) -> np.ndarray:
        """Treatment per row (None for noise or unmapped segments)."""
        check_is_fitted(self, "labels_")
        mapping = self.treatment_ or {}
        source = self.labels_ if labels is None else np.asarray(labels)
        return np.array([mapping.get(int(s)) for s in source], dtype=object)


class KMeansSegmenter(_SegmenterBase):
    """K-means on standardised features; k fixed or picked by silhouette.

    ``n_clusters=None`` searches ``k_range`` and keeps the k with the best
    silhouette (computed on a seeded sample of at most ``silhouette_sample``
    rows, since the exact score is quadratic in rows).

    ``treatment`` is either an explicit {segment: treatment} mapping or
    {"rank_by": column, "tiers": [...]} resolved against the profiles.
    ``log1p`` compresses skewed spend/count features (clipped at 0) before
    scaling; profiles stay in original units.
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        k_range: tuple[int, int] = (2, 8),
        scale: bool = True,
        random_state: int = 0,
        n_init: int = 4,
        silhouette_sample: int = 2000,
        treatment: Mapping[Any, Any] | None = None,
        log1p: bool = False,
    ) -> None:
        self.log1p = log1p
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.scale = scale
        self.random_state = random_state
        self.n_init = n_init
        self.silhouette_sample = silhouette_sample
        self.treatment = treatment

    def _model(self, k: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> KMeansSegmenter:
        Z = self._scaled(X, fit=True)
        sample = min(self.silhouette_sample, len(Z))
        self.silhouette_scores_: dict[int, float] = {}
        if self.n_clusters is not None:
            best = self._model(int(self.n_clusters)).fit(Z)
        else:
            lo, hi = self.k_range
            best, best_score = None, -np.inf
            for k in range(int(lo), int(hi) + 1):
                if k >= len(Z):
                    break
                model = self._model(k).fit(Z)
                score = float(silhouette_score(Z, model.labels_, sample_size=sample, random_state=self.random_state))
                self.silhouette_scores_[k] = score
                if score > best_score:
                    best, best_score = model, score
            if best is None:
                raise ValueError("not enough rows for the requested k range")
        self.model_ = best
        self.n_clusters_ = int(best.n_clusters)
        labels = best.labels_.astype(int)
        if self.n_clusters_ > 1 and self.n_clusters_ not in self.silhouette_scores_:
            self.silhouette_scores_[self.n_clusters_] = float(
                silhouette_score(Z, labels, sample_size=sample, random_state=self.random_state)
            )
        self.silhouette_ = self.silhouette_scores_.get(self.n_clusters_, float("nan"))
        self._finish(X, labels)
        return self

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(self._scaled(X, fit=False)).astype(int)


class DBSCANSegmenter(_SegmenterBase):
    """DBSCAN with eps taken from the knee of the sorted k-distance curve.

    Points that belong to no dense region get label -1 and are counted in
    ``noise_count_``: they are customers no segment describes, which a
    treatment mapping silently skips.
    """

    def __init__(
        self,
        eps: float | None = None,
        min_samples: int = 10,
        scale: bool = True,
        treatment: Mapping[Any, Any] | None = None,
        log1p: bool = False,
    ) -> None:
        self.log1p = log1p
        self.eps = eps
        self.min_samples = min_samples
        self.scale = scale
        self.treatment = treatment

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> DBSCANSegmenter:
        Z = self._scaled(X, fit=True)
        if self.eps is None:
            k = min(self.min_samples, len(Z) - 1)
            distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
            kdist = np.sort(distances[:, -1])
            self.k_distances_ = kdist
            self.eps_ = float(kdist[knee_point(kdist)])
        else:
            self.eps_ = float(self.eps)
        model = DBSCAN(eps=self.eps_, min_samples=self.min_samples).fit(Z)
        self.model_ = model
        labels = model.labels_.astype(int)
        self.n_clusters_ = len(set(labels.tolist()) - {-1})
        self._core = Z[model.core_sample_indices_]
        self._core_labels = labels[model.core_sample_indices_]
        self._finish(X, labels)
        return self

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Label of the nearest core point within eps, else -1 (noise)."""
        check_is_fitted(self, "model_")
        Z = self._scaled(X, fit=False)
        if len(self._core) == 0:
            return np.full(len(Z), -1, dtype=int)
        dist, idx = NearestNeighbors(n_neighbors=1).fit(self._core).kneighbors(Z)
        labels = self._core_labels[idx[:, 0]]
        return np.where(dist[:, 0] <= self.eps_, labels, -1).astype(int)
