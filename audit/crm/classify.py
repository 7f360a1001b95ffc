"""Churn/purchase classifiers and a customer-value regressor.

Every model is a Pipeline whose first step is a :class:`CRMPreprocessor`, so
the fitted object takes raw CRM columns (what explainers and counterfactual
checks perturb). Scores are calibrated probabilities: fairness and
explanation checks compare probabilities across groups, which is only
meaningful when they are calibrated. SVC has no probabilities of its own and is
always wrapped in CalibratedClassifierCV.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from .artifacts import ClassifierArtifact, RegressorArtifact
from .preprocess import CRMPreprocessor

__all__ = [
    "CLASSIFIER_ALGORITHMS",
    "REGRESSOR_ALGORITHMS",
    "evaluate_classifier",
    "evaluate_regressor",
    "make_classifier",
    "make_regressor",
    "train_classifier",
    "train_regressor",
]

CLASSIFIER_ALGORITHMS = ("logistic_regression", "random_forest", "svc", "mlp")
REGRESSOR_ALGORITHMS = ("linear_regression", "ridge", "random_forest", "gradient_boosting")


def _base_classifier(algorithm: str, random_state: int) -> Any:
    if algorithm == "logistic_regression":
        return LogisticRegression(max_iter=1000)
    if algorithm == "random_forest":
        return RandomForestClassifier(
            n_estimators=120, max_depth=10, min_samples_leaf=5, n_jobs=2, random_state=random_state
        )
    if algorithm == "svc":
        return SVC(kernel="rbf", C=1.0, gamma="scale", random_state=random_state)
    if algorithm == "mlp":
        return MLPClassifier(
            hidden_layer_sizes=(32, 16), alpha=1e-3, max_iter=300, early_stopping=True, random_state=random_state
        )
    raise ValueError(f"unknown classifier algorithm {algorithm!r}; choose from {CLASSIFIER_ALGORITHMS}")


def make_classifier(
    algorithm: str,
    preprocessor: CRMPreprocessor | None = None,
    random_state: int = 0,
    calibrate: Literal["sigmoid", "isotonic"] | bool | None = None,
) -> Pipeline:
    """Pipeline(prep -> model), calibrated where the model needs it.

    ``calibrate=None`` calibrates only SVC (sigmoid, 3 folds); pass a method
    name to calibrate any algorithm, or False to never calibrate (SVC then
    falls back to Platt scaling inside libsvm).
    """
    model = _base_classifier(algorithm, random_state)
    method: str | None
    if calibrate is None:
        method = "sigmoid" if algorithm == "svc" else None
    elif calibrate is True:
        method = "sigmoid"
    elif calibrate is False:
        method = None
        if algorithm == "svc":
            model.set_params(probability=True)
    else:
        method = str(calibrate)
    if method is not None:
        model = CalibratedClassifierCV(model, method=method, cv=3)
    return Pipeline([("prep", preprocessor if preprocessor is not None else CRMPreprocessor()), ("model", model)])


def make_regressor(algorithm: str, preprocessor: CRMPreprocessor | None = None, random_state: int = 0) -> Pipeline:
    """Pipeline(prep -> regressor) for customer-value estimation."""
    if algorithm == "linear_regression":
        model: Any = LinearRegression()
    elif algorithm == "ridge":
        model = Ridge(alpha=1.0)
    elif algorithm == "random_forest":
        model = RandomForestRegressor(
            n_estimators=120, max_depth=12, min_samples_leaf=5, n_jobs=2, random_state=random_state
        )
    elif algorithm == "gradient_boosting":
        model = HistGradientBoostingRegressor(max_iter=150, learning_rate=0.08, random_state=random_state)
    else:
        raise ValueError(f"unknown regressor algorithm {algorithm!r}; choose from {REGRESSOR_ALGORITHMS}")
    return Pipeline([("prep", preprocessor if preprocessor is not None else CRMPreprocessor()), ("model", model)])


def evaluate_classifier(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, threshold: float = 0.5, positive_label: Any = 1
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 at the threshold; ROC AUC and Brier on the scores."""
    truth = (np.asarray(y_true) == positive_label).astype(int)
    score = np.asarray(y_score, dtype=float)
    pred = (score >= threshold).astype(int)
    metrics = {
        "accuracy": float(accuracy_score(truth, pred)),
        "precision": float(precision_score(truth, pred, zero_division=0)),
        "recall": float(recall_score(truth, pred, zero_division=0)),
        "f1": float(f1_score(truth, pred, zero_division=0)),
        "brier": float(brier_score_loss(truth, score)),
        "positive_rate": float(pred.mean()) if len(pred) else float("nan"),
    }
    metrics["roc_auc"] = float(roc_auc_score(truth, score)) if len(np.unique(truth)) == 2 else float("nan")
    return metrics


