"""Group fairness of binary classifiers from per-group confusion counts.

Every count-based figure (selection rate, TPR, FPR, FNR, TNR, precision,
accuracy) depends only on the per-group cells TN, FP, FN, TP. Bootstrap
replicates are therefore multinomial draws over those cells: with the default
``scheme="stratified"`` each group's size is held fixed and its rows are
resampled with replacement (one multinomial per group); ``scheme="pooled"``
resamples all rows together (one multinomial over every group-cell). Either
way the cost does not depend on the number of rows.

Intervals default to the basic (reverse-percentile) bootstrap: a max-minus-min
gap over noisy groups is biased upwards and the percentile interval would
inherit, and double, that bias; ``ci_method="percentile"`` is available. Every
interval is clipped to the metric's range and widened, if needed, to contain
the point estimate.

Undefined rates (a group with no positives has no TPR) are NaN by default and
skipped when taking the max and min across groups. Fairlearn instead reports
0 for them (scikit-learn's ``confusion_matrix(normalize="true")`` turns 0/0
into 0); ``undefined="zero"`` reproduces that convention exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import roc_auc_score

from audit.fairness._stats import (
    check_bootstrap_args,
    check_min_group_size,
    draws_for,
    gap,
    interval,
    make_rng,
    nan_extremes,
    stratified_draws,
    two_proportion_test,
)
from audit.fairness.groups import UNKNOWN, GroupLabels, as_groups
from audit.fairness.results import FairnessResult, group_result, group_table, too_few_groups

RateMetric = Literal[
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "accuracy",
]
Kind = Literal["difference", "ratio"]
Undefined = Literal["nan", "zero"]
Outcome = Literal["favourable", "adverse"]

NON_BINARY = "{name} must hold at most two distinct values, got {values!r}"
MISSING_LABELS = "{name} contains missing values"
LENGTH_MISMATCH = "{name} has {got} rows, expected {expected}"
UNKNOWN_METRIC = "unknown fairness metric {name!r}; known: {known}"
UNKNOWN_RATE = "unknown rate metric {name!r}; known: {known}"
BAD_KIND = "kind must be 'difference' or 'ratio', got {value!r}"
BAD_UNDEFINED = "undefined must be 'nan' or 'zero', got {value!r}"
BAD_OUTCOME = "outcome must be 'favourable' or 'adverse', got {value!r}"
NEEDS_Y_TRUE = "metric {name!r} needs y_true"
BAD_SCORES = "y_score must be finite probabilities in [0, 1]"
BAD_N_BINS = "n_bins must be a positive integer, got {value!r}"
BAD_COUNTS = "counts must be a non-negative integer array of shape (n_groups, 4)"

#: Cell order of confusion counts: index ``2 * y_true + y_pred``.
CELLS: tuple[str, str, str, str] = ("tn", "fp", "fn", "tp")

_TN, _FP, _FN, _TP = 0, 1, 2, 3

# rate -> (numerator cells, denominator cells, higher is better, denominator column)
_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], bool, str]] = {
    "selection_rate": ((_FP, _TP), (_TN, _FP, _FN, _TP), True, "n"),
    "true_positive_rate": ((_TP,), (_FN, _TP), True, "n_positive"),
    "false_positive_rate": ((_FP,), (_TN, _FP), False, "n_negative"),
    "false_negative_rate": ((_FN,), (_FN, _TP), False, "n_positive"),
    "true_negative_rate": ((_TN,), (_TN, _FP), True, "n_negative"),
    "precision": ((_TP,), (_FP, _TP), True, "n_predicted_positive"),
    "accuracy": ((_TN, _TP), (_TN, _FP, _FN, _TP), True, "n"),
}

#: Named disparities: name -> (rates combined, kind).
NAMED_DISPARITIES: dict[str, tuple[tuple[str, ...], Kind]] = {
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "selection_rate_impact_ratio": (("selection_rate",), "ratio"),
    "equal_opportunity_difference": (("true_positive_rate",), "difference"),
    "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), "difference"),
    "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), "ratio"),
    "recall_difference": (("true_positive_rate",), "difference"),
}

DEFAULT_METRICS: tuple[str, ...] = (
    "selection_rate_impact_ratio",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)


@dataclass(frozen=True)
class GroupConfusion:
    """Per-group confusion counts.

    Attributes
    ----------
    groups : tuple of str
        Group names.
    counts : ndarray of int64, shape (n_groups, 4)
        Cells in :data:`CELLS` order (TN, FP, FN, TP).
    """

    groups: tuple[str, ...]
    counts: np.ndarray = field(repr=False)

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.counts.sum(axis=1)

    def table(self) -> pd.DataFrame:
        """Counts as a DataFrame: ``group, n, tn, fp, fn, tp``."""
        frame = pd.DataFrame(self.counts, columns=list(CELLS))
        frame.insert(0, "n", self.n)
        frame.insert(0, "group", list(self.groups))
        return frame


def _check_option(value: str, allowed: Sequence[str], message: str) -> None:
    if value not in allowed:
        raise ValueError(message.format(value=value))


def _binary(values: ArrayLike, *, name: str, pos_label: object, n: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if n is not None and arr.shape[0] != n:
        raise ValueError(LENGTH_MISMATCH.format(name=name, got=arr.shape[0], expected=n))
    if arr.dtype == bool:
        return arr if pos_label in (True, 1) else ~arr
    if arr.dtype.kind in "fO" and pd.isna(arr).any():
        raise ValueError(MISSING_LABELS.format(name=name))
    uniques = np.unique(arr)
    if uniques.size > 2:
        raise ValueError(NON_BINARY.format(name=name, values=uniques[:5].tolist()))
    return arr == pos_label


def confusion_by_group(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    pos_label: object = 1,
) -> GroupConfusion:
    """Count TN, FP, FN, TP per group with one ``numpy.bincount``.

    Parameters
    ----------
    y_true : array-like or None
        True labels (two values at most). ``None`` counts every row as a
        negative, which is enough for selection rates.
    y_pred : array-like
        Predicted labels (two values at most).
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row; missing labels form the ``"unknown"`` group.
    pos_label : object
        Label of the positive (selected) class.

    Returns
    -------
    GroupConfusion
    """
    g = as_groups(groups)
    n = g.n_rows
    yp = _binary(y_pred, name="y_pred", pos_label=pos_label, n=n)
    if y_true is None:
        cell = yp.astype(np.int64)
    else:
        yt = _binary(y_true, name="y_true", pos_label=pos_label, n=n)
        cell = 2 * yt.astype(np.int64) + yp
    idx = g.codes * 4 + cell
    counts = np.bincount(idx, minlength=4 * g.n_groups).reshape(g.n_groups, 4)
    return GroupConfusion(groups=g.names, counts=counts.astype(np.int64))


def rate_parts(counts: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of a rate from counts of shape ``(..., 4)``."""
    if metric not in _RATES:
        raise ValueError(UNKNOWN_RATE.format(name=metric, known=sorted(_RATES)))
    num_cells, den_cells, _, _ = _RATES[metric]
    num = counts[..., list(num_cells)].sum(axis=-1)
    den = counts[..., list(den_cells)].sum(axis=-1)
    return num, den


