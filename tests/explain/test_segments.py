"""Segment explanations on clusters whose answer is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audit.crm.artifacts import SegmentationArtifact
from audit.explain import explain_segment, segment_surrogate


def _blobs(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three groups: 0 and 1 differ only in ``spend``, 1 and 2 only in ``visits``."""
    rng = np.random.default_rng(seed)
    centres = np.array([[100.0, 5.0], [500.0, 5.0], [500.0, 20.0]])
    truth = np.repeat([0, 1, 2], 60)
    frame = pd.DataFrame(
        {
            "spend": centres[truth, 0] + rng.normal(0, 15, len(truth)),
            "visits": centres[truth, 1] + rng.normal(0, 0.8, len(truth)),
        }
    )
    return frame, truth


def _artifact(estimator, X: pd.DataFrame, labels: np.ndarray, treatment=None) -> SegmentationArtifact:
    return SegmentationArtifact(
        name="segments",
        algorithm=type(estimator).__name__,
        purpose="test",
        dataset="synthetic",
        features=list(X.columns),
        estimator=estimator,
        ids=np.array([f"C{i}" for i in range(len(X))], dtype=object),
        X=X,
        labels=np.asarray(labels),
        profiles=pd.DataFrame(),
        treatment=treatment,
    )


def test_kmeans_segmenter_margin_is_driven_by_the_separating_feature():
    from audit.crm.segmentation import KMeansSegmenter

    X, truth = _blobs()
    model = KMeansSegmenter(n_clusters=3, random_state=0).fit(X)
    assert pd.crosstab(truth, model.labels_).gt(0).sum().eq(1).all()  # k-means recovers the groups
    art = _artifact(model, X, model.labels_, treatment={int(model.labels_[0]): "gold offer"})
    exp = explain_segment(art, 0)
    assert exp.method == "centroid distance"
    assert exp.segment == int(model.labels_[0])
    assert exp.next_segment == int(model.labels_[60])  # group 1 is the runner-up for group 0
    assert exp.treatment == "gold offer"
    assert exp.distance_own < exp.distance_next
    top = exp.features.iloc[0]
    assert top["feature"] == "spend"
    assert top["margin_share"] > 0.9
    # per-feature terms add up to the two squared distances
    assert exp.features["own_sq"].sum() == pytest.approx(exp.distance_own)
    assert exp.features["next_sq"].sum() == pytest.approx(exp.distance_next)
    # the customer's own centroid, back in original units, is near the group they came from
    spend_row = exp.features.set_index("feature").loc["spend"]
    assert abs(spend_row["own_centroid_original"] - 100.0) < 15
    # a group-2 customer is told apart from group 1 by visits
    other = explain_segment(art, 150)
    assert other.next_segment == int(model.labels_[60])
    assert other.features.iloc[0]["feature"] == "visits"
    json.dumps(exp.to_dict())


def test_plain_kmeans_in_a_pipeline_is_supported():
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = _blobs()
    model = make_pipeline(StandardScaler(), KMeans(n_clusters=3, n_init=4, random_state=0)).fit(X)
    labels = model[-1].labels_
    exp = explain_segment(_artifact(model, X, labels), 10)  # a group-0 customer
    assert exp.features.iloc[0]["feature"] == "spend"
    assert exp.next_segment != exp.segment


def test_dbscan_surrogate_tree_is_faithful_and_explains_with_rules():
    from sklearn.cluster import DBSCAN
    from sklearn.preprocessing import StandardScaler

    X, _ = _blobs()
    labels = DBSCAN(eps=0.5, min_samples=5).fit_predict(StandardScaler().fit_transform(X))
    assert len(set(labels) - {-1}) == 3
    art = _artifact(DBSCAN(), X, labels)
    surrogate = segment_surrogate(art)
    assert surrogate.fidelity >= 0.95
    assert surrogate.tree.get_depth() <= 4
    assert segment_surrogate(art) is surrogate  # cached per artifact
    exp = explain_segment(art, 30, surrogate=surrogate)
    assert exp.method == "surrogate tree"
    assert exp.fidelity == surrogate.fidelity
    assert exp.rules and "spend" in {r["feature"] for r in exp.rules}
    assert exp.surrogate_segment == exp.segment
    for rule in exp.rules:
        assert (rule["value"] <= rule["threshold"]) == (rule["op"] == "<=")
    json.dumps(exp.to_dict())


def test_row_index_is_checked():
    from sklearn.cluster import DBSCAN

    X, truth = _blobs()
    with pytest.raises(IndexError):
        explain_segment(_artifact(DBSCAN(), X, truth), len(X))
