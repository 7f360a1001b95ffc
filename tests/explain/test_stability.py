"""Rank stability of global importance under bootstrap refits."""

from __future__ import annotations

import numpy as np

from audit.explain import stability


def test_stability_of_a_clear_signal_is_high(logistic_artifact):
    mean, rhos = stability(logistic_artifact, n_refits=3, top_k=4, seed=0)
    assert len(rhos) == 3
    assert all(-1.0 <= r <= 1.0 for r in rhos)
    assert mean > 0.5
    assert np.isclose(mean, np.mean(rhos))


def test_stability_reports_what_it_refitted_on(forest_artifact):
    result = stability(forest_artifact, n_refits=2, top_k=3, seed=1, explain_rows=40)
    mean, rhos = result
    assert len(rhos) == 2 and np.isfinite(mean)
    assert len(result.features) == 3
    assert any("y_true" in note for note in result.notes)  # no labelled training rows on the artifact
