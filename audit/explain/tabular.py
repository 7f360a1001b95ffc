"""SHAP explanations of tabular classifiers and regressors, per original feature.

A person asking why a decision was made (GDPR Art. 15(1)(h) and 22, EU AI Act
Art. 86, PIPL Art. 24(3), ECOA / Regulation B adverse-action notices) thinks
in the columns of their customer record, not in one-hot or standardised model
inputs. So every explanation here is reported per ORIGINAL feature:

* tree ensembles (random forest, gradient boosting) are explained with SHAP's
  TreeExplainer on the transformed matrix using the path-dependent algorithm
  (no background data, exact for the trees), and the values of a categorical
  feature's one-hot columns are summed back onto that feature;
* linear models are explained in closed form with SHAP's LinearExplainer
  (interventional, against a background sample), summed the same way;
* anything else (SVM, neural network) is explained with SHAP's
  PermutationExplainer on the original features directly: masking a feature
  swaps all of its model-input columns for a background row's columns, so a
  masked customer is always a valid record (never two regions at once).

Every explanation is additive: ``values.sum(1) + base_values == output`` in
the stated ``output_space``; the worst deviation is kept in
``additivity_error``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy import sparse, stats

from . import _parallel

__all__ = [
    "Explanation",
    "StabilityResult",
    "explain_classifier",
    "explain_regressor",
    "stability",
]

Method = Literal["auto", "tree", "linear", "permutation"]
OutputSpace = Literal["log-odds", "probability", "margin", "raw"]


# ----------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class Explanation:
    """Per-row, per-original-feature SHAP values of one model.

    ``values[i, j]`` is feature ``feature_names[j]``'s contribution to the
    model output of explained row ``i`` (evaluation row ``row_index[i]``,
    customer ``ids[i]``), in ``output_space`` units. ``data`` holds the same
    rows in original units. ``global_mask`` marks the rows that form a
    uniform sample of the evaluation rows; global summaries use only those,
    so explaining extra adverse rows does not bias them.
    """

    values: np.ndarray
    base_values: np.ndarray
    output: np.ndarray
    feature_names: list[str]
    data: pd.DataFrame
    ids: np.ndarray
    row_index: np.ndarray
    global_mask: np.ndarray
    explainer: str
    output_space: str
    model_name: str = ""
    n_eval: int = 0
    additivity_error: float = 0.0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    transformed_values: np.ndarray | None = None
    transformed_names: list[str] | None = None
    transformed_owner: list[str] | None = None

    @property
    def base_value(self) -> float:
        """The expected model output (mean over rows when it varies, e.g. averaged folds)."""
        return float(np.mean(self.base_values)) if len(self.base_values) else float("nan")

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    def global_importance(self) -> dict[str, float]:
        """Mean |SHAP| per feature over the uniform-sample rows, largest first."""
        rows = self.values[self.global_mask] if self.global_mask.any() else self.values
        if len(rows) == 0:
            return {f: 0.0 for f in self.feature_names}
        mean_abs = np.abs(rows).mean(axis=0)
        order = np.argsort(-mean_abs, kind="stable")
        return {self.feature_names[j]: float(mean_abs[j]) for j in order}

    def to_frame(self) -> pd.DataFrame:
        """SHAP values as a DataFrame indexed by customer id."""
        return pd.DataFrame(self.values, columns=self.feature_names, index=pd.Index(self.ids, name="id"))

    def positions(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Explained-row positions of evaluation rows (-1 where a row was not explained)."""
        lookup = {int(r): i for i, r in enumerate(self.row_index)}
        return np.array([lookup.get(int(r), -1) for r in np.asarray(rows).ravel()], dtype=int)

    def sample_for_chart(self, n: int = 200, seed: int = 0) -> dict[str, Any]:
        """A JSON-safe sample for a beeswarm chart.

        ``features`` are ordered by global importance; ``shap`` and
        ``values_scaled`` are row-major lists aligned with them. Feature
        values are min-max scaled per feature over all explained rows (the
        colour of a dot); non-numeric features get ``None``.
        """
        pool = np.flatnonzero(self.global_mask) if self.global_mask.any() else np.arange(self.n_rows)
        rng = np.random.default_rng(seed)
        take = np.sort(rng.choice(pool, size=min(int(n), len(pool)), replace=False)) if len(pool) else pool
        names = list(self.global_importance())
        cols = [self.feature_names.index(f) for f in names]
        scaled = np.full((len(take), len(names)), np.nan)
        for k, feature in enumerate(names):
            column = self.data[feature] if feature in self.data.columns else None
            if column is None or not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
                continue
            numbers = pd.to_numeric(column, errors="coerce").astype(float).to_numpy()
            finite = numbers[np.isfinite(numbers)]
            if not len(finite):
                continue
            lo, hi = float(finite.min()), float(finite.max())
            chosen = numbers[take]
            scaled[:, k] = (chosen - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(chosen), 0.5, np.nan)
        return {
            "features": names,
            "shap": [[float(v) for v in row] for row in self.values[np.ix_(take, np.asarray(cols, dtype=int))]],
            "values_scaled": [[None if not np.isfinite(v) else float(v) for v in row] for row in scaled],
            "ids": [_json_id(v) for v in self.ids[take]],
            "base_value": self.base_value,
            "output_space": self.output_space,
        }