def evaluate_regressor(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> dict[str, float]:
    """R2 and RMSE (RMSE in the target's own units)."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    return {"r2": float(r2_score(t, p)), "rmse": float(np.sqrt(mean_squared_error(t, p)))}


def _split(
    frame: pd.DataFrame, target: str, test_size: float, random_state: int, stratify: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    labels = frame[target] if stratify else None
    train, test = train_test_split(frame, test_size=test_size, random_state=random_state, stratify=labels)
    return train, test


def _subsample(frame: pd.DataFrame, max_rows: int | None, random_state: int) -> pd.DataFrame:
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=random_state)


def train_classifier(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str],
    algorithm: str,
    *,
    name: str,
    purpose: str,
    dataset: str,
    id_column: str | None = None,
    sensitive_columns: Sequence[str] = (),
    positive_label: Any = 1,
    favourable_outcome: Literal["positive", "negative"] = "positive",
    threshold: float = 0.5,
    test_size: float = 0.25,
    random_state: int = 0,
    max_train_rows: int | None = None,
    calibrate: Literal["sigmoid", "isotonic"] | bool | None = None,
    preprocessor: CRMPreprocessor | None = None,
    background_rows: int = 200,
) -> ClassifierArtifact:
    """Split, fit, evaluate and package a classifier as a :class:`ClassifierArtifact`.

    ``max_train_rows`` caps the training rows (after the split, so the
    evaluation rows stay the same across algorithms) for slow learners such
    as SVC and MLP.
    """
    cols = list(features)
    train, test = _split(frame, target, test_size, random_state, stratify=True)
    fit_rows = _subsample(train, max_train_rows, random_state)
    prep = preprocessor if preprocessor is not None else CRMPreprocessor(id_column=None)
    model = make_classifier(algorithm, prep, random_state=random_state, calibrate=calibrate)
    y_fit = (fit_rows[target].to_numpy() == positive_label).astype(int)
    model.fit(fit_rows[cols], y_fit)
    X_eval = test[cols].reset_index(drop=True)
    score = model.predict_proba(X_eval)[:, 1]
    truth = test[target].to_numpy()
    negative = _other_label(frame[target], positive_label)
    pred = np.where(score >= threshold, positive_label, negative)
    fitted_prep = model.named_steps["prep"]
    notes = [f"trained on {len(fit_rows)} of {len(train)} training rows"] if len(fit_rows) < len(train) else []
    return ClassifierArtifact(
        name=name,
        algorithm=algorithm,
        purpose=purpose,
        dataset=dataset,
        features=cols,
        estimator=model,
        ids=test[id_column].to_numpy() if id_column else test.index.to_numpy(),
        sensitive=test[list(sensitive_columns)].reset_index(drop=True),
        metrics=evaluate_classifier(truth, score, threshold, positive_label),
        training_rows=len(fit_rows),
        notes=notes,
        X_eval=X_eval,
        y_true=truth,
        y_pred=pred,
        y_score=score,
        threshold=threshold,
        positive_label=positive_label,
        favourable_outcome=favourable_outcome,
        X_train_sample=_subsample(fit_rows[cols], background_rows, random_state).reset_index(drop=True),
        preprocessor=fitted_prep,
    )


def _other_label(values: pd.Series, positive_label: Any) -> Any:
    others = [v for v in pd.unique(values) if v != positive_label]
    if others:
        return min(others, key=str)
    if isinstance(positive_label, (bool, np.bool_)):
        return not positive_label
    if isinstance(positive_label, (int, np.integer)):
        return 0 if positive_label != 0 else 1
    return f"not {positive_label}"


def train_regressor(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str],
    algorithm: str,
    *,
    name: str,
    purpose: str,
    dataset: str,
    id_column: str | None = None,
    sensitive_columns: Sequence[str] = (),
    test_size: float = 0.25,
    random_state: int = 0,
    max_train_rows: int | None = None,
    preprocessor: CRMPreprocessor | None = None,
    background_rows: int = 200,
) -> RegressorArtifact:
    """Split, fit, evaluate (R2, RMSE) and package a regressor."""
    cols = list(features)
    train, test = _split(frame, target, test_size, random_state, stratify=False)
    fit_rows = _subsample(train, max_train_rows, random_state)
    model = make_regressor(algorithm, preprocessor if preprocessor is not None else CRMPreprocessor(), random_state)
    model.fit(fit_rows[cols], fit_rows[target].to_numpy(dtype=float))
    X_eval = test[cols].reset_index(drop=True)
    pred = model.predict(X_eval)
    truth = test[target].to_numpy(dtype=float)
    return RegressorArtifact(
        name=name,
        algorithm=algorithm,
        purpose=purpose,
        dataset=dataset,
        features=cols,
        estimator=model,
        ids=test[id_column].to_numpy() if id_column else test.index.to_numpy(),
        sensitive=test[list(sensitive_columns)].reset_index(drop=True),
        metrics=evaluate_regressor(truth, pred),
        training_rows=len(fit_rows),
        X_eval=X_eval,
        y_true=truth,
        y_pred=pred,
        X_train_sample=_subsample(fit_rows[cols], background_rows, random_state).reset_index(drop=True),
        preprocessor=model.named_steps["prep"],
    )
