"""Stratified samples of adverse decisions, sized for a stated confidence bound.

Explaining every adverse decision costs time in proportion to the data; a
share measured over those decisions (how many are driven by a protected
feature, how many lack a reason) does not need them all. The design:

* strata are the protected groups of the model's rows (all recorded protected
  attributes crossed; missing values form their own ``unknown`` stratum);
* the sample size ``n`` is the smallest giving a two-sided Hoeffding bound of
  ``margin`` at ``confidence`` for a simple random sample,
  ``n = ceil(ln(2 / (1 - confidence)) / (2 margin^2))`` (4,612 for 2 points at
  95%); when there are at most ``n`` adverse decisions every one is explained
  and the figure is exact;
* ``n`` is allocated to strata in proportion to their adverse decisions
  (largest remainders), with at least one decision per non-empty stratum, and
  drawn without replacement with a seeded generator;
* a share is estimated with weights ``N_h / n_h`` (stratum population over
  stratum sample); its bound is Hoeffding's for that weighted sum of
  independent bounded terms, ``eps = sqrt(ln(2 / alpha) * sum_i c_i^2 / 2)``
  with ``c_i = w_i / N``, computed from the realised allocation (sampling
  without replacement only tightens it, Serfling 1974).

Per-customer explanations never depend on the sample: ``crm-audit explain --id``
computes the named customer's explanation on demand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["AdverseSample", "Share", "hoeffding_sample_size", "stratified_sample"]

BAD_MARGIN = "margin must be in (0, 1), got {value!r}"
BAD_CONFIDENCE = "confidence must be in (0, 1), got {value!r}"
LENGTH = "strata have {got} labels for {expected} rows"


def hoeffding_sample_size(margin: float, confidence: float) -> int:
    """Smallest simple-random-sample size whose two-sided Hoeffding bound on a share is ``margin``."""
    if not 0 < margin < 1:
        raise ValueError(BAD_MARGIN.format(value=margin))
    if not 0 < confidence < 1:
        raise ValueError(BAD_CONFIDENCE.format(value=confidence))
    return int(math.ceil(math.log(2.0 / (1.0 - confidence)) / (2.0 * margin * margin)))


@dataclass(frozen=True)
class Share:
    """A share estimated on the sample with its two-sided bound."""

    value: float
    low: float
    high: float
    margin: float
    confidence: float
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "interval": [self.low, self.high],
            "margin": self.margin,
            "confidence": self.confidence,
            "exact": self.exact,
        }


@dataclass(frozen=True)
class AdverseSample:
    """The adverse decisions chosen for explanation and their design weights.

    Attributes
    ----------
    positions : ndarray of int64
        Evaluation-row positions of the sampled decisions, ascending.
    weights : ndarray of float
        ``N_h / n_h`` of each sampled decision's stratum.
    population : int
        Adverse decisions in the evaluation rows.
    strata : dict of str to (population, sampled)
    """

    positions: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    population: int
    n_rows: int
    strata: dict[str, tuple[int, int]]
    margin: float
    confidence: float
    seed: int

    @property
    def exhaustive(self) -> bool:
        """Every adverse decision is in the sample."""
        return len(self.positions) == self.population

    @property
    def size(self) -> int:
        return int(len(self.positions))

    def mask(self) -> np.ndarray:
        """Boolean mask over the evaluation rows: True for sampled adverse decisions."""
        m = np.zeros(self.n_rows, dtype=bool)
        m[self.positions] = True
        return m

    def realised_margin(self) -> float:
        """Hoeffding half-width of a weighted share for the realised allocation (0 when exhaustive)."""
        if self.exhaustive or self.population == 0:
            return 0.0
        c = self.weights / float(self.population)
        return float(math.sqrt(math.log(2.0 / (1.0 - self.confidence)) * float(np.sum(c * c)) / 2.0))

    def share(self, flags: ArrayLike, rows: ArrayLike | None = None) -> Share:
        """Weighted share of sampled decisions for which ``flags`` is true.

        ``flags`` is aligned with ``rows`` (evaluation-row positions; default:
        :attr:`positions`).
        """
        f = np.asarray(flags, dtype=float).reshape(-1)
        if rows is None:
            w = self.weights
        else:
            index = {int(p): i for i, p in enumerate(self.positions.tolist())}
            w = self.weights[[index[int(r)] for r in np.asarray(rows).reshape(-1)]]
        if len(f) != len(w):
            raise ValueError(LENGTH.format(got=len(f), expected=len(w)))
        total = float(w.sum())
        value = float((w * f).sum() / total) if total > 0 else float("nan")
        eps = self.realised_margin()
        return Share(
            value=value,
            low=max(0.0, value - eps),
            high=min(1.0, value + eps),
            margin=eps,
            confidence=self.confidence,
            exact=self.exhaustive,
        )

    def design(self) -> dict[str, Any]:
        """The sampling design, for the finding's evidence and the methodology section."""
        return {
            "adverse_decisions": self.population,
            "explained": self.size,
            "exhaustive": self.exhaustive,
            "strata": {k: {"decisions": a, "sampled": b} for k, (a, b) in self.strata.items()},
            "target_margin": self.margin,
            "realised_margin": round(self.realised_margin(), 6),
            "confidence": self.confidence,
            "bound": "two-sided Hoeffding bound on the weighted share (stratified, proportional allocation)",
            "seed": self.seed,
        }


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Proportional allocation by largest remainders, at least one per non-empty stratum, capped by size."""
    live = sizes > 0
    alloc = np.zeros_like(sizes)
    if n <= 0 or not live.any():
        return alloc
    alloc[live] = 1
    rest = n - int(alloc.sum())
    if rest > 0:
        quota = sizes / sizes.sum() * n
        base = np.maximum(np.floor(quota).astype(np.int64), alloc)
        alloc = np.minimum(base, sizes)
        rest = n - int(alloc.sum())
        order = np.argsort(-(quota - np.floor(quota)), kind="stable")
        while rest > 0:
            moved = False
            for i in order:
                if rest == 0:
                    break
                if alloc[i] < sizes[i]:
                    alloc[i] += 1
                    rest -= 1
                    moved = True
            if not moved:
                break
    return alloc


def stratified_sample(
    adverse: ArrayLike,
    *,
    strata: Sequence[Any] | np.ndarray | None = None,
    margin: float = 0.02,
    confidence: float = 0.95,
    seed: int = 0,
    max_size: int | None = None,
) -> AdverseSample:
    """Draw the adverse decisions to explain (see the module docstring for the design).

    Parameters
    ----------
    adverse : array-like of bool
        One entry per evaluation row: the decision was adverse.
    strata : array-like of labels, optional
        Stratum of every evaluation row (protected group); one stratum when absent.
    margin, confidence : float
        Target half-width and confidence of the bound on a share.
    max_size : int, optional
        Explain every decision when there are at most this many (default: the
        Hoeffding sample size).
    """
    mask = np.asarray(adverse, dtype=bool).reshape(-1)
    n_rows = len(mask)
    labels = np.zeros(n_rows, dtype=np.int64) if strata is None else np.asarray(strata, dtype=object).reshape(-1)
    if len(labels) != n_rows:
        raise ValueError(LENGTH.format(got=len(labels), expected=n_rows))
    target = hoeffding_sample_size(margin, confidence)
    limit = target if max_size is None else max(int(max_size), target)
    rows = np.flatnonzero(mask)
    population = len(rows)
    if strata is None:
        codes = np.zeros(population, dtype=np.int64)
        names = ["all"]
    else:
        as_text = np.array(["unknown" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in labels[rows]], dtype=object)
        uniq, codes = np.unique(as_text, return_inverse=True) if population else (np.array([], dtype=object), np.zeros(0, dtype=np.int64))
        names = [str(u) for u in uniq]
    sizes = np.bincount(codes, minlength=len(names)).astype(np.int64)
    rng = np.random.default_rng(seed)
    if population <= limit:
        chosen = rows
        weights = np.ones(population, dtype=float)
        alloc = sizes
    else:
        alloc = _allocate(sizes, target)
        picks = []
        wparts = []
        for h in range(len(names)):
            members = rows[codes == h]
            if alloc[h] == 0:
                continue
            take = np.sort(rng.choice(len(members), size=int(alloc[h]), replace=False))
            picks.append(members[take])
            wparts.append(np.full(int(alloc[h]), sizes[h] / alloc[h], dtype=float))
        chosen = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
        weights = np.concatenate(wparts) if wparts else np.zeros(0)
        order = np.argsort(chosen, kind="stable")
        chosen, weights = chosen[order], weights[order]
    return AdverseSample(
        positions=np.asarray(chosen, dtype=np.int64),
        weights=weights,
        population=population,
        n_rows=n_rows,
        strata={names[h]: (int(sizes[h]), int(alloc[h])) for h in range(len(names))},
        margin=float(margin),
        confidence=float(confidence),
        seed=int(seed),
    )