def rates_from_counts(counts: np.ndarray, metric: str, *, undefined: Undefined = "nan") -> np.ndarray:
    """A rate per group (and per replicate) from counts of shape ``(..., 4)``.

    A zero denominator gives NaN (``undefined="nan"``) or 0 (``"zero"``, the
    Fairlearn and scikit-learn convention).
    """
    _check_option(undefined, ("nan", "zero"), BAD_UNDEFINED)
    num, den = rate_parts(counts, metric)
    fill = 0.0 if undefined == "zero" else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), fill)


def rates_by_group(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    pos_label: object = 1,
    undefined: Undefined = "nan",
) -> pd.DataFrame:
    """All count-based rates per group.

    Returns
    -------
    DataFrame
        ``group, n, n_positive, n_negative, n_predicted_positive`` and one
        column per rate in :data:`RATE_METRICS`.
    """
    conf = confusion_by_group(y_true, y_pred, groups=groups, pos_label=pos_label)
    frame = _denominator_table(conf)
    for metric in _RATES:
        frame[metric] = rates_from_counts(conf.counts, metric, undefined=undefined)
    return frame


def _denominator_table(conf: GroupConfusion) -> pd.DataFrame:
    c = conf.counts
    return pd.DataFrame(
        {
            "group": list(conf.groups),
            "n": c.sum(axis=1),
            "n_positive": c[:, _FN] + c[:, _TP],
            "n_negative": c[:, _TN] + c[:, _FP],
            "n_predicted_positive": c[:, _FP] + c[:, _TP],
        }
    )


