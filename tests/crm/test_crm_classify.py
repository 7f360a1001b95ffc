from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.crm.classify import (
    CLASSIFIER_ALGORITHMS,
    evaluate_classifier,
    evaluate_regressor,
    make_classifier,
    train_classifier,
    train_regressor,
)


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, size=n)
    plan = rng.choice(["basic", "plus", "pro"], size=n)
    spend = rng.gamma(2.0, 30.0, size=n)
    logit = 1.5 - 0.06 * tenure + np.where(plan == "basic", 0.8, -0.4)
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"c{j}" for j in range(n)],
            "tenure": tenure,
            "plan": plan,
            "spend": spend,
            "gender": rng.choice(["F", "M"], size=n),
            "churn": churn,
            "value": 3.0 * spend + 5.0 * tenure + rng.normal(0, 5, size=n),
        }
    )


def test_metrics_match_hand_computation() -> None:
    y = [1, 0, 1, 1, 0, 0]
    score = [0.9, 0.6, 0.4, 0.8, 0.1, 0.2]
    m = evaluate_classifier(y, score, threshold=0.5)
    # predictions at 0.5: 1 1 0 1 0 0 -> TP=2 FP=1 FN=1 TN=2
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["brier"] == pytest.approx(np.mean((np.array(score) - np.array(y)) ** 2))
    # AUC: positive scores {0.9,0.4,0.8} vs negatives {0.6,0.1,0.2}: 3+2+3 = 8 of 9 pairs ordered
    assert m["roc_auc"] == pytest.approx(8 / 9)
    r = evaluate_regressor([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert r["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert r["r2"] == pytest.approx(1 - 4 / 2)


@pytest.mark.parametrize("algorithm", CLASSIFIER_ALGORITHMS)
def test_each_classifier_trains_and_packages(algorithm: str) -> None:
    frame = _frame()
    art = train_classifier(
        frame,
        "churn",
        ["tenure", "plan", "spend"],
        algorithm,
        name=f"churn_{algorithm}",
        purpose="test",
        dataset="synthetic",
        id_column="customer_id",
        sensitive_columns=["gender"],
        favourable_outcome="negative",
        threshold=0.4,
    )
    n_eval = len(art.y_true)
    assert n_eval == 100 and len(art.ids) == n_eval and len(art.sensitive) == n_eval
    assert list(art.X_eval.columns) == ["tenure", "plan", "spend"]
    assert ((art.y_score >= 0) & (art.y_score <= 1)).all()
    assert (art.y_pred == (art.y_score >= 0.4).astype(int)).all()
    assert art.metrics["roc_auc"] > 0.6
    # the estimator scores raw columns, as explainers need
    assert np.allclose(art.estimator.predict_proba(art.X_eval)[:, 1], art.y_score)
    assert art.preprocessor.output_to_feature_["plan_basic"] == "plan"
    assert art.favourable_mask().sum() == (art.y_pred == 0).sum()
    assert art.to_summary()["features"] == ["tenure", "plan", "spend"]


def test_svc_is_calibrated_and_subsampling_keeps_eval_rows() -> None:
    from sklearn.calibration import CalibratedClassifierCV

    pipe = make_classifier("svc")
    assert isinstance(pipe.named_steps["model"], CalibratedClassifierCV)
    frame = _frame(600)
    full = train_classifier(
        frame,
        "churn",
        ["tenure", "plan"],
        "logistic_regression",
        name="a",
        purpose="",
        dataset="",
        id_column="customer_id",
    )
    small = train_classifier(
        frame,
        "churn",
        ["tenure", "plan"],
        "svc",
        name="b",
        purpose="",
        dataset="",
        id_column="customer_id",
        max_train_rows=150,
    )
    assert small.training_rows == 150 and small.notes
    assert (full.ids == small.ids).all()


def test_regressor() -> None:
    frame = _frame()
    for algorithm in ("linear_regression", "ridge", "random_forest", "gradient_boosting"):
        art = train_regressor(
            frame,
            "value",
            ["spend", "tenure", "plan"],
            algorithm,
            name="v",
            purpose="",
            dataset="",
            id_column="customer_id",
        )
        assert art.metrics["r2"] > 0.8
        assert art.metrics["rmse"] == pytest.approx(np.sqrt(np.mean((art.y_true - art.y_pred) ** 2)))
