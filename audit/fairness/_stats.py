"""Shared statistics: bootstrap draws over counts, intervals and two-proportion tests."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

import numpy as np
from scipy import stats

CIMethod = Literal["basic", "percentile"]
Scheme = Literal["stratified", "pooled"]
TestKind = Literal["auto", "z", "fisher"]

BAD_CONFIDENCE = "confidence must be strictly between 0 and 1, got {value!r}"
BAD_N_BOOT = "n_boot must be a non-negative integer, got {value!r}"
BAD_CI_METHOD = "ci_method must be 'basic' or 'percentile', got {value!r}"
BAD_SCHEME = "scheme must be 'stratified' or 'pooled', got {value!r}"
BAD_TEST = "test must be 'auto', 'z' or 'fisher', got {value!r}"
BAD_MIN_GROUP_SIZE = "min_group_size must be a non-negative integer, got {value!r}"

#: Below this expected cell count the exact test replaces the z-test (``test="auto"``).
FISHER_EXPECTED_MIN = 5.0

#: Upper bound on the number of integers held at once by chunked bootstraps.
_CHUNK_CELLS = 4_000_000


def check_bootstrap_args(*, n_boot: int, confidence: float, ci_method: str) -> None:
    """Validate the common bootstrap options, raising ``ValueError``."""
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0:
        raise ValueError(BAD_N_BOOT.format(value=n_boot))
    if not (0.0 < float(confidence) < 1.0):
        raise ValueError(BAD_CONFIDENCE.format(value=confidence))
    if ci_method not in ("basic", "percentile"):
        raise ValueError(BAD_CI_METHOD.format(value=ci_method))


def check_min_group_size(value: int) -> None:
    """Validate ``min_group_size``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(BAD_MIN_GROUP_SIZE.format(value=value))


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a generator from a seed or an existing generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def nan_extremes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max over the last axis, ignoring NaN, NaN for all-NaN rows, no warnings."""
    x = np.asarray(x, dtype=float)
    finite = ~np.isnan(x)
    lo = np.where(finite, x, np.inf).min(axis=-1)
    hi = np.where(finite, x, -np.inf).max(axis=-1)
    empty = ~finite.any(axis=-1)
    lo = np.where(empty, np.nan, lo)
    hi = np.where(empty, np.nan, hi)
    return lo, hi


def gap(x: np.ndarray, kind: Literal["difference", "ratio"]) -> np.ndarray:
    """``max - min`` or ``min / max`` over the last axis (NaN entries skipped).

    A ratio with a zero maximum is NaN (0/0), as in Fairlearn's ``MetricFrame.ratio``.
    """
    lo, hi = nan_extremes(x)
    if kind == "difference":
        return hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(hi == 0, np.nan, lo / np.where(hi == 0, 1.0, hi))


def stratified_draws(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of per-group cell counts with group sizes held fixed.

    Resampling the rows of each group with replacement is a multinomial draw of
    the group's size over its observed cell proportions.

    Parameters
    ----------
    counts : ndarray of shape (G, K)
        Observed counts of the K cells in each of the G groups.
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    ndarray of shape (n_boot, G, K)
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = counts.sum(axis=1)
    out = np.zeros((n_boot,) + counts.shape, dtype=np.int64)
    live = sizes > 0
    if n_boot == 0 or not live.any():
        return out
    pvals = counts[live] / sizes[live, None]
    out[:, live, :] = rng.multinomial(sizes[live], pvals, size=(n_boot, int(live.sum())))
    return out


def pooled_draws(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates resampling all rows together (group sizes vary).

    Returns an array of shape ``(n_boot,) + counts.shape``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if n_boot == 0 or total == 0:
        return np.zeros((n_boot,) + counts.shape, dtype=np.int64)
    flat = counts.ravel() / total
    draws = rng.multinomial(total, flat, size=n_boot)
    return draws.reshape((n_boot,) + counts.shape)


def draws_for(counts: np.ndarray, n_boot: int, rng: np.random.Generator, scheme: str) -> np.ndarray:
    """Dispatch to :func:`stratified_draws` or :func:`pooled_draws`."""
    if scheme == "stratified":
        return stratified_draws(counts, n_boot, rng)
    if scheme == "pooled":
        return pooled_draws(counts, n_boot, rng)
    raise ValueError(BAD_SCHEME.format(value=scheme))


def interval(
    point: float,
    replicates: np.ndarray,
    *,
    confidence: float,
    method: str,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[float, float]:
    """Bootstrap confidence interval.

    ``basic`` is the reverse-percentile interval ``[2v - q_hi, 2v - q_lo]``,
    which removes the first-order upward bias of max-minus-min statistics;
    ``percentile`` is ``[q_lo, q_hi]``. NaN replicates are dropped, the
    interval is clipped to ``bounds`` and widened to contain ``point``.
    """
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0 or not math.isfinite(point):
        return math.nan, math.nan
    alpha = 1.0 - confidence
    q_lo, q_hi = np.quantile(reps, [alpha / 2.0, 1.0 - alpha / 2.0])
    if method == "basic":
        low, high = 2.0 * point - q_hi, 2.0 * point - q_lo
    else:
        low, high = q_lo, q_hi
    low = float(min(max(low, bounds[0]), bounds[1]))
    high = float(min(max(high, bounds[0]), bounds[1]))
    return min(low, point), max(high, point)


def two_proportion_test(x1: float, n1: float, x2: float, n2: float, *, test: str = "auto") -> tuple[float, str]:
    """Two-sided test of equal proportions ``x1/n1`` and ``x2/n2``.

    ``z`` is the pooled two-proportion z-test (equal to Pearson's chi-squared
    test without continuity correction); ``fisher`` is Fisher's exact test;
    ``auto`` uses Fisher when an expected cell count is below
    :data:`FISHER_EXPECTED_MIN`.

    Returns
    -------
    (p_value, test_name)
    """
    if test not in ("auto", "z", "fisher"):
        raise ValueError(BAD_TEST.format(value=test))
    if n1 <= 0 or n2 <= 0:
        return math.nan, "none"
    x1, n1, x2, n2 = round(x1), round(n1), round(x2), round(n2)
    total = n1 + n2
    successes = x1 + x2
    if test == "auto":
        expected = min(
            n1 * successes / total,
            n1 * (total - successes) / total,
            n2 * successes / total,
            n2 * (total - successes) / total,
        )
        test = "fisher" if expected < FISHER_EXPECTED_MIN else "z"
    if test == "fisher":
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        return float(stats.fisher_exact(table).pvalue), "fisher"
    pooled = successes / total
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0.0:
        return 1.0, "z"
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return float(2.0 * stats.norm.sf(abs(z))), "z"


def bonferroni(p_value: float, n_groups: int) -> float:
    """Bonferroni adjustment for the ``n_groups * (n_groups - 1) / 2`` group pairs."""
    if not math.isfinite(p_value):
        return math.nan
    pairs = max(1, n_groups * (n_groups - 1) // 2)
    return float(min(1.0, p_value * pairs))


def resample_weight_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield row-count matrices (chunk, n) of an ordinary bootstrap of ``n`` units.

    Each row holds how often every unit was drawn in one replicate; rows sum to ``n``.
    """
    if n == 0:
        for _ in range(n_boot):
            yield np.zeros((1, 0), dtype=np.int64)
        return
    chunk = max(1, min(n_boot, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        idx += (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        done += b


def bootstrap_unit_sums(
    values: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_boot: int,
    rng: np.random.Generator,
    *,
    scheme: str = "stratified",
) -> np.ndarray:
    """Bootstrap replicates of per-group column sums of unit-level values.

    Parameters
    ----------
    values : ndarray of shape (n, m)
        One row per unit (user, text, ...).
    codes : ndarray of shape (n,)
        Group code of each unit, in ``range(n_groups)``.
    n_groups : int
        Number of groups.
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator
        Random source.
    scheme : {"stratified", "pooled"}
        ``stratified`` resamples units within each group (sizes fixed);
        ``pooled`` resamples all units together.

    Returns
    -------
    ndarray of shape (n_boot, n_groups, m)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    codes = np.asarray(codes, dtype=np.int64)
    out = np.zeros((n_boot, n_groups, values.shape[1]))
    if n_boot == 0:
        return out
    if scheme == "stratified":
        for g in range(n_groups):
            rows = np.flatnonzero(codes == g)
            if rows.size == 0:
                continue
            sub = values[rows]
            start = 0
            for w in resample_weight_chunks(rows.size, n_boot, rng):
                out[start : start + w.shape[0], g, :] = w @ sub
                start += w.shape[0]
        return out
    if scheme != "pooled":
        raise ValueError(BAD_SCHEME.format(value=scheme))
    onehot_values = np.zeros((values.shape[0], n_groups, values.shape[1]))
    onehot_values[np.arange(values.shape[0]), codes, :] = values
    flat = onehot_values.reshape(values.shape[0], -1)
    start = 0
    for w in resample_weight_chunks(values.shape[0], n_boot, rng):
        out[start : start + w.shape[0]] = (w @ flat).reshape(w.shape[0], n_groups, -1)
        start += w.shape[0]
    return out