def resolve_metric(name: str) -> tuple[tuple[str, ...], Kind]:
    """Rates and kind of a disparity name.

    Known names are those of :data:`NAMED_DISPARITIES` and ``"<rate>_difference"``
    or ``"<rate>_ratio"`` for every rate in :data:`RATE_METRICS`.
    """
    if name in NAMED_DISPARITIES:
        return NAMED_DISPARITIES[name]
    kinds: tuple[Kind, ...] = ("difference", "ratio")
    for kind in kinds:
        suffix = "_" + kind
        if name.endswith(suffix) and name[: -len(suffix)] in _RATES:
            return (name[: -len(suffix)],), kind
    known = sorted(NAMED_DISPARITIES) + ["<rate>_difference", "<rate>_ratio"]
    raise ValueError(UNKNOWN_METRIC.format(name=name, known=known))


def _higher_is_better(rate: str, outcome: str) -> bool:
    if rate == "selection_rate":
        return outcome == "favourable"
    return _RATES[rate][2]


def _pick(values: np.ndarray, mask: np.ndarray, *, lowest: bool) -> int | None:
    cand = np.where(mask & ~np.isnan(values), values, np.inf if lowest else -np.inf)
    if not (mask & ~np.isnan(values)).any():
        return None
    return int(np.argmin(cand) if lowest else np.argmax(cand))


def _disparity(
    conf: GroupConfusion,
    draws: np.ndarray | None,
    *,
    name: str,
    rates: tuple[str, ...],
    kind: Kind,
    min_group_size: int,
    undefined: Undefined,
    outcome: str,
    test: str,
    confidence: float,
    ci_method: str,
    n_boot: int,
) -> FairnessResult:
    counts = conf.counts
    sizes = counts.sum(axis=1)
    size_ok = sizes >= min_group_size
    per_rate = {r: rates_from_counts(counts, r, undefined=undefined) for r in rates}
    defined = np.zeros(len(conf.groups), dtype=bool)
    for values in per_rate.values():
        defined |= ~np.isnan(values)
    eligible = size_ok & defined

    by_group = _denominator_table(conf)
    keep = ["group", "n"] + sorted({_RATES[r][3] for r in rates} - {"n"})
    by_group = by_group[keep].copy()
    for r, values in per_rate.items():
        by_group[r] = values
    by_group["eligible"] = eligible

    notes: list[str] = []
    for r, values in per_rate.items():
        missing = [conf.groups[i] for i in np.flatnonzero(np.isnan(values))]
        if missing:
            notes.append(f"{r} undefined (zero denominator) for: {', '.join(missing)}")
    notes.extend(too_few_groups(eligible))

    def combine(per_component: list[np.ndarray]) -> np.ndarray:
        stacked = np.stack(per_component, axis=-1)
        lo, hi = nan_extremes(stacked)
        return hi if kind == "difference" else lo

    comps_elig = [gap(np.where(eligible, per_rate[r], np.nan), kind) for r in rates]
    comps_all = [gap(per_rate[r], kind) for r in rates]
    value = float(combine(comps_elig))
    value_all = float(combine(comps_all))

    # decisive component: the one that sets the combined value
    decisive = rates[0]
    if len(rates) > 1 and not math.isnan(value):
        for r, comp in zip(rates, comps_elig, strict=True):
            if float(comp) == value:
                decisive = r
                break

    worst = best = None
    p_value, test_name = math.nan, "none"
    vals = per_rate[decisive]
    hib = _higher_is_better(decisive, outcome)
    i_worst = _pick(vals, eligible, lowest=hib)
    i_best = _pick(vals, eligible, lowest=not hib)
    if i_worst is not None and i_worst == i_best:
        # all eligible groups tie: compare the first two so the test reports no difference
        others = np.flatnonzero(eligible & ~np.isnan(vals) & (np.arange(vals.size) != i_worst))
        if others.size:
            i_best = int(others[0])
    if i_worst is not None and i_best is not None:
        worst, best = conf.groups[i_worst], conf.groups[i_best]
        if i_worst != i_best:
            num, den = rate_parts(counts, decisive)
            p_value, test_name = two_proportion_test(num[i_worst], den[i_worst], num[i_best], den[i_best], test=test)

    ci_low = ci_high = math.nan
    if draws is not None and n_boot > 0 and not math.isnan(value):
        reps = [gap(np.where(eligible, rates_from_counts(draws, r, undefined=undefined), np.nan), kind) for r in rates]
        replicate_values = combine([np.asarray(x) for x in reps])
        ci_low, ci_high = interval(value, replicate_values, confidence=confidence, method=ci_method, bounds=(0.0, 1.0))

    return group_result(
        metric=name,
        names=conf.groups,
        eligible=eligible,
        value=value,
        value_all=value_all,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        by_group=by_group,
        worst=worst,
        best=best,
        confidence=confidence,
        n_boot=n_boot,
        test=test_name,
        notes=notes,
    )