def _json_id(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


# ------------------------------------------------------------ model anatomy
def _is_pipeline(estimator: Any) -> bool:
    from sklearn.pipeline import Pipeline

    return isinstance(estimator, Pipeline)


def _split_pipeline(estimator: Any) -> tuple[Any, Any]:
    """(preprocessing part or None, final model)."""
    if _is_pipeline(estimator):
        if len(estimator.steps) == 1:
            return None, estimator.steps[-1][1]
        return estimator[:-1], estimator.steps[-1][1]
    return None, estimator


def _unfreeze(model: Any) -> Any:
    while type(model).__name__ == "FrozenEstimator" and hasattr(model, "estimator"):
        model = model.estimator
    return model


def _calibrated_members(model: Any) -> list[Any] | None:
    """The fitted estimators inside a CalibratedClassifierCV, else None."""
    from sklearn.calibration import CalibratedClassifierCV

    if not isinstance(model, CalibratedClassifierCV) or not hasattr(model, "calibrated_classifiers_"):
        return None
    members = []
    for member in model.calibrated_classifiers_:
        inner = getattr(member, "estimator", None)
        if inner is None:
            inner = getattr(member, "base_estimator", None)
        if inner is None:
            return None
        members.append(_unfreeze(inner))
    return members


_TREE_MODULES = ("xgboost", "lightgbm", "catboost")


def _family(model: Any) -> str:
    """'tree', 'linear' or 'agnostic' for one fitted (non-wrapper) model."""
    from sklearn import ensemble, tree

    tree_types = (
        ensemble.RandomForestClassifier,
        ensemble.RandomForestRegressor,
        ensemble.ExtraTreesClassifier,
        ensemble.ExtraTreesRegressor,
        ensemble.GradientBoostingClassifier,
        ensemble.GradientBoostingRegressor,
        ensemble.HistGradientBoostingClassifier,
        ensemble.HistGradientBoostingRegressor,
        tree.DecisionTreeClassifier,
        tree.DecisionTreeRegressor,
    )
    if isinstance(model, tree_types) or type(model).__module__.split(".")[0] in _TREE_MODULES:
        return "tree"
    try:
        coef = getattr(model, "coef_", None)
    except (AttributeError, ValueError):  # e.g. SVC with a non-linear kernel
        coef = None
    if coef is not None and hasattr(model, "intercept_") and not sparse.issparse(coef):
        return "linear"
    return "agnostic"


def _positive_index(classes: Any, positive_label: Any) -> int:
    labels = list(np.asarray(classes).tolist())
    if positive_label in labels:
        return labels.index(positive_label)
    if 1 in labels:
        return labels.index(1)
    return len(labels) - 1


def _linear_space(model: Any, is_classifier: bool) -> str:
    if not is_classifier:
        return "raw"
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, SGDClassifier

    if isinstance(model, (LogisticRegression, LogisticRegressionCV)):
        return "log-odds"
    if isinstance(model, SGDClassifier) and getattr(model, "loss", "") in ("log_loss", "log"):
        return "log-odds"
    return "margin"


def _dense(matrix: Any) -> np.ndarray:
    if sparse.issparse(matrix):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=float)


def _find_mapper(preprocessor: Any, prep: Any) -> Any:
    """The object that maps model-input columns to original features, if any."""
    candidates = [preprocessor]
    if prep is not None:
        candidates.append(prep)
        if _is_pipeline(prep):
            candidates.extend(step for _, step in prep.steps)
    for obj in candidates:
        if obj is not None and isinstance(getattr(obj, "output_to_feature_", None), dict):
            return obj
    return None


