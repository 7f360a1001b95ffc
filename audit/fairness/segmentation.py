"""Fairness of customer segmentations (clusters) across protected groups.

All figures depend only on the group-by-cluster count table, so bootstrap
replicates are multinomial draws over that table. The scheme is stratified by
group: each group's size is held fixed and its rows are resampled over
clusters with replacement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from audit.fairness._stats import (
    check_bootstrap_args,
    check_min_group_size,
    gap,
    interval,
    make_rng,
    nan_extremes,
    stratified_draws,
    two_proportion_test,
)
from audit.fairness.groups import GroupLabels, as_groups
from audit.fairness.results import FairnessResult, group_result, too_few_groups

LENGTH_MISMATCH = "clusters has {got} rows but groups has {expected}"
MISSING_TREATMENT = "no treatment value for cluster(s) {clusters!r}"
BAD_TREATMENT = "treatment values must be finite numbers, got {value!r} for cluster {cluster!r}"
BAD_METHOD = "method must be 'between_groups' or 'to_overall', got {value!r}"
BAD_OUTCOME = "outcome must be 'favourable' or 'adverse', got {value!r}"


@dataclass(frozen=True)
class ClusterTable:
    """Group-by-cluster counts.

    Attributes
    ----------
    groups : tuple of str
        Group names (rows of ``counts``).
    clusters : tuple of str
        Cluster names (columns of ``counts``); cluster labels are converted to
        ``str`` and a missing cluster label becomes ``"unknown"``.
    counts : ndarray of int64, shape (n_groups, n_clusters)
    """

    groups: tuple[str, ...]
    clusters: tuple[str, ...]
    counts: np.ndarray = field(repr=False)


def cluster_table(clusters: ArrayLike, *, groups: GroupLabels | ArrayLike | pd.DataFrame) -> ClusterTable:
    """Count rows per (group, cluster)."""
    g = as_groups(groups)
    c = as_groups(clusters)
    if c.n_rows != g.n_rows:
        raise ValueError(LENGTH_MISMATCH.format(got=c.n_rows, expected=g.n_rows))
    counts = np.bincount(g.codes * c.n_groups + c.codes, minlength=g.n_groups * c.n_groups)
    return ClusterTable(
        groups=g.names, clusters=c.names, counts=counts.reshape(g.n_groups, c.n_groups).astype(np.int64)
    )


def cluster_composition(clusters: ArrayLike, *, groups: GroupLabels | ArrayLike | pd.DataFrame) -> pd.DataFrame:
    """Long table of every (cluster, group) cell.

    Returns
    -------
    DataFrame
        ``cluster, group, n, share_in_cluster, share_overall, ratio`` where
        ``ratio = share_in_cluster / share_overall``.
    """
    t = cluster_table(clusters, groups=groups)
    n_c = t.counts.sum(axis=0)
    share_overall = t.counts.sum(axis=1) / t.counts.sum()
    rows = []
    for j, cl in enumerate(t.clusters):
        for i, gr in enumerate(t.groups):
            s = t.counts[i, j] / n_c[j]
            rows.append((cl, gr, int(t.counts[i, j]), s, share_overall[i], s / share_overall[i]))
    return pd.DataFrame(rows, columns=["cluster", "group", "n", "share_in_cluster", "share_overall", "ratio"])


def _balance_matrix(counts: np.ndarray, group_share: np.ndarray) -> np.ndarray:
    """``min(r, 1/r)`` per (…, group, cluster); NaN where the cluster is empty."""
    counts = counts.astype(float)
    n_c = counts.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (counts / n_c) / group_share[:, None]
        bal = np.minimum(r, 1.0 / r)
    return np.where(n_c > 0, bal, np.nan)


def _chi2(counts: np.ndarray) -> float:
    table = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def _common(n_boot: int, confidence: float, ci_method: str, min_group_size: int) -> None:
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    check_min_group_size(min_group_size)


def cluster_balance(
    clusters: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    min_group_size: int = 30,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> FairnessResult:
    """Balance of a segmentation: ``min over clusters and groups of min(r, 1/r)``.

    ``r`` is a group's share inside a cluster divided by its share overall;
    1 means every cluster mirrors the population, 0 means some group is absent
    from some cluster.

    Parameters
    ----------
    clusters : array-like
        Cluster label of each row.
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    min_group_size : int
        Smaller groups are reported but left out of ``value``.
    n_boot, confidence, seed, ci_method
        Bootstrap options (stratified by group).

    Returns
    -------
    FairnessResult
        ``by_group`` has ``group, n, share, balance, worst_cluster, eligible``;
        ``worst_group`` has the lowest balance. ``p_value`` is Pearson's
        chi-squared test of independence of group and cluster.
    """
    _common(n_boot, confidence, ci_method, min_group_size)
    t = cluster_table(clusters, groups=groups)
    sizes = t.counts.sum(axis=1)
    share = sizes / sizes.sum()
    eligible = sizes >= min_group_size
    bal = _balance_matrix(t.counts, share)
    per_group, _ = nan_extremes(bal)
    worst_cluster = [t.clusters[int(np.nanargmin(row))] if not np.isnan(row).all() else None for row in bal]
    value = float(nan_extremes(np.where(eligible, per_group, np.nan))[0])
    value_all = float(nan_extremes(per_group)[0])
    ci_low = ci_high = math.nan
    if n_boot > 0 and eligible.any():
        draws = stratified_draws(t.counts, n_boot, make_rng(seed))
        reps_bal = _balance_matrix(draws, share)  # (B, G, C)
        reps_group = nan_extremes(reps_bal)[0]
        reps = nan_extremes(np.where(eligible, reps_group, np.nan))[0]
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=(0.0, 1.0))
    by_group = pd.DataFrame(
        {
            "group": list(t.groups),
            "n": sizes,
            "share": share,
            "balance": per_group,
            "worst_cluster": worst_cluster,
            "eligible": eligible,
        }
    )
    worst, best = _extreme_groups(per_group, eligible, t.groups, lower_is_worse=True)
    p_value = _chi2(t.counts[eligible])
    return group_result(
        metric="cluster_balance",
        names=t.groups,
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
        test="chi2" if math.isfinite(p_value) else "none",
        notes=_notes(eligible, len(t.clusters)),
        p_value_adjusted=p_value,
    )


def _notes(eligible: np.ndarray, n_clusters: int) -> tuple[str, ...]:
    notes = too_few_groups(eligible)
    if n_clusters < 2:
        notes.append("a single cluster: the segmentation cannot separate groups")
    return tuple(notes)


def _extreme_groups(
    values: np.ndarray, eligible: np.ndarray, names: tuple[str, ...], *, lower_is_worse: bool
) -> tuple[str | None, str | None]:
    ok = eligible & ~np.isnan(values)
    if not ok.any():
        return None, None
    lo = int(np.argmin(np.where(ok, values, np.inf)))
    hi = int(np.argmax(np.where(ok, values, -np.inf)))
    return (names[lo], names[hi]) if lower_is_worse else (names[hi], names[lo])


def _tv(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise TV matrix (…, G, G) and TV to the overall mix (…, G)."""
    counts = counts.astype(float)
    sizes = counts.sum(axis=-1, keepdims=True)
    col = counts.sum(axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / sizes
        overall = (col / col.sum(axis=-1, keepdims=True))[..., None, :]
    pair = 0.5 * np.abs(p[..., :, None, :] - p[..., None, :, :]).sum(axis=-1)
    to_all = 0.5 * np.abs(p - overall).sum(axis=-1)
    return pair, to_all


def total_variation_distance(
    clusters: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    method: Literal["between_groups", "to_overall"] = "between_groups",
    min_group_size: int = 30,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
) -> FairnessResult:
    """Total-variation distance between groups' distributions over clusters.

    ``TV(P, Q) = 0.5 * sum_c |P(c) - Q(c)|``.

    Parameters
    ----------
    clusters : array-like
        Cluster label of each row.
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    method : {"between_groups", "to_overall"}
        ``between_groups``: largest TV over pairs of eligible groups (the pair
        is reported as worst/best group, the one farther from the overall mix
        first); ``to_overall``: largest TV of an eligible group to the overall
        cluster mix (of all rows).
    min_group_size, n_boot, confidence, seed, ci_method
        As in :func:`cluster_balance`.

    Returns
    -------
    FairnessResult
        ``by_group`` has ``group, n, tv_to_overall, eligible``; ``p_value`` is
        the chi-squared test of independence.
    """
    _common(n_boot, confidence, ci_method, min_group_size)
    if method not in ("between_groups", "to_overall"):
        raise ValueError(BAD_METHOD.format(value=method))
    t = cluster_table(clusters, groups=groups)
    sizes = t.counts.sum(axis=1)
    eligible = sizes >= min_group_size
    pair, to_all = _tv(t.counts)
    both = eligible[:, None] & eligible[None, :]

    def stat(pair_m: np.ndarray, to_all_m: np.ndarray, mask_pair: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if method == "between_groups":
            flat = np.where(mask_pair, pair_m, np.nan).reshape(pair_m.shape[:-2] + (-1,))
        else:
            flat = np.where(mask, to_all_m, np.nan)
        return nan_extremes(flat)[1]

    value = float(stat(pair, to_all, both, eligible))
    all_mask = np.ones_like(eligible)
    value_all = float(stat(pair, to_all, all_mask[:, None] & all_mask[None, :], all_mask))
    worst = best = None
    if eligible.any():
        if method == "between_groups":
            masked = np.where(both, pair, -np.inf)
            i, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
            if to_all[j] > to_all[i]:
                i, j = j, i
            worst, best = t.groups[i], t.groups[j]
        else:
            worst, best = _extreme_groups(to_all, eligible, t.groups, lower_is_worse=False)
    ci_low = ci_high = math.nan
    if n_boot > 0 and eligible.any():
        draws = stratified_draws(t.counts, n_boot, make_rng(seed))
        rp, rt = _tv(draws)
        reps = stat(rp, rt, both, eligible)
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=(0.0, 1.0))
    p_value = _chi2(t.counts[eligible])
    by_group = pd.DataFrame({"group": list(t.groups), "n": sizes, "tv_to_overall": to_all, "eligible": eligible})
    return group_result(
        metric=f"total_variation_{method}",
        names=t.groups,
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
        test="chi2" if math.isfinite(p_value) else "none",
        notes=_notes(eligible, len(t.clusters)),
        p_value_adjusted=p_value,
    )


def segment_treatment_impact_ratio(
    clusters: ArrayLike,
    *,
    groups: GroupLabels | ArrayLike | pd.DataFrame,
    treatment: Mapping[object, float],
    outcome: Literal["favourable", "adverse"] = "favourable",
    min_group_size: int = 30,
    n_boot: int = 1000,
    n_permutations: int = 999,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "basic",
    test: Literal["auto", "z", "fisher"] = "auto",
) -> FairnessResult:
    """Impact ratio of a treatment attached to segments.

    Every row of cluster ``c`` receives ``treatment[c]`` (1/0 for a campaign
    sent or not, or a rate/intensity in [0, 1]). A group's treatment rate is
    ``sum_c P(c | group) * treatment[c]``; the value is the lowest over the
    highest rate among eligible groups.

    Parameters
    ----------
    clusters : array-like
        Cluster label of each row.
    groups : GroupLabels, array-like of labels or DataFrame of attributes
        Group of each row.
    treatment : mapping of cluster label to float
        Treatment per cluster; keys are matched as ``str``.
    outcome : {"favourable", "adverse"}
        Whether the treatment benefits the customer (sets worst/best group).
    min_group_size, n_boot, confidence, seed, ci_method
        As in :func:`cluster_balance`.
    n_permutations : int
        For a non-binary treatment, permutations (group labels shuffled,
        margins fixed) behind the one-sided ``p_value`` for a ratio this low.
    test : {"auto", "z", "fisher"}
        For a binary treatment: test of the worst against the best group's
        treated share.

    Returns
    -------
    FairnessResult
        ``by_group`` has ``group, n, treatment_rate, eligible``.
    """
    _common(n_boot, confidence, ci_method, min_group_size)
    if outcome not in ("favourable", "adverse"):
        raise ValueError(BAD_OUTCOME.format(value=outcome))
    t = cluster_table(clusters, groups=groups)
    lookup = {str(k): v for k, v in treatment.items()}
    missing = [c for c in t.clusters if c not in lookup]
    if missing:
        raise KeyError(MISSING_TREATMENT.format(clusters=missing))
    tr = np.empty(len(t.clusters))
    for j, c in enumerate(t.clusters):
        v = lookup[c]
        try:
            tr[j] = float(v)
        except (TypeError, ValueError) as exc:
            raise ValueError(BAD_TREATMENT.format(value=v, cluster=c)) from exc
        if not math.isfinite(tr[j]):
            raise ValueError(BAD_TREATMENT.format(value=v, cluster=c))
    sizes = t.counts.sum(axis=1)
    eligible = sizes >= min_group_size
    rate = (t.counts @ tr) / sizes
    value = float(gap(np.where(eligible, rate, np.nan), "ratio"))
    value_all = float(gap(rate, "ratio"))
    worst, best = _extreme_groups(rate, eligible, t.groups, lower_is_worse=outcome == "favourable")
    rng = make_rng(seed)
    ci_low = ci_high = math.nan
    upper = 1.0
    if n_boot > 0 and eligible.any() and math.isfinite(value):
        draws = stratified_draws(t.counts, n_boot, rng)
        reps = gap(np.where(eligible, (draws @ tr) / sizes, np.nan), "ratio")
        ci_low, ci_high = interval(value, reps, confidence=confidence, method=ci_method, bounds=(0.0, upper))
    p_value, test_name = math.nan, "none"
    binary = bool(np.isin(tr, (0.0, 1.0)).all())
    if worst is not None and best is not None and worst != best:
        iw, ib = t.groups.index(worst), t.groups.index(best)
        if binary:
            treated = t.counts @ tr
            p_value, test_name = two_proportion_test(treated[iw], sizes[iw], treated[ib], sizes[ib], test=test)
        elif n_permutations > 0 and math.isfinite(value):
            p_value = _permutation_p(t.counts, tr, eligible, value, n_permutations, rng)
            test_name = "permutation"
    by_group = pd.DataFrame({"group": list(t.groups), "n": sizes, "treatment_rate": rate, "eligible": eligible})
    return group_result(
        metric="segment_treatment_impact_ratio",
        names=t.groups,
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
        notes=_notes(eligible, len(t.clusters)),
        p_value_adjusted=None if binary else p_value,
    )


def _permutation_p(
    counts: np.ndarray,
    tr: np.ndarray,
    eligible: np.ndarray,
    observed: float,
    n_permutations: int,
    rng: np.random.Generator,
) -> float:
    """One-sided permutation p-value of a ratio at most ``observed``.

    Shuffling group labels over rows with fixed margins draws each group's
    cluster counts from a multivariate hypergeometric distribution.
    """
    sizes = counts.sum(axis=1)
    col = counts.sum(axis=0)
    hits = 0
    for _ in range(n_permutations):
        remaining = col.copy()
        table = np.zeros_like(counts)
        for i, n_i in enumerate(sizes):
            table[i] = rng.multivariate_hypergeometric(remaining, int(n_i))
            remaining -= table[i]
        stat = float(gap(np.where(eligible, (table @ tr) / sizes, np.nan), "ratio"))
        if stat <= observed + 1e-12:
            hits += 1
    return (hits + 1) / (n_permutations + 1)


__all__ = [
    "ClusterTable",
    "cluster_balance",
    "cluster_composition",
    "cluster_table",
    "segment_treatment_impact_ratio",
    "total_variation_distance",
]
