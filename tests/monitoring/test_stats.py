"""Drift figures against hand computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from audit.monitoring.stats import binning, drift, psi, quantile_edges, robust_z, shares


def test_psi_categorical_by_hand():
    ref = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    win = pd.Series(["a"] * 20 + ["b"] * 30 + ["c"] * 50)
    hand = (0.2 - 0.5) * math.log(0.2 / 0.5) + 0 + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert psi(ref, win) == pytest.approx(hand, abs=1e-12)
    assert hand == pytest.approx(0.5497744, abs=1e-6)


def test_psi_empty_bin_uses_the_floor():
    ref = pd.Series(["a"] * 90 + ["b"] * 10)
    win = pd.Series(["a"] * 100)
    hand = (1.0 - 0.9) * math.log(1.0 / 0.9) + (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert psi(ref, win) == pytest.approx(hand, abs=1e-12)


def test_psi_numeric_uses_reference_deciles_by_hand():
    ref = pd.Series(np.arange(1, 101, dtype=float))  # deciles 10.9, 20.8, ... : ten bins of 10 values
    edges = quantile_edges(ref.to_numpy())
    assert len(edges) == 9
    win = pd.Series(np.r_[np.arange(1, 51, dtype=float), np.full(50, 95.0)])  # 10% in each of the first five bins, 50% in the last
    a = np.array([0.1] * 5 + [1e-4] * 4 + [0.5])
    e = np.full(10, 0.1)
    hand = float(np.sum((a - e) * np.log(a / e)))
    assert psi(ref, win) == pytest.approx(hand, abs=1e-12)


def test_missing_values_are_a_bin_of_their_own():
    ref = pd.Series([1.0, 2.0, 3.0, 4.0] * 25)
    win = pd.Series([1.0, 2.0, 3.0, np.nan] * 25)
    b = binning(ref, pd.concat([ref, win]))
    s = shares(b.codes(win), b.n_cells)
    assert s[-1] == pytest.approx(0.25) and b.labels()[-1] == "(missing)"


def test_ks_and_js_equal_scipy():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(0, 1, 500))
    win = pd.Series(rng.normal(0.3, 1, 400))
    b = binning(ref, pd.concat([ref, win]))
    fig = drift(ref, win, b, shares(b.codes(ref), b.n_cells))
    res = ks_2samp(ref.to_numpy(), win.to_numpy())
    assert fig.ks == pytest.approx(res.statistic) and fig.ks_p == pytest.approx(res.pvalue)
    cref = pd.Series(list("aab") * 50)
    cwin = pd.Series(list("abb") * 50)
    b2 = binning(cref, pd.concat([cref, cwin]))
    fig2 = drift(cref, cwin, b2, shares(b2.codes(cref), b2.n_cells))
    assert fig2.js == pytest.approx(float(jensenshannon([2 / 3, 1 / 3], [1 / 3, 2 / 3], base=2)))
    assert fig2.ks is None


def test_robust_z_by_hand():
    ref = np.array([10.0, 12, 11, 9, 10, 30])
    z, med, mad = robust_z(np.array([10.5, 40.0]), ref)
    assert med == 10.5 and mad == pytest.approx(1.0 * 1.4826)
    assert z[1] == pytest.approx((40 - 10.5) / 1.4826)
