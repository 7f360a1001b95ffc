from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.crm.segmentation import (
    DBSCANSegmenter,
    KMeansSegmenter,
    knee_point,
    rfm_features,
    segment_profiles,
    treatment_by_rank,
)


def test_rfm_on_a_tiny_table() -> None:
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "b", "a", "c"],
            "when": ["2025-01-01", "2025-01-10", "2025-01-05", "2025-01-03", "2024-12-31"],
            "value": [10.0, 20.0, 5.0, 2.5, 1.0],
        }
    )
    rfm = rfm_features(tx, "cust", "when", "value")  # as_of defaults to 2025-01-11
    assert rfm.loc["a"].tolist() == [1, 3, 32.5]
    assert rfm.loc["b"].tolist() == [6, 1, 5.0]
    assert rfm.loc["c"].tolist() == [11, 1, 1.0]
    later = rfm_features(tx, "cust", "when", "value", as_of="2025-02-01")
    assert later.loc["a", "recency"] == 22


def _blobs() -> tuple[np.ndarray, int]:
    grid = np.array([[x, y] for x in np.linspace(0, 0.4, 8) for y in np.linspace(0, 0.4, 8)])
    outliers = np.array([[5.0, 5.0], [-5.0, 5.0], [5.0, -5.0], [12.0, 0.0], [0.0, 12.0]])
    return np.vstack([grid, grid + 3.0, outliers]), len(outliers)


def test_dbscan_noise_count_with_fixed_eps() -> None:
    X, n_out = _blobs()
    seg = DBSCANSegmenter(eps=0.2, min_samples=4, scale=False).fit(X)
    assert seg.noise_count_ == n_out
    assert seg.n_clusters_ == 2
    assert (seg.labels_[-n_out:] == -1).all()
    assert seg.profiles_.loc[-1, "size"] == n_out
    # predict: a point inside a blob joins it, a far point is noise
    assert seg.predict(np.array([[0.2, 0.2], [40.0, 40.0]])).tolist() == [seg.labels_[0], -1]


def test_dbscan_eps_from_knee() -> None:
    X, n_out = _blobs()
    seg = DBSCANSegmenter(min_samples=4, scale=False).fit(X)
    # the grid spacing is 0.4/7; the knee must sit between inlier and outlier k-distances
    assert 0.05 <= seg.eps_ < 3.0
    assert seg.noise_count_ == n_out


def test_knee_point_of_a_hockey_stick() -> None:
    curve = np.r_[np.linspace(0.0, 1.0, 50), np.linspace(1.0, 20.0, 5)[1:]]
    assert knee_point(curve) == 49


def test_kmeans_picks_k_by_silhouette_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    X = np.vstack([c + rng.normal(0, 0.5, size=(60, 2)) for c in centres])
    frame = pd.DataFrame(X, columns=["recency", "monetary"])
    seg = KMeansSegmenter(k_range=(2, 6), random_state=3).fit(frame)
    assert seg.n_clusters_ == 3
    assert max(seg.silhouette_scores_, key=seg.silhouette_scores_.get) == 3
    again = KMeansSegmenter(k_range=(2, 6), random_state=3).fit(frame)
    assert (seg.labels_ == again.labels_).all()
    assert seg.profiles_["size"].sum() == 180
    assert seg.predict(frame.iloc[:5]).tolist() == seg.labels_[:5].tolist()


def test_profiles_and_treatment() -> None:
    X = pd.DataFrame({"monetary": [10.0, 12.0, 100.0, 110.0, 50.0], "frequency": [1, 1, 5, 7, 3]})
    labels = np.array([0, 0, 1, 1, -1])
    prof = segment_profiles(X, labels)
    assert prof.loc[1, "monetary"] == pytest.approx(105.0)
    assert prof.loc[0, "size"] == 2 and prof.loc[-1, "share"] == pytest.approx(0.2)
    assert treatment_by_rank(prof, "monetary", ["gold", "silver"]) == {1: "gold", 0: "silver"}
    seg = KMeansSegmenter(n_clusters=2, random_state=0, treatment={"rank_by": "monetary", "tiers": ["gold", "silver"]})
    seg.fit(X.iloc[:4])
    top = int(seg.profiles_["monetary"].idxmax())
    assert seg.treatment_[top] == "gold"
    assert seg.assign_treatment().tolist().count("gold") == 2
    explicit = KMeansSegmenter(n_clusters=2, random_state=0, treatment={0: "a", 1: "b"}).fit(X.iloc[:4])
    assert explicit.treatment_ == {0: "a", 1: "b"}