def disparities_from_counts(
    confusion: GroupConfusion,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    min_group_size: int = 30,
    undefined: Undefined = "nan",
    outcome: Outcome = "favourable",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    scheme: Literal["stratified", "pooled"] = "stratified",
    ci_method: Literal["basic", "percentile"] = "basic",
    test: Literal["auto", "z", "fisher"] = "auto",
) -> dict[str, FairnessResult]:
    """Disparities with bootstrap intervals from per-group confusion counts.

    Parameters
    ----------
    confusion : GroupConfusion
        Per-group counts, e.g. from :func:`confusion_by_group`.
    metrics : sequence of str
        Disparity names (see :func:`resolve_metric`). One set of bootstrap
        draws is shared by all of them.
    min_group_size : int
        Groups smaller than this are reported but excluded from ``value``.
    undefined : {"nan", "zero"}
        Value of a rate with a zero denominator; ``"zero"`` matches Fairlearn.
    outcome : {"favourable", "adverse"}
        Whether being selected benefits the person; sets worst/best groups of
        selection-rate metrics.
    n_boot : int
        Bootstrap draws (0 disables intervals).
    confidence : float
        Confidence level of the intervals.
    seed : int, Generator or None
        Random source of the bootstrap.
    scheme : {"stratified", "pooled"}
        Bootstrap scheme (see module docstring).
    ci_method : {"basic", "percentile"}
        Interval construction (see :func:`audit.fairness._stats.interval`).
    test : {"auto", "z", "fisher"}
        Test of the worst against the best group's rate.

    Returns
    -------
    dict of str to FairnessResult
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)
    _check_option(undefined, ("nan", "zero"), BAD_UNDEFINED)
    _check_option(outcome, ("favourable", "adverse"), BAD_OUTCOME)
    counts = np.asarray(confusion.counts)
    if counts.ndim != 2 or counts.shape[1] != 4 or (counts < 0).any():
        raise ValueError(BAD_COUNTS)
    resolved = {m: resolve_metric(m) for m in metrics}
    draws = None
    if n_boot > 0:
        draws = draws_for(counts, n_boot, make_rng(seed), scheme)
    return {
        m: _disparity(
            confusion,
            draws,
            name=m,
            rates=rates,
            kind=kind,
            min_group_size=min_group_size,
            undefined=undefined,
            outcome=outcome,
            test=test,
            confidence=confidence,
            ci_method=ci_method,
            n_boot=n_boot,
        )
        for m, (rates, kind) in resolved.items()
    }


def classification_fairness(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    pos_label: object = 1,
    min_group_size: int = 30,
    undefined: Undefined = "nan",
    outcome: Outcome = "favourable",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    scheme: Literal["stratified", "pooled"] = "stratified",
    ci_method: Literal["basic", "percentile"] = "basic",
    test: Literal["auto", "z", "fisher"] = "auto",
) -> dict[str, FairnessResult]:
    """Several disparities of a binary classifier in one pass.

    Parameters
    ----------
    y_true : array-like or None
        True labels; may be ``None`` when only selection-rate metrics are asked.
    y_pred : array-like
        Predicted labels.
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    metrics, min_group_size, undefined, outcome, n_boot, confidence, seed, scheme, ci_method, test
        See :func:`disparities_from_counts`.

    Returns
    -------
    dict of str to FairnessResult
    """
    if y_true is None:
        for m in metrics:
            if any(r != "selection_rate" for r in resolve_metric(m)[0]):
                raise ValueError(NEEDS_Y_TRUE.format(name=m))
    conf = confusion_by_group(y_true, y_pred, groups=groups, pos_label=pos_label)
    return disparities_from_counts(
        conf,
        metrics=metrics,
        min_group_size=min_group_size,
        undefined=undefined,
        outcome=outcome,
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        scheme=scheme,
        ci_method=ci_method,
        test=test,
    )


def rate_disparity(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    metric: RateMetric,
    kind: Kind = "difference",
    pos_label: object = 1,
    min_group_size: int = 30,
    undefined: Undefined = "nan",
    outcome: Outcome = "favourable",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    scheme: Literal["stratified", "pooled"] = "stratified",
    ci_method: Literal["basic", "percentile"] = "basic",
    test: Literal["auto", "z", "fisher"] = "auto",
) -> FairnessResult:
    """Difference (max - min) or ratio (min / max) of one rate across groups.

    See :func:`disparities_from_counts` for the options.
    """
    if metric not in _RATES:
        raise ValueError(UNKNOWN_RATE.format(name=metric, known=sorted(_RATES)))
    _check_option(kind, ("difference", "ratio"), BAD_KIND)
    name = f"{metric}_{kind}"
    return classification_fairness(
        y_true,
        y_pred,
        groups=groups,
        metrics=[name],
        pos_label=pos_label,
        min_group_size=min_group_size,
        undefined=undefined,
        outcome=outcome,
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        scheme=scheme,
        ci_method=ci_method,
        test=test,
    )[name]


def _named(name: str):
    def wrapper(
        y_true: ArrayLike | None,
        y_pred: ArrayLike,
        *,
        groups: GroupLabels | ArrayLike | pd.DataFrame,
        pos_label: object = 1,
        min_group_size: int = 30,
        undefined: Undefined = "nan",
        outcome: Outcome = "favourable",
        n_boot: int = 1000,
        confidence: float = 0.95,
        seed: int | np.random.Generator | None = 0,
        scheme: Literal["stratified", "pooled"] = "stratified",
        ci_method: Literal["basic", "percentile"] = "basic",
        test: Literal["auto", "z", "fisher"] = "auto",
    ) -> FairnessResult:
        return classification_fairness(
            y_true,
            y_pred,
            groups=groups,
            metrics=[name],
            pos_label=pos_label,
            min_group_size=min_group_size,
            undefined=undefined,
            outcome=outcome,
            n_boot=n_boot,
            confidence=confidence,
            seed=seed,
            scheme=scheme,
            ci_method=ci_method,
            test=test,
        )[name]

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


selection_rate_impact_ratio = _named("selection_rate_impact_ratio")
selection_rate_impact_ratio.__doc__ = """Impact ratio: lowest over highest selection rate (four-fifths screen).

