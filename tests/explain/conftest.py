"""Small deterministic CRM-like tables and fitted artifacts for the explanation tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit.crm.artifacts import ClassifierArtifact, RegressorArtifact
from audit.crm.preprocess import CRMPreprocessor

N_TRAIN = 300
N_EVAL = 120


def churn_frame(n: int = N_TRAIN + N_EVAL, seed: int = 0, gender_effect: float = 0.0) -> pd.DataFrame:
    """Churn-like table: tenure, income, tickets, a 3-level region and gender (protected)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "tenure_months": rng.integers(1, 120, n),
            "income": rng.normal(30_000, 8_000, n).round(-2),
            "n_tickets": rng.poisson(1.5, n),
            "region": rng.choice(["North", "South", "East"], n),
            "gender": rng.choice(["F", "M"], n),
        }
    )
    logit = (
        -0.035 * (frame["tenure_months"] - 60)
        + 0.9 * (frame["n_tickets"] - 1.5)
        + np.where(frame["region"] == "North", 1.2, np.where(frame["region"] == "South", -0.8, 0.0))
        + gender_effect * (frame["gender"] == "F")
    )
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["value"] = 10 * frame["tenure_months"] + 0.01 * frame["income"] + rng.normal(0, 20, n)
    return frame


def build_artifact(
    model: Any,
    features: Sequence[str],
    frame: pd.DataFrame | None = None,
    *,
    name: str = "model",
    regressor: bool = False,
    background_rows: int = 100,
) -> ClassifierArtifact | RegressorArtifact:
    """Fit Pipeline(CRMPreprocessor, model) on the first rows and package the rest as evaluation rows."""
    frame = churn_frame() if frame is None else frame
    cols = list(features)
    train, test = frame.iloc[:N_TRAIN], frame.iloc[N_TRAIN:].reset_index(drop=True)
    target = "value" if regressor else "churned"
    pipe = Pipeline([("prep", CRMPreprocessor()), ("model", model)]).fit(train[cols], train[target])
    common: dict[str, Any] = {
        "name": name,
        "algorithm": type(model).__name__,
        "purpose": "test",
        "dataset": "synthetic",
        "features": cols,
        "estimator": pipe,
        "ids": test["customer_id"].to_numpy(),
        "sensitive": test[["gender"]],
        "X_eval": test[cols],
        "X_train_sample": train[cols].iloc[:background_rows].reset_index(drop=True),
        "preprocessor": pipe.named_steps["prep"],
        "training_rows": len(train),
    }
    if regressor:
        return RegressorArtifact(**common, y_true=test[target].to_numpy(), y_pred=pipe.predict(test[cols]))
    if hasattr(pipe, "predict_proba"):
        score = pipe.predict_proba(test[cols])[:, 1]
    else:  # e.g. an uncalibrated SVC: squash the margin into (0, 1)
        score = 1 / (1 + np.exp(-pipe.decision_function(test[cols])))
    return ClassifierArtifact(
        **common,
        y_true=test[target].to_numpy(),
        y_pred=(score >= 0.5).astype(int),
        y_score=score,
        favourable_outcome="negative",
    )


FEATURES = ["tenure_months", "income", "n_tickets", "region"]


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return churn_frame()


@pytest.fixture(scope="session")
def forest_artifact() -> ClassifierArtifact:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0)
    return build_artifact(model, FEATURES, name="forest")


@pytest.fixture(scope="session")
def logistic_artifact() -> ClassifierArtifact:
    from sklearn.linear_model import LogisticRegression

    return build_artifact(LogisticRegression(max_iter=1000), FEATURES, name="logistic")


@pytest.fixture(scope="session")
def mlp_artifact() -> ClassifierArtifact:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=600, random_state=0)
    return build_artifact(model, FEATURES, name="mlp")


@pytest.fixture(scope="session")
def svc_artifact() -> ClassifierArtifact:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    model = CalibratedClassifierCV(SVC(kernel="rbf", random_state=0), method="sigmoid", cv=3)
    return build_artifact(model, FEATURES, name="svc")
