"""Proxy detection: how much the features reveal about protected attributes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from audit.fairness.groups import UNKNOWN, encode_attribute

ProxyModel = Literal["logistic", "gradient_boosting"]

LENGTH_MISMATCH = "{name} has {got} rows, expected {expected}"
BAD_N_BINS = "n_bins must be an integer >= 2, got {value!r}"
BAD_CV = "cv must be an integer >= 2, got {value!r}"
BAD_MODEL = "model must be 'logistic' or 'gradient_boosting', got {value!r}"
NO_FEATURES = "features has no columns"
MISSING_PROTECTED = "protected attribute {name!r} is not a column of the data"


def _codes(values: ArrayLike) -> np.ndarray:
    codes, _ = encode_attribute(values)
    return codes


def discretise(values: ArrayLike, *, n_bins: int = 10) -> np.ndarray:
    """Integer codes of a feature for association measures.

    Numeric features with more than ``n_bins`` distinct values are cut into
    ``n_bins`` quantile bins (duplicate edges merged); others are treated as
    categories. Missing values get their own code.
    """
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(BAD_N_BINS.format(value=n_bins))
    series = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    if numeric and series.nunique(dropna=True) > n_bins:
        binned = pd.qcut(series, q=n_bins, labels=False, duplicates="drop")
        out = binned.to_numpy(dtype=float)
        missing = np.isnan(out)
        codes = np.where(missing, -1, out).astype(np.int64)
        codes[missing] = codes.max(initial=-1) + 1
        return codes
    return _codes(series)


def cramers_v(x: ArrayLike, y: ArrayLike, *, bias_correction: bool = True) -> float:
    """Cramér's V between two categorical variables.

    With ``bias_correction`` (default) uses Bergsma's (2013) correction:
    ``phi2 = max(0, chi2/n - (k-1)(r-1)/(n-1))``, ``k~ = k - (k-1)^2/(n-1)``,
    ``r~ = r - (r-1)^2/(n-1)`` and ``V = sqrt(phi2 / min(k~-1, r~-1))``.
    Pearson's chi-squared has no continuity correction. Missing values are a
    category of their own. NaN when a variable has a single level.
    """
    cx, cy = _codes(x), _codes(y)
    if cx.shape != cy.shape:
        raise ValueError(LENGTH_MISMATCH.format(name="y", got=cy.shape[0], expected=cx.shape[0]))
    _, cx = np.unique(cx, return_inverse=True)
    _, cy = np.unique(cy, return_inverse=True)
    r, k = int(cx.max()) + 1, int(cy.max()) + 1
    n = cx.shape[0]
    table = np.bincount(cx * k + cy, minlength=r * k).reshape(r, k).astype(float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    phi2 = chi2 / n
    if not bias_correction:
        denom = min(k - 1, r - 1)
        return math.sqrt(phi2 / denom) if denom > 0 else math.nan
    if n < 2:
        return math.nan
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    kc = k - (k - 1) ** 2 / (n - 1)
    rc = r - (r - 1) ** 2 / (n - 1)
    denom = min(kc - 1, rc - 1)
    if denom <= 0:
        return math.nan
    return math.sqrt(phi2c / denom)


def proxy_associations(
    features: pd.DataFrame,
    *,
    protected: pd.DataFrame | Mapping[str, ArrayLike],
    attributes: Sequence[str] | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Association of every feature with every protected attribute.

    Parameters
    ----------
    features : DataFrame
        Candidate proxy features (numeric ones are quantile-binned).
    protected : DataFrame or mapping of name to array
        Protected attributes (missing values form an ``"unknown"`` level).
    attributes : sequence of str, optional
        Columns of ``protected`` to use (default: all).
    bands : mapping of str to sequence of float, optional
        Band edges for continuous protected attributes.
    n_bins : int
        Quantile bins for numeric features.

    Returns
    -------
    DataFrame
        ``feature, attribute, cramers_v, nmi, n_levels`` sorted by
        ``cramers_v`` descending. ``nmi`` is scikit-learn's
        ``normalized_mutual_info_score`` (arithmetic normalisation).
    """
    if features.shape[1] == 0:
        raise ValueError(NO_FEATURES)
    names = list(attributes) if attributes is not None else [str(c) for c in protected]
    bands = dict(bands or {})
    n = features.shape[0]
    rows = []
    for name in names:
        if name not in protected:
            raise KeyError(MISSING_PROTECTED.format(name=name))
        values: Any = protected[name]
        if len(values) != n:
            raise ValueError(LENGTH_MISMATCH.format(name=name, got=len(values), expected=n))
        a_codes, _ = encode_attribute(values, name=name, bands=bands.get(name))
        for col in features.columns:
            f_codes = discretise(features[col], n_bins=n_bins)
            rows.append(
                (
                    str(col),
                    name,
                    cramers_v(f_codes, a_codes),
                    float(normalized_mutual_info_score(a_codes, f_codes)),
                    int(np.unique(f_codes).size),
                )
            )
    out = pd.DataFrame(rows, columns=["feature", "attribute", "cramers_v", "nmi", "n_levels"])
    return out.sort_values("cramers_v", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ProxyAUCResult:
    """How well the features predict a protected attribute.

    Attributes
    ----------
    attribute : str
        Protected attribute predicted.
    model : str
        ``"logistic"`` or ``"gradient_boosting"``.
    auc : float
        Mean ROC AUC over folds (one-vs-rest macro for more than two classes);
        0.5 means the features carry no information about the attribute.
    auc_std : float
        Standard deviation of the fold AUCs.
    fold_aucs : tuple of float
        AUC of each fold.
    classes : tuple of str
        Classes predicted (``"unknown"`` included unless dropped).
    per_class_auc : tuple of (str, float)
        One-vs-rest AUC of each class over the out-of-fold predictions.
    n : int
        Rows used.
    dropped_classes : tuple of str
        Classes with fewer rows than folds, left out.
    cv : int
        Number of folds.
    seed : int
        Seed of the fold split and the model.
    """

    attribute: str
    model: str
    auc: float
    auc_std: float
    fold_aucs: tuple[float, ...]
    classes: tuple[str, ...]
    per_class_auc: tuple[tuple[str, float], ...]
    n: int
    dropped_classes: tuple[str, ...]
    cv: int
    seed: int


def _pipeline(features: pd.DataFrame, model: str, seed: int) -> Pipeline:
    numeric = [
        c
        for c in features.columns
        if pd.api.types.is_numeric_dtype(features[c].dtype) and not pd.api.types.is_bool_dtype(features[c].dtype)
    ]
    categorical = [c for c in features.columns if c not in numeric]
    transformers = []
    if numeric:
        steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
        if model == "logistic":
            steps.append(StandardScaler())
        transformers.append(("num", make_pipeline(*steps), numeric))
    if categorical:
        transformers.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=UNKNOWN, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=50, sparse_output=False),
                ),
                categorical,
            )
        )
    pre = ColumnTransformer(transformers, remainder="drop")
    if model == "logistic":
        clf = LogisticRegression(max_iter=2000, random_state=seed)
    else:
        clf = HistGradientBoostingClassifier(random_state=seed)
    return Pipeline([("pre", pre), ("clf", clf)])