def _column_owners(
    preprocessor: Any, prep: Any, features: list[str], n_cols: int
) -> tuple[list[str], list[str], list[str]]:
    """(model-input column names, original feature of each column, notes)."""
    notes: list[str] = []
    if prep is None:
        if n_cols == len(features):
            return list(features), list(features), notes
        names = [f"x{j}" for j in range(n_cols)]
        return names, names, ["model inputs could not be matched to the listed features"]
    mapper = _find_mapper(preprocessor, prep)
    if mapper is not None:
        names_out = getattr(mapper, "feature_names_out_", None)
        if names_out is None and hasattr(mapper, "get_feature_names_out"):
            names_out = mapper.get_feature_names_out()
        names = [str(n) for n in (names_out if names_out is not None else [])]
        mapping = mapper.output_to_feature_
        if len(names) == n_cols and all(n in mapping for n in names):
            return names, [str(mapping[n]) for n in names], notes
    # generic sklearn transformer: match output names against the original features
    try:
        names = [str(n) for n in prep.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - any transformer without names
        names = [f"x{j}" for j in range(n_cols)]
    if len(names) != n_cols:
        names = [f"x{j}" for j in range(n_cols)]
    owners = []
    by_length = sorted(features, key=len, reverse=True)
    for name in names:
        short = name.split("__", 1)[1] if "__" in name else name
        owner = next((f for f in by_length if short == f), None)
        if owner is None:
            owner = next((f for f in by_length if short.startswith(f"{f}_")), None)
        owners.append(owner if owner is not None else name)
    if any(o not in features for o in owners):
        notes.append("some model inputs could not be traced to an original feature and are reported on their own")
    else:
        notes.append("model inputs traced to original features by column name (no output_to_feature_ mapping)")
    return names, owners, notes


def _feature_order(features: list[str], owners: list[str]) -> list[str]:
    extra = [o for o in dict.fromkeys(owners) if o not in features]
    return list(features) + extra


def _group(values: np.ndarray, owners: list[str], names: list[str]) -> np.ndarray:
    """Sum model-input columns onto their original feature."""
    index = {f: j for j, f in enumerate(names)}
    matrix = np.zeros((len(owners), len(names)))
    for col, owner in enumerate(owners):
        matrix[col, index[owner]] = 1.0
    return values @ matrix


# ---------------------------------------------------------------- explainers
@dataclass
class _Result:
    values: np.ndarray
    base_values: np.ndarray
    output: np.ndarray
    explainer: str
    output_space: str
    notes: list[str] = field(default_factory=list)
    transformed: np.ndarray | None = None


def _select_output(values: np.ndarray, expected: Any, pos: int) -> tuple[np.ndarray, float]:
    """Pick the positive class from SHAP's per-class outputs."""
    vals = np.asarray(values)
    exp = np.atleast_1d(np.asarray(expected, dtype=float))
    if vals.ndim == 3:
        return vals[:, :, pos], float(exp[pos] if len(exp) > pos else exp[-1])
    if isinstance(values, list):  # older SHAP: list of per-class arrays
        return np.asarray(values[pos]), float(exp[pos])
    return vals, float(exp[0] if len(exp) == 1 else exp[pos] if len(exp) > pos else exp[-1])


def _tree_explain(
    members: list[Any], Xt: np.ndarray, is_classifier: bool, positive_label: Any, n_jobs: int | None
) -> _Result:
    import shap

    sum_values = np.zeros(Xt.shape)
    base = 0.0
    candidates: dict[str, np.ndarray] = {}
    for model in members:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        pos = _positive_index(model.classes_, positive_label) if is_classifier else 0

        def run(chunk: np.ndarray, explainer: Any = explainer) -> np.ndarray:
            return np.asarray(explainer.shap_values(chunk, check_additivity=False))

        parts = _parallel.map_rows(run, Xt, n_jobs)
        raw = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
        values, expected = _select_output(raw, explainer.expected_value, pos)
        sum_values += values
        base += expected
        if is_classifier:
            candidates.setdefault("probability", np.zeros(len(Xt)))
            candidates["probability"] += model.predict_proba(Xt)[:, pos]
            if hasattr(model, "decision_function"):
                decision = np.asarray(model.decision_function(Xt), dtype=float)
                if decision.ndim == 1:  # binary: the margin of classes_[1]
                    decision = decision if pos == 1 else -decision
                else:
                    decision = decision[:, pos]
                candidates.setdefault("log-odds", np.zeros(len(Xt)))
                candidates["log-odds"] += decision
        else:
            candidates.setdefault("raw", np.zeros(len(Xt)))
            candidates["raw"] += np.asarray(model.predict(Xt), dtype=float)
    k = len(members)
    values = sum_values / k
    base_value = base / k
    recon = values.sum(axis=1) + base_value
    space, output = min(
        ((name, out / k) for name, out in candidates.items()), key=lambda item: float(np.max(np.abs(item[1] - recon)))
    )
    return _Result(
        values=values,
        base_values=np.full(len(Xt), base_value),
        output=output,
        explainer="tree (path-dependent TreeSHAP)",
        output_space=space,
        transformed=values,
    )


def _linear_explain(
    members: list[Any], Xt: np.ndarray, background: np.ndarray, is_classifier: bool, positive_label: Any
) -> _Result:
    import shap

    sum_values = np.zeros(Xt.shape)
    base = 0.0
    output = np.zeros(len(Xt))
    spaces = set()
    masker = shap.maskers.Independent(background, max_samples=len(background))
    for model in members:
        coef = np.asarray(model.coef_, dtype=float)
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
        if coef.ndim == 2 and coef.shape[0] > 1:  # multi-output: the positive class row
            pos = _positive_index(model.classes_, positive_label) if is_classifier else 0
            coef, intercept = coef[pos], intercept[pos : pos + 1]
        else:
            coef = coef.ravel()
            if is_classifier and _positive_index(model.classes_, positive_label) == 0:
                coef, intercept = -coef, -intercept  # explain the positive class's side of the margin
        explainer = shap.LinearExplainer((coef, float(intercept[0])), masker)
        values = np.asarray(explainer.shap_values(Xt), dtype=float)
        sum_values += values
        base += float(np.asarray(explainer.expected_value).ravel()[0])
        output += Xt @ coef + float(intercept[0])
        spaces.add(_linear_space(model, is_classifier))
    k = len(members)
    values = sum_values / k
    return _Result(
        values=values,
        base_values=np.full(len(Xt), base / k),
        output=output / k,
        explainer="linear (interventional, closed form)",
        output_space=spaces.pop() if len(spaces) == 1 else "margin",
        transformed=values,
    )


def _kernel_decision(svc: Any, Z: np.ndarray, block: int = 8192) -> np.ndarray:
    """SVC decision function by dense linear algebra (BLAS) instead of libsvm's loop, in row blocks."""
    sv = np.asarray(svc.support_vectors_, dtype=float)
    dual = np.asarray(svc.dual_coef_, dtype=float)[0]
    out = np.empty(len(Z))
    if svc.kernel == "linear":
        for start in range(0, len(Z), block):
            out[start : start + block] = (Z[start : start + block] @ sv.T) @ dual
        return out + float(svc.intercept_[0])
    gamma = float(svc._gamma)
    # exp(-gamma * |z - s|^2) = exp(2 gamma z.s - gamma |z|^2 - gamma |s|^2)
    sv_scaled = (2.0 * gamma) * sv
    sv_term = gamma * (sv * sv).sum(axis=1)[None, :]
    for start in range(0, len(Z), block):
        part = Z[start : start + block]
        gram = part @ sv_scaled.T
        gram -= sv_term
        gram -= gamma * (part * part).sum(axis=1)[:, None]
        np.minimum(gram, 0.0, out=gram)  # a squared distance is never negative
        np.exp(gram, out=gram)
        out[start : start + block] = gram @ dual
    return out + float(svc.intercept_[0])


def _fast_score(model: Any, pos: int) -> Any:
    """A faster equivalent of ``predict_proba(Z)[:, pos]`` for calibrated binary RBF/linear SVCs, else None.

    Callers must verify it against the real model before use.
    """
    from sklearn.svm import SVC

    members = _calibrated_members(model)
    if not members or not all(isinstance(m, SVC) and m.kernel in ("rbf", "linear") for m in members):
        return None
    wrappers = list(model.calibrated_classifiers_)
    if any(len(getattr(w, "calibrators", ())) != 1 or len(m.classes_) != 2 for w, m in zip(wrappers, members)):
        return None

    def score(Z: np.ndarray) -> np.ndarray:
        total = np.zeros(len(Z))
        for wrapper, svc in zip(wrappers, members):
            total += np.asarray(wrapper.calibrators[0].predict(_kernel_decision(svc, Z)), dtype=float)
        mean = total / len(members)
        return mean if pos == 1 else 1.0 - mean

    return score


def _score_function(model: Any, is_classifier: bool, pos: int, probe: np.ndarray) -> tuple[Any, Any, str, list[str]]:
    """(fast f(Z), reference f(Z), output space, notes); fast is the reference unless a verified shortcut exists."""
    if not is_classifier:

        def regression(Z: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(Z), dtype=float)

        return regression, regression, "raw", []

    def probability(Z: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(Z), dtype=float)[:, pos]

    def margin(Z: np.ndarray) -> np.ndarray:
        decision = np.asarray(model.decision_function(Z), dtype=float)
        if decision.ndim == 1:
            return decision if pos == 1 else -decision
        return decision[:, pos]

    try:
        probability(probe[:1])
        reference, space = probability, "probability"
    except (AttributeError, NotImplementedError):  # e.g. SVC(probability=False)
        reference, space = margin, "margin"
    fast = _fast_score(model, pos) if space == "probability" else None
    if fast is not None:
        try:
            gap = float(np.max(np.abs(fast(probe) - reference(probe))))
        except Exception:  # noqa: BLE001 - internals not as expected: use the model itself
            gap = float("inf")
        if gap <= 1e-9:
            note = (
                f"kernel scores computed with dense linear algebra, checked against predict_proba (max gap {gap:.1e})"
            )
            return fast, reference, space, [note]
    return reference, reference, space, []


def _antithetic_values(
    score: Any,
    table: np.ndarray,
    col_group: np.ndarray,
    rows: np.ndarray,
    background: np.ndarray,
    perms: np.ndarray,
    max_composite: int = 60_000,
) -> np.ndarray:
    """Antithetic permutation SHAP for ``rows`` (indices into ``table``), vectorised over rows.

    For each row and each permutation of the G feature groups the value
    function v(S) = mean over background rows b of f(x_S, b_rest) is evaluated
    along the permutation (adding groups one by one) and along its reverse;
    each group's marginal contributions are averaged. Per row and permutation
    that is 2G coalitions x len(background) model rows, the same estimator as
    SHAP's PermutationExplainer with an Independent masker, evaluated in a few
    large model calls. Returns (n_rows, G + 1): the values, then f(x).
    """
    n, n_perm, G = perms.shape
    B = len(background)
    columns = np.arange(table.shape[1])[None, :]
    # position of each group in each permutation: (n, P, G)
    rank = np.argsort(perms, axis=2)
    # states: forward k = 0..G (first k groups of the permutation present), backward j = 1..G-1
    # (all but the first j present); a group is "present" when taken from the explained row
    ks = np.arange(G + 1)
    js = np.arange(1, G)
    out = np.zeros((n, G + 1))
    per_row = n_perm * 2 * G * B
    step = max(1, int(max_composite) // max(per_row, 1))
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        r = rank[sl]  # (c, P, G)
        forward = r[:, :, None, :] < ks[None, None, :, None]  # (c, P, G+1, G)
        backward = r[:, :, None, :] >= js[None, None, :, None]  # (c, P, G-1, G)
        present = np.concatenate([forward, backward], axis=2)  # (c, P, 2G, G)
        c = present.shape[0]
        source = np.where(
            present[..., None, :],  # (c, P, 2G, 1, G)
            rows[sl][:, None, None, None, None],
            background[None, None, None, :, None],
        )  # (c, P, 2G, B, G)
        flat = source.reshape(-1, G)
        values = score(table[flat[:, col_group], columns]).reshape(c, n_perm, 2 * G, B).mean(axis=3)
        v_forward = values[:, :, : G + 1]  # v(first k present), k = 0..G
        v_back = np.concatenate([v_forward[:, :, G:], values[:, :, G + 1 :], v_forward[:, :, :1]], axis=2)
        perm = perms[sl]
        phi = np.zeros((c, G))
        gain_f = np.diff(v_forward, axis=2)  # adding perm[k]
        gain_b = -np.diff(v_back, axis=2)  # removing perm[j] from the rest
        rows_idx = np.arange(c)[:, None]
        for p in range(n_perm):
            np.add.at(phi, (rows_idx, perm[:, p, :]), gain_f[:, p, :] + gain_b[:, p, :])
        out[sl, :G] = phi / (2 * n_perm)
        out[sl, G] = v_forward[:, 0, G]
    return out


def _permutation_explain(
    model: Any,
    Xt: np.ndarray,
    background: np.ndarray,
    owners: list[str],
    names: list[str],
    is_classifier: bool,
    positive_label: Any,
    n_permutations: int,
    seed: int,
    n_jobs: int | None,
    engine: str = "batched",
) -> _Result:
    """Permutation SHAP over original features via row-index masking.

    Each original feature is one player; masking it takes all of its
    model-input columns from a background row instead of the explained row,
    so every evaluated record is valid.
    """
    active = [f for f in names if f in owners]
    col_group = np.array([active.index(o) for o in owners], dtype=int)
    table = np.vstack([Xt, background])
    n_rows = len(Xt)
    g = len(active)
    n_perm = max(1, int(n_permutations))
    pos = _positive_index(model.classes_, positive_label) if is_classifier else 0
    probe = table[np.unique(np.linspace(0, len(table) - 1, min(64, len(table))).astype(int))]
    score, exact, space, notes = _score_function(model, is_classifier, pos, probe)
    bg_rows = n_rows + np.arange(len(background))
    output = exact(Xt)
    base = float(np.mean(score(background))) if len(background) else float("nan")

    if engine == "shap":
        import shap

        columns = np.arange(table.shape[1])[None, :]

        def predict(index_matrix: np.ndarray) -> np.ndarray:
            idx = np.asarray(index_matrix).astype(np.int64)
            return score(table[idx[:, col_group], columns])

        bg_index = np.repeat(bg_rows[:, None], g, axis=1).astype(float)
        max_evals = n_perm * (2 * g + 1)

        def run(chunk: np.ndarray) -> np.ndarray:
            state = np.random.get_state()  # shap seeds numpy's global generator; leave it as found
            try:
                masker = shap.maskers.Independent(bg_index, max_samples=len(bg_index))
                explainer = shap.PermutationExplainer(predict, masker, seed=seed)
                result = explainer(
                    np.repeat(chunk[:, None], g, axis=1).astype(float),
                    max_evals=max_evals,
                    batch_size=max_evals,
                    silent=True,
                )
            finally:
                np.random.set_state(state)
            return np.column_stack(
                [np.asarray(result.values, dtype=float), np.asarray(result.base_values, dtype=float)]
            )

        parts = _parallel.map_rows(run, np.arange(n_rows), n_jobs)
        packed = np.concatenate(parts, axis=0)
        values, base_values = packed[:, :g], packed[:, g]
        label = "permutation (SHAP PermutationExplainer)"
    else:
        rng = np.random.default_rng(seed)
        perms = np.argsort(rng.random((n_rows, n_perm, g)), axis=2)

        def run(chunk: np.ndarray) -> np.ndarray:
            return _antithetic_values(score, table, col_group, chunk, bg_rows, perms[chunk])

        parts = _parallel.map_rows(run, np.arange(n_rows), n_jobs) if g else [np.zeros((n_rows, 1))]
        values = np.concatenate(parts, axis=0)[:, :g]
        base_values = np.full(n_rows, base)
        label = "permutation (antithetic, batched)"
    grouped = np.zeros((n_rows, len(names)))
    for j, feature in enumerate(active):
        grouped[:, names.index(feature)] = values[:, j]
    notes = [
        *notes,
        (
            f"permutation SHAP: {n_perm} antithetic permutation(s) per row against {len(background)} background "
            "rows; values are estimates, additivity is exact"
        ),
    ]
    return _Result(
        values=grouped,
        base_values=base_values,
        output=output,
        explainer=label,
        output_space=space,
        notes=notes,
    )


def _explain_matrix(
    estimator: Any,
    preprocessor: Any,
    X: pd.DataFrame,
    background: pd.DataFrame,
    features: list[str],
    *,
    is_classifier: bool,
    positive_label: Any,
    method: Method,
    agnostic_background: int,
    n_permutations: int,
    seed: int,
    n_jobs: int | None,
    engine: str = "batched",
) -> tuple[_Result, list[str], list[str], list[str]]:
    """Explain rows ``X`` of one fitted estimator; returns (result, names, owners, feature order)."""
    prep, final = _split_pipeline(estimator)
    final = _unfreeze(final)
    Xt = _dense(prep.transform(X)) if prep is not None else np.asarray(X, dtype=float)
    bt = _dense(prep.transform(background)) if prep is not None else np.asarray(background, dtype=float)
    names_t, owners, notes = _column_owners(preprocessor, prep, features, Xt.shape[1])
    order = _feature_order(features, owners)

    members = _calibrated_members(final)
    inner = members if members is not None else [final]
    family = _family(inner[0]) if all(_family(m) == _family(inner[0]) for m in inner) else "agnostic"
    chosen = family if method == "auto" else method
    if chosen != "permutation" and chosen != family and method != "auto":
        raise ValueError(f"method={method!r} does not fit a {type(inner[0]).__name__} model")
    if chosen == "agnostic":
        chosen = "permutation"

    result: _Result | None = None
    if chosen == "tree":
        try:
            result = _tree_explain(inner, Xt, is_classifier, positive_label, n_jobs)
        except Exception as exc:  # noqa: BLE001 - fall back to the model-agnostic explainer
            notes.append(f"TreeExplainer failed ({type(exc).__name__}: {exc}); used permutation SHAP instead")
            chosen = "permutation"
    elif chosen == "linear":
        result = _linear_explain(inner, Xt, bt, is_classifier, positive_label)
    if result is not None and members is not None:
        notes.append(
            f"{type(final).__name__} wraps {len(members)} fitted {type(inner[0]).__name__} model(s): the explanation "
            "is of their averaged UNCALIBRATED score, not of the calibrated probability"
        )
    if result is None:
        rng = np.random.default_rng(seed)
        keep = min(int(agnostic_background), len(bt))
        sample = bt[np.sort(rng.choice(len(bt), size=keep, replace=False))] if keep < len(bt) else bt
        result = _permutation_explain(
            final, Xt, sample, owners, order, is_classifier, positive_label, n_permutations, seed, n_jobs, engine
        )
        if members is not None:
            notes.append("the explanation is of the calibrated probability (the score the decision used)")
    result.notes = notes + result.notes
    return result, names_t, owners, order


# ------------------------------------------------------------------ helpers
def _row_positions(rows: Any, n: int) -> np.ndarray:
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if len(arr) != n:
            raise ValueError(f"boolean rows mask has {len(arr)} entries for {n} evaluation rows")
        return np.flatnonzero(arr)
    positions = np.unique(arr.astype(int).ravel())
    if len(positions) and (positions.min() < 0 or positions.max() >= n):
        raise IndexError("row positions out of range of the evaluation rows")
    return positions


def _background_frame(artifact: Any, size: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    sample = getattr(artifact, "X_train_sample", None)
    notes: list[str] = []
    if sample is None or len(sample) == 0:
        sample = artifact.X_eval
        notes.append("no training sample on the artifact: background drawn from the evaluation rows")
    sample = sample[list(artifact.features)] if set(artifact.features) <= set(sample.columns) else sample
    if len(sample) > size:
        rng = np.random.default_rng(seed)
        sample = sample.iloc[np.sort(rng.choice(len(sample), size=size, replace=False))]
    return sample.reset_index(drop=True), notes


def explain_classifier(
    artifact: Any,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    max_rows: int | None = None,
    background_size: int = 100,
    seed: int = 0,
    method: Method = "auto",
    agnostic_background: int = 10,
    n_permutations: int = 1,
    n_jobs: int | None = 1,
    engine: Literal["batched", "shap"] = "batched",
) -> Explanation:
    """SHAP values per original feature for a classifier (or regressor) artifact.

    Parameters
    ----------
    rows:
        Evaluation-row positions (or a boolean mask over ``X_eval``) that must
        be explained, e.g. every adverse decision.
    max_rows:
        Size of a seeded uniform sample of evaluation rows for global
        summaries. With ``rows=None`` only this sample is explained (all rows
        when None); with ``rows`` the two sets are explained together.
    background_size:
        Training rows drawn (seeded) as the background distribution: the
        mean for linear models, the pool for the permutation explainer.
    method:
        "auto" picks by model family; force "tree", "linear" or "permutation".
    agnostic_background, n_permutations:
        Cost controls of the permutation explainer (background rows actually
        used and antithetic permutations per row). Model calls per explained
        row are ``n_permutations * (2 * n_features + 1) * agnostic_background``.
    n_jobs:
        Worker processes for the row-wise SHAP loop (fork only; 1 = in-process).
    engine:
        Permutation explainer implementation: "batched" evaluates the same
        antithetic-permutation estimator as SHAP's PermutationExplainer in a
        few large model calls (no per-row overhead, no JIT warm-up); "shap"
        runs SHAP's PermutationExplainer itself.
    """
    started = time.perf_counter()
    features = [str(f) for f in artifact.features]
    X_eval: pd.DataFrame = artifact.X_eval
    n_eval = len(X_eval)
    is_classifier = getattr(artifact, "kind", "classifier") != "regressor"
    notes: list[str] = []

    rng = np.random.default_rng(seed)
    sample = np.arange(n_eval)
    if max_rows is not None and max_rows < n_eval:
        sample = np.sort(rng.choice(n_eval, size=int(max_rows), replace=False))
    if rows is None:
        chosen = sample
        global_mask = np.ones(len(chosen), dtype=bool)
    else:
        required = _row_positions(rows, n_eval)
        if max_rows is None:
            chosen = required
            global_mask = np.ones(len(chosen), dtype=bool)
            if len(chosen) < n_eval:
                notes.append("global summaries use the requested rows, which are not a uniform sample")
        else:
            chosen = np.union1d(required, sample)
            global_mask = np.isin(chosen, sample)
    background, bg_notes = _background_frame(artifact, int(background_size), seed)
    notes.extend(bg_notes)

    X_rows = X_eval.iloc[chosen][features] if set(features) <= set(X_eval.columns) else X_eval.iloc[chosen]
    result, names_t, owners, order = _explain_matrix(
        artifact.estimator,
        getattr(artifact, "preprocessor", None),
        X_rows,
        background,
        features,
        is_classifier=is_classifier,
        positive_label=getattr(artifact, "positive_label", 1),
        method=method,
        agnostic_background=agnostic_background,
        n_permutations=n_permutations,
        seed=seed,
        n_jobs=n_jobs,
        engine=engine,
    )
    grouped = _group(result.transformed, owners, order) if result.transformed is not None else result.values
    missing = [f for f in features if f not in owners]
    if missing:
        notes.append(f"features without model inputs (contribution 0): {missing}")
    error = float(np.max(np.abs(grouped.sum(axis=1) + result.base_values - result.output))) if len(chosen) else 0.0
    ids = np.asarray(artifact.ids) if len(getattr(artifact, "ids", [])) == n_eval else np.arange(n_eval)
    return Explanation(
        values=grouped,
        base_values=np.asarray(result.base_values, dtype=float),
        output=np.asarray(result.output, dtype=float),
        feature_names=order,
        data=X_eval.iloc[chosen].reset_index(drop=True),
        ids=ids[chosen],
        row_index=chosen.astype(int),
        global_mask=global_mask,
        explainer=result.explainer,
        output_space=result.output_space,
        model_name=str(getattr(artifact, "name", "")),
        n_eval=n_eval,
        additivity_error=error,
        seconds=time.perf_counter() - started,
        notes=tuple(notes + result.notes),
        transformed_values=result.transformed,
        transformed_names=names_t if result.transformed is not None else None,
        transformed_owner=owners if result.transformed is not None else None,
    )


def explain_regressor(artifact: Any, **kwargs: Any) -> Explanation:
    """Same as :func:`explain_classifier` for a RegressorArtifact (output space "raw")."""
    return explain_classifier(artifact, **kwargs)


# ---------------------------------------------------------------- stability
class StabilityResult(tuple):
    """``(mean_rho, rhos)``, unpackable as a pair, with the details as attributes."""

    mean_rho: float
    rhos: list[float]
    features: list[str]
    notes: list[str]

    def __new__(cls, mean_rho: float, rhos: list[float], features: list[str], notes: list[str]) -> Self:
        obj = super().__new__(cls, (mean_rho, rhos))
        obj.mean_rho = mean_rho
        obj.rhos = rhos
        obj.features = features
        obj.notes = notes
        return obj


def _training_data(artifact: Any) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Labelled rows to refit on: an exposed training set, else the evaluation rows."""
    for x_name, y_name in (("X_train", "y_train"), ("X_train_sample", "y_train_sample")):
        X = getattr(artifact, x_name, None)
        y = getattr(artifact, y_name, None)
        if X is not None and y is not None and len(X) and len(X) == len(y):
            return X.reset_index(drop=True), np.asarray(y), []
    note = (
        "the artifact exposes no labelled training rows (X_train_sample has no labels): refits use bootstrap "
        "resamples of the evaluation rows with y_true"
    )
    return artifact.X_eval.reset_index(drop=True), np.asarray(artifact.y_true), [note]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return 1.0
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.ptp(a) == np.ptp(b) else 0.0
    return float(stats.spearmanr(a, b).statistic)


def stability(
    artifact: Any,
    *,
    n_refits: int = 5,
    top_k: int = 10,
    seed: int = 0,
    explain_rows: int = 200,
    max_train_rows: int = 2000,
) -> StabilityResult:
    """Rank stability of global feature importance under bootstrap refits.

    The artifact's estimator is cloned and refitted ``n_refits`` times on
    bootstrap resamples (at most ``max_train_rows`` rows each); each refit is
    explained on the same ``explain_rows`` evaluation rows, and the Spearman
    correlation between its mean |SHAP| and the original model's is computed
    over the original's ``top_k`` features. Returns ``(mean rho, per-refit
    rhos)``; ``.features`` and ``.notes`` carry the details.
    """
    from sklearn.base import clone

    rng = np.random.default_rng(seed)
    reference = explain_classifier(artifact, max_rows=explain_rows, seed=seed, background_size=50, n_permutations=1)
    importance = reference.global_importance()
    top = list(importance)[: max(2, int(top_k))]
    base_scores = np.array([importance[f] for f in top])
    X_fit, y_fit, notes = _training_data(artifact)
    features = [str(f) for f in artifact.features]
    is_classifier = getattr(artifact, "kind", "classifier") != "regressor"
    if is_classifier:
        positive = getattr(artifact, "positive_label", 1)
        classes = set(np.unique(y_fit).tolist())
        y_fit = (y_fit == positive).astype(int) if positive in classes else y_fit
    size = min(len(X_fit), int(max_train_rows))
    rhos: list[float] = []
    for _refit in range(int(n_refits)):
        for _ in range(20):  # a classifier needs both classes in the resample
            take = rng.integers(0, len(X_fit), size=size)
            if not is_classifier or len(np.unique(y_fit[take])) > 1:
                break
        model = clone(artifact.estimator)
        model.fit(X_fit.iloc[take][features], y_fit[take])
        prep, _ = _split_pipeline(model)
        refitted = replace(
            artifact, estimator=model, preprocessor=_find_mapper(None, prep) if prep is not None else None
        )
        other = explain_classifier(refitted, max_rows=explain_rows, seed=seed, background_size=50, n_permutations=1)
        scores = other.global_importance()
        rhos.append(_spearman(base_scores, np.array([scores.get(f, 0.0) for f in top])))
    mean = float(np.mean(rhos)) if rhos else float("nan")
    notes.append(f"explainer: {reference.explainer}; {len(reference.row_index)} evaluation rows explained per refit")
    return StabilityResult(mean, rhos, top, notes)