A value below 0.8 fails the four-fifths rule of thumb; judge it with
``result.statistically_clear(0.8, "below")``. Options as in
:func:`disparities_from_counts`.
"""

demographic_parity_difference = _named("demographic_parity_difference")
demographic_parity_difference.__doc__ = """Highest minus lowest group selection rate.

Equals Fairlearn's ``demographic_parity_difference`` (``method="between_groups"``)
over the eligible groups. Options as in :func:`disparities_from_counts`.
"""

equalized_odds_difference = _named("equalized_odds_difference")
equalized_odds_difference.__doc__ = """Larger of the TPR gap and the FPR gap across groups.

Equals Fairlearn's ``equalized_odds_difference`` (``method="between_groups"``,
``agg="worst_case"``) over the eligible groups. Options as in
:func:`disparities_from_counts`.
"""

equal_opportunity_difference = _named("equal_opportunity_difference")
equal_opportunity_difference.__doc__ = """Highest minus lowest group true positive rate.

Equals Fairlearn's ``equal_opportunity_difference`` over the eligible groups.
Options as in :func:`disparities_from_counts`.
"""


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------

_FINE = 10  # fine sub-bins per calibration bin used by the bootstrap


def _scores(y_score: ArrayLike, n: int) -> np.ndarray:
    p = np.asarray(y_score, dtype=float).reshape(-1)
    if p.shape[0] != n:
        raise ValueError(LENGTH_MISMATCH.format(name="y_score", got=p.shape[0], expected=n))
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(BAD_SCORES)
    return p


def _group_result(
    *,
    name: str,
    column: str,
    g: GroupLabels,
    values: np.ndarray,
    replicates: np.ndarray | None,
    lower_is_better: bool,
    min_group_size: int,
    confidence: float,
    ci_method: str,
    n_boot: int,
    extra: dict[str, np.ndarray] | None = None,
    pair_test: object = None,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> FairnessResult:
    """Difference (max - min) of an arbitrary per-group metric."""
    sizes = g.sizes
    eligible = (sizes >= min_group_size) & ~np.isnan(values)
    by_group = group_table(g.names, sizes, column, values, eligible, extra)
    value = float(gap(np.where(eligible, values, np.nan), "difference"))
    value_all = float(gap(values, "difference"))
    i_worst = _pick(values, eligible, lowest=not lower_is_better)
    i_best = _pick(values, eligible, lowest=lower_is_better)
    worst = g.names[i_worst] if i_worst is not None else None
    best = g.names[i_best] if i_best is not None else None
    p_value, test_name = math.nan, "none"
    if pair_test is not None and i_worst is not None and i_best is not None and i_worst != i_best:
        p_value, test_name = pair_test(i_worst, i_best)  # type: ignore[operator]
    ci_low = ci_high = math.nan
    if replicates is not None and n_boot > 0 and not math.isnan(value):
        reps = gap(np.where(eligible, replicates, np.nan), "difference")
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=bounds)
    notes = too_few_groups(eligible)
    undefined = [g.names[i] for i in np.flatnonzero(np.isnan(values))]
    if undefined:
        notes.append(f"{column} undefined for: {', '.join(undefined)}")
    return group_result(
        metric=name,
        names=g.names,
        eligible=eligible,
        value=value,
        value_all=value_all,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        by_group=by_group,
        worst=worst,
        best=best,
        confidence=confidence,
        n_boot=n_boot,
        test=test_name,
        notes=notes,
    )


def calibration_by_group(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    pos_label: object = 1,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Expected calibration error and Brier score per group.

    ECE uses ``n_bins`` equal-width bins on [0, 1]:
    ``sum_b (n_b / n) * |mean(y)_b - mean(p)_b|``.

    Returns
    -------
    DataFrame
        ``group, n, ece, brier``.
    """
    g = as_groups(groups)
    y = _binary(y_true, name="y_true", pos_label=pos_label, n=g.n_rows).astype(float)
    p = _scores(y_score, g.n_rows)
    ece, brier = _calibration_point(y, p, g, n_bins)
    return pd.DataFrame({"group": list(g.names), "n": g.sizes, "ece": ece, "brier": brier})