def _auc(y: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    if n_classes == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(n_classes)))


def protected_attribute_auc(
    features: pd.DataFrame,
    *,
    protected: ArrayLike,
    attribute: str = "protected",
    bands: Sequence[float] | None = None,
    model: ProxyModel = "logistic",
    cv: int = 5,
    seed: int = 0,
    drop_unknown: bool = False,
    n_threads: int | None = 1,
) -> ProxyAUCResult:
    """Cross-validated AUC of a model predicting a protected attribute from the features.

    Parameters
    ----------
    features : DataFrame
        Features available to the CRM model (numeric: median-imputed, scaled
        for logistic regression; others: one-hot, 50 levels at most).
    protected : array-like
        Protected attribute per row; missing values form ``"unknown"``.
    attribute : str
        Name reported in the result.
    bands : sequence of float, optional
        Band edges when the attribute is continuous (e.g. age).
    model : {"logistic", "gradient_boosting"}
        Logistic regression or histogram gradient boosting.
    cv : int
        Stratified folds (shuffled with ``seed``).
    seed : int
        Seed of the split and the model.
    drop_unknown : bool
        Leave rows with a missing attribute out instead of predicting ``"unknown"``.
    n_threads : int or None
        Cap on OpenMP/BLAS threads while fitting (1 is fastest on small data
        and busy machines); ``None`` keeps the libraries' defaults.

    Returns
    -------
    ProxyAUCResult
    """
    if model not in ("logistic", "gradient_boosting"):
        raise ValueError(BAD_MODEL.format(value=model))
    if not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(BAD_CV.format(value=cv))
    if features.shape[1] == 0:
        raise ValueError(NO_FEATURES)
    codes, levels = encode_attribute(protected, name=attribute, bands=bands)
    if codes.shape[0] != features.shape[0]:
        raise ValueError(LENGTH_MISMATCH.format(name="protected", got=codes.shape[0], expected=features.shape[0]))
    keep = np.ones(codes.shape[0], dtype=bool)
    if drop_unknown:
        keep &= codes != len(levels) - 1
    counts = np.bincount(codes[keep], minlength=len(levels))
    small = [levels[i] for i in range(len(levels)) if 0 < counts[i] < cv]
    keep &= np.isin(codes, [i for i in range(len(levels)) if counts[i] >= cv])
    present = np.unique(codes[keep])
    classes = tuple(levels[i] for i in present)
    y = np.searchsorted(present, codes[keep])
    X = features.reset_index(drop=True).loc[keep]
    n_classes = len(classes)
    if n_classes < 2:
        return ProxyAUCResult(
            attribute=attribute,
            model=model,
            auc=math.nan,
            auc_std=math.nan,
            fold_aucs=(),
            classes=classes,
            per_class_auc=(),
            n=int(keep.sum()),
            dropped_classes=tuple(small),
            cv=cv,
            seed=seed,
        )
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    oof = np.zeros((y.shape[0], n_classes))
    fold_aucs = []
    with threadpool_limits(limits=n_threads):
        for train, test in folds.split(X, y):
            pipe = _pipeline(X, model, seed)
            pipe.fit(X.iloc[train], y[train])
            proba = np.zeros((test.shape[0], n_classes))
            proba[:, pipe.classes_] = pipe.predict_proba(X.iloc[test])
            oof[test] = proba
            fold_aucs.append(_auc(y[test], proba, n_classes))
    per_class = tuple((classes[c], float(roc_auc_score(y == c, oof[:, c]))) for c in range(n_classes))
    return ProxyAUCResult(
        attribute=attribute,
        model=model,
        auc=float(np.mean(fold_aucs)),
        auc_std=float(np.std(fold_aucs)),
        fold_aucs=tuple(float(a) for a in fold_aucs),
        classes=classes,
        per_class_auc=per_class,
        n=int(keep.sum()),
        dropped_classes=tuple(small),
        cv=cv,
        seed=seed,
    )


__all__ = [
    "ProxyAUCResult",
    "cramers_v",
    "discretise",
    "protected_attribute_auc",
    "proxy_associations",
]
