"""Drift statistics: PSI over reference-quantile bins, Kolmogorov-Smirnov, Jensen-Shannon distance.

PSI = sum over bins of (a - e) * ln(a / e), with e the reference share and a the window share of a
bin. Numeric variables use the reference's deciles as bin edges (duplicate edges merged, so a
variable with few distinct values gets fewer bins); categorical variables use their categories.
Missing values form a bin of their own. Shares below ``EPSILON`` are raised to it so an empty
bin does not make PSI infinite (the usual credit-risk convention). KS is scipy's two-sample test
on the non-missing values; the Jensen-Shannon distance (base 2, in [0, 1]) is scipy's, on the
category shares without the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

EPSILON = 1e-4
N_BINS = 10
MISSING = "(missing)"


def is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def quantile_edges(reference: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Inner bin edges: the reference's 1/n .. (n-1)/n quantiles, duplicates merged."""
    ref = reference[~np.isnan(reference)]
    if ref.size == 0:
        return np.array([], dtype=float)
    qs = np.quantile(ref, np.arange(1, n_bins) / n_bins)
    return np.unique(qs)


def numeric_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index per value: bin i holds edges[i-1] < x <= edges[i]; NaN gets len(edges) + 1."""
    idx = np.searchsorted(edges, values, side="left")
    return np.where(np.isnan(values), len(edges) + 1, idx)


def shares(codes: np.ndarray, n_cells: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_cells).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def psi_from_shares(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    e = np.maximum(expected, epsilon)
    a = np.maximum(actual, epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class Binning:
    """How one variable is cut into cells, fixed on the reference."""

    numeric: bool
    edges: np.ndarray  # numeric: inner edges
    categories: tuple[str, ...]  # categorical: the cells (reference and later categories alike)

    @property
    def n_cells(self) -> int:
        return len(self.edges) + 2 if self.numeric else len(self.categories)

    def codes(self, s: pd.Series) -> np.ndarray:
        if self.numeric:
            return numeric_bins(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float), self.edges)
        text = s.astype("string").fillna(MISSING).to_numpy(dtype=object)
        index = {c: i for i, c in enumerate(self.categories)}
        return np.fromiter((index[v] for v in text), dtype=np.int64, count=len(text))

    def labels(self) -> list[str]:
        if not self.numeric:
            return list(self.categories)
        e = [f"{x:.4g}" for x in self.edges]
        if not e:
            return ["all", MISSING]
        return [f"<= {e[0]}"] + [f"({e[i - 1]}, {e[i]}]" for i in range(1, len(e))] + [f"> {e[-1]}", MISSING]


def binning(reference: pd.Series, everything: pd.Series, n_bins: int = N_BINS) -> Binning:
    if is_numeric(reference):
        return Binning(True, quantile_edges(pd.to_numeric(reference, errors="coerce").to_numpy(dtype=float), n_bins), ())
    cats = sorted(set(everything.astype("string").fillna(MISSING).unique().tolist()))
    return Binning(False, np.array([]), tuple(cats))


def psi(reference: pd.Series, window: pd.Series, *, n_bins: int = N_BINS, epsilon: float = EPSILON) -> float:
    """PSI of ``window`` against ``reference`` (bins from the reference)."""
    b = binning(reference, pd.concat([reference, window], ignore_index=True), n_bins)
    return psi_from_shares(shares(b.codes(reference), b.n_cells), shares(b.codes(window), b.n_cells), epsilon)


@dataclass(frozen=True)
class DriftFigures:
    psi: float
    ks: float | None
    ks_p: float | None
    js: float | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else round(float(x), 6)

        return {"psi": r(self.psi), "ks": r(self.ks), "ks_p": None if self.ks_p is None else float(f"{self.ks_p:.4g}"), "js": r(self.js), "n": self.n}


def drift(reference: pd.Series, window: pd.Series, b: Binning, ref_shares: np.ndarray, *, epsilon: float = EPSILON) -> DriftFigures:
    """PSI always; KS for numeric variables, Jensen-Shannon distance for categorical ones."""
    w_shares = shares(b.codes(window), b.n_cells)
    value = psi_from_shares(ref_shares, w_shares, epsilon)
    if b.numeric:
        x = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype=float)
        y = pd.to_numeric(window, errors="coerce").dropna().to_numpy(dtype=float)
        if x.size and y.size:
            res = ks_2samp(x, y)
            return DriftFigures(value, float(res.statistic), float(res.pvalue), None, int(len(window)))
        return DriftFigures(value, None, None, None, int(len(window)))
    js = float(jensenshannon(ref_shares, w_shares, base=2)) if ref_shares.sum() and w_shares.sum() else None
    return DriftFigures(value, None, None, js, int(len(window)))


def robust_z(values: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(z per value, reference median, scaled MAD): z = (x - median) / (1.4826 * MAD)."""
    med = float(np.median(reference))
    mad = float(np.median(np.abs(reference - med))) * 1.4826
    if mad == 0:
        return np.full(values.shape, np.nan), med, mad
    return (values - med) / mad, med, mad
