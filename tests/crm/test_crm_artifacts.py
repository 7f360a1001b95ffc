from __future__ import annotations

import json

import numpy as np
import pandas as pd

from audit.crm.artifacts import ClassifierArtifact, RecommenderArtifact, SegmentationArtifact


def test_summary_is_json_safe_and_favourable_mask() -> None:
    art = ClassifierArtifact(
        name="m",
        algorithm="lr",
        purpose="p",
        dataset="d",
        features=["a"],
        estimator=None,
        metrics={"auc": np.float64(0.7), "bad": float("nan")},
        training_rows=np.int64(10),
        X_eval=pd.DataFrame({"a": [1, 2]}),
        y_true=np.array([1, 0]),
        y_pred=np.array([1, 0]),
        y_score=np.array([0.9, 0.1]),
        favourable_outcome="negative",
    )
    summary = art.to_summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["kind"] == "classifier" and summary["metrics"] == {"auc": 0.7, "bad": None}
    assert art.favourable_mask().tolist() == [False, True]


def test_kinds_and_non_neighbour_explanations() -> None:
    seg = SegmentationArtifact(
        name="s",
        algorithm="kmeans",
        purpose="",
        dataset="",
        features=[],
        estimator=None,
        X=pd.DataFrame(),
        labels=np.array([]),
        profiles=pd.DataFrame(),
    )
    assert seg.kind == "segmentation" and seg.noise_count == 0
    rec = RecommenderArtifact(
        name="r",
        algorithm="content",
        purpose="",
        dataset="",
        features=[],
        estimator=object(),
        recommendations=pd.DataFrame(),
        item_features=pd.DataFrame(),
        test_ratings=pd.DataFrame(),
    )
    assert rec.explain_neighbours("u", "i") == []