def _calibration_point(y: np.ndarray, p: np.ndarray, g: GroupLabels, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(BAD_N_BINS.format(value=n_bins))
    G = g.n_groups
    b = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    idx = g.codes * n_bins + b
    sum_y = np.bincount(idx, weights=y, minlength=G * n_bins).reshape(G, n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=G * n_bins).reshape(G, n_bins)
    sizes = g.sizes.astype(float)
    ece = np.abs(sum_y - sum_p).sum(axis=1) / sizes
    sq = np.bincount(g.codes, weights=(p - y) ** 2, minlength=G)
    return ece, sq / sizes


def calibration_gap(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    pos_label: object = 1,
    n_bins: int = 10,
    min_group_size: int = 30,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> dict[str, FairnessResult]:
    """Largest between-group gap in calibration error (ECE) and Brier score.

    Parameters
    ----------
    y_true : array-like
        True labels.
    y_score : array-like
        Predicted probability of the positive class, in [0, 1].
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    n_bins : int
        Equal-width ECE bins on [0, 1].
    min_group_size, n_boot, confidence, seed, ci_method
        As in :func:`disparities_from_counts`.

    Returns
    -------
    dict
        ``"ece_difference"`` and ``"brier_difference"``. The Brier gap carries
        Welch's t-test of the worst against the best group's squared errors.

    Notes
    -----
    The bootstrap is stratified by group and runs on cells (group, fine bin of
    width ``1 / (10 * n_bins)``, label) holding counts and score sums; within a
    cell the scores are represented by their mean, so the replicates cost
    nothing per row and differ from a row bootstrap only through the score
    spread inside a fine bin.
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)
    g = as_groups(groups)
    y = _binary(y_true, name="y_true", pos_label=pos_label, n=g.n_rows).astype(float)
    p = _scores(y_score, g.n_rows)
    ece, brier = _calibration_point(y, p, g, n_bins)
    sq = (p - y) ** 2

    ece_reps = brier_reps = None
    if n_boot > 0:
        G, F = g.n_groups, n_bins * _FINE
        fine = np.minimum((p * F).astype(np.int64), F - 1)
        idx = (g.codes * F + fine) * 2 + y.astype(np.int64)
        K = F * 2
        cnt = np.bincount(idx, minlength=G * K).reshape(G, K)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_p = np.bincount(idx, weights=p, minlength=G * K).reshape(G, K) / np.maximum(cnt, 1)
            mean_sq = np.bincount(idx, weights=sq, minlength=G * K).reshape(G, K) / np.maximum(cnt, 1)
        draws = stratified_draws(cnt, n_boot, make_rng(seed)).astype(float)  # (B, G, K)
        sizes = g.sizes.astype(float)
        d = draws.reshape(n_boot, G, n_bins, _FINE, 2)
        sum_y = d[..., 1].sum(axis=-1)
        sum_p = (draws * mean_p).reshape(n_boot, G, n_bins, _FINE * 2).sum(axis=-1)
        ece_reps = np.abs(sum_y - sum_p).sum(axis=-1) / sizes
        brier_reps = (draws * mean_sq).sum(axis=-1) / sizes

    def welch(i: int, j: int) -> tuple[float, str]:
        a, b = sq[g.codes == i], sq[g.codes == j]
        if a.size < 2 or b.size < 2:
            return math.nan, "none"
        res = stats.ttest_ind(a, b, equal_var=False)
        return float(res.pvalue), "welch_t"

    common = {
        "g": g,
        "lower_is_better": True,
        "min_group_size": min_group_size,
        "confidence": confidence,
        "ci_method": ci_method,
        "n_boot": n_boot,
    }
    return {
        "ece_difference": _group_result(
            name="ece_difference",
            column="ece",
            values=ece,
            replicates=ece_reps,
            extra={"brier": brier},
            **common,  # type: ignore[arg-type]
        ),
        "brier_difference": _group_result(
            name="brier_difference",
            column="brier",
            values=brier,
            replicates=brier_reps,
            extra={"ece": ece},
            pair_test=welch,
            **common,  # type: ignore[arg-type]
        ),
    }


# ---------------------------------------------------------------------------
# Performance by group
# ---------------------------------------------------------------------------


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """ROC AUC from positive/negative counts at ascending distinct scores (last axis)."""
    pos = np.asarray(pos, dtype=float)
    neg = np.asarray(neg, dtype=float)
    below = np.cumsum(neg, axis=-1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=-1)
    den = pos.sum(axis=-1) * neg.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _auc_bootstrap(y: np.ndarray, s: np.ndarray, g: GroupLabels, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    out = np.full((n_boot, g.n_groups), np.nan)
    for k in range(g.n_groups):
        rows = g.codes == k
        uniq, inv = np.unique(s[rows], return_inverse=True)
        U = uniq.size
        cells = np.bincount(inv.ravel() * 2 + y[rows].astype(np.int64), minlength=2 * U)
        n_k = int(cells.sum())
        probs = cells / n_k
        chunk = max(1, min(n_boot, 4_000_000 // (2 * U)))
        start = 0
        while start < n_boot:
            b = min(chunk, n_boot - start)
            draw = rng.multinomial(n_k, probs, size=b).reshape(b, U, 2)
            out[start : start + b, k] = _auc_from_counts(draw[..., 1], draw[..., 0])
            start += b
    return out


def performance_by_group(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    y_score: ArrayLike | None = None,
    pos_label: object = 1,
    min_group_size: int = 30,
    undefined: Undefined = "nan",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
    test: Literal["auto", "z", "fisher"] = "auto",
) -> dict[str, FairnessResult]:
    """Accuracy, recall and (with scores) ROC AUC gaps across groups.

    Parameters
    ----------
    y_true, y_pred : array-like
        True and predicted labels.
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    y_score : array-like, optional
        Scores for the positive class; enables ``"auc_difference"`` (per-group
        AUC from :func:`sklearn.metrics.roc_auc_score`, NaN for a group with a
        single class).
    min_group_size, undefined, n_boot, confidence, seed, ci_method, test
        As in :func:`disparities_from_counts`; the bootstrap is stratified.

    Returns
    -------
    dict
        ``"accuracy_difference"``, ``"recall_difference"`` and optionally
        ``"auc_difference"`` (max - min over eligible groups).
    """
    g = as_groups(groups)
    out = classification_fairness(
        y_true,
        y_pred,
        groups=g,
        metrics=["accuracy_difference", "recall_difference"],
        pos_label=pos_label,
        min_group_size=min_group_size,
        undefined=undefined,
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
        scheme="stratified",
        ci_method=ci_method,
        test=test,
    )
    if y_score is None:
        return out
    y = _binary(y_true, name="y_true", pos_label=pos_label, n=g.n_rows)
    s = np.asarray(y_score, dtype=float).reshape(-1)
    if s.shape[0] != g.n_rows:
        raise ValueError(LENGTH_MISMATCH.format(name="y_score", got=s.shape[0], expected=g.n_rows))
    if not np.isfinite(s).all():
        raise ValueError(BAD_SCORES)
    auc = np.full(g.n_groups, np.nan)
    for k in range(g.n_groups):
        rows = g.codes == k
        if np.unique(y[rows]).size == 2:
            auc[k] = roc_auc_score(y[rows], s[rows])
    reps = None
    if n_boot > 0:
        rng = make_rng(seed)
        rng = np.random.default_rng(rng.integers(0, 2**63 - 1))
        reps = _auc_bootstrap(y, s, g, n_boot, rng)
    out["auc_difference"] = _group_result(
        name="auc_difference",
        column="auc",
        g=g,
        values=auc,
        replicates=reps,
        lower_is_better=False,
        min_group_size=min_group_size,
        confidence=confidence,
        ci_method=ci_method,
        n_boot=n_boot,
        extra={"n_positive": np.bincount(g.codes, weights=y, minlength=g.n_groups).astype(np.int64)},
    )
    return out


RATE_METRICS: tuple[str, ...] = tuple(_RATES)

__all__ = [
    "CELLS",
    "DEFAULT_METRICS",
    "NAMED_DISPARITIES",
    "RATE_METRICS",
    "UNKNOWN",
    "GroupConfusion",
    "calibration_by_group",
    "calibration_gap",
    "classification_fairness",
    "confusion_by_group",
    "demographic_parity_difference",
    "disparities_from_counts",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "performance_by_group",
    "rate_disparity",
    "rates_by_group",
    "rates_from_counts",
    "resolve_metric",
    "selection_rate_impact_ratio",
]
