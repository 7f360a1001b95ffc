"""Stratified sampling of adverse decisions and the bound it states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audit.explain.sampling import hoeffding_sample_size, stratified_sample


def test_sample_size_formula() -> None:
    assert hoeffding_sample_size(0.02, 0.95) == math.ceil(math.log(2 / 0.05) / (2 * 0.02**2)) == 4612
    assert hoeffding_sample_size(0.05, 0.95) == 738
    with pytest.raises(ValueError, match="margin"):
        hoeffding_sample_size(0, 0.95)
    with pytest.raises(ValueError, match="confidence"):
        hoeffding_sample_size(0.1, 1.0)


def test_small_population_is_explained_in_full() -> None:
    adverse = np.zeros(1000, dtype=bool)
    adverse[::3] = True
    s = stratified_sample(adverse, margin=0.05)
    assert s.exhaustive and s.size == adverse.sum()
    np.testing.assert_array_equal(s.mask(), adverse)
    share = s.share(np.ones(s.size))
    assert share.value == 1.0 and share.margin == 0.0 and share.exact


def test_allocation_is_proportional_with_every_stratum_present() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    strata = rng.choice(np.array(["a", "b", "c", None], dtype=object), size=n, p=[0.6, 0.3, 0.0999, 0.0001])
    adverse = rng.random(n) < 0.4
    s = stratified_sample(adverse, strata=strata, margin=0.02, seed=1)
    assert s.size == hoeffding_sample_size(0.02, 0.95)
    assert set(s.strata) == {"a", "b", "c", "unknown"}
    assert all(k >= 1 for _, k in s.strata.values())
    pop = {k: v for k, (v, _) in s.strata.items()}
    assert sum(pop.values()) == adverse.sum() == s.population
    for k, (N, m) in s.strata.items():
        if N > 1000:
            assert m == pytest.approx(N / s.population * s.size, abs=1.5)
    assert adverse[s.positions].all()
    assert np.all(np.diff(s.positions) > 0)
    # realised bound close to the target (weights nearly equal)
    assert s.realised_margin() == pytest.approx(0.02, rel=0.05)
    # same seed, same sample
    again = stratified_sample(adverse, strata=strata, margin=0.02, seed=1)
    np.testing.assert_array_equal(s.positions, again.positions)


def test_weighted_share_is_unbiased_and_within_bound() -> None:
    """Across repeated samples the bound holds at least as often as it promises."""
    rng = np.random.default_rng(5)
    n = 60_000
    strata = rng.choice(np.array(["x", "y"], dtype=object), size=n, p=[0.9, 0.1])
    adverse = rng.random(n) < 0.5
    # a property much more common in the small stratum: stratification matters
    flag = np.where(strata == "y", rng.random(n) < 0.5, rng.random(n) < 0.05)
    truth = flag[adverse].mean()
    inside = 0
    estimates = []
    for seed in range(40):
        s = stratified_sample(adverse, strata=strata, margin=0.03, seed=seed)
        sh = s.share(flag[s.positions])
        estimates.append(sh.value)
        inside += sh.low <= truth <= sh.high
    assert inside == 40
    assert np.mean(estimates) == pytest.approx(truth, abs=0.005)


def test_share_by_row_positions() -> None:
    adverse = np.ones(20_000, dtype=bool)
    s = stratified_sample(adverse, margin=0.05, seed=2)
    rows = s.positions[::-1]
    sh = s.share(np.ones(len(rows)), rows=rows)
    assert sh.value == 1.0
    assert not sh.exact and sh.low < 1.0
    d = s.design()
    assert d["explained"] == s.size and d["adverse_decisions"] == 20_000 and not d["exhaustive"]
