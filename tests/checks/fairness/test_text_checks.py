from __future__ import annotations

import re

import numpy as np
import pytest

from audit.checks.fairness.text import CounterfactualFlipRate, CounterfactualScoreGap
from audit.core.types import Provenance, Status

from .helpers import context, run, text_model

TEXTS = ["He liked the delivery."] * 20 + ["She liked the delivery."] * 20 + ["Great service."] * 10
LABEL = "model:sentiment_test/swap:gender"


def biased(texts):
    """P(positive) is 0.2 whenever the text mentions a woman, else 0.8."""
    p = np.array([0.2 if re.search(r"\b(she|her|woman)\b|她", t, re.IGNORECASE) else 0.8 for t in texts])
    return np.column_stack([1 - p, p])


def fair(texts):
    return np.tile([0.3, 0.7], (len(texts), 1))


def test_flip_rate_and_score_gap_of_a_biased_model():
    ctx = context([text_model(biased, TEXTS)])
    flip = run(CounterfactualFlipRate, ctx)
    assert set(flip) == {LABEL}
    o = flip[LABEL]
    assert o.status is Status.FAIL and o.observed == pytest.approx(1.0)
    assert o.evidence["texts_with_terms"] == 40 and o.evidence["flipped"] == 40
    assert o.evidence["statistically_clear"] is True and o.evidence["p_value"] < 1e-10
    assert "first_names" in o.evidence["categories_without_terms"]
    assert CounterfactualFlipRate.meta.provenance is Provenance.LIBRARY
    gap = run(CounterfactualScoreGap, ctx)[LABEL]
    assert gap.observed == pytest.approx(0.6) and gap.status is Status.FAIL


def test_fair_model_passes():
    ctx = context([text_model(fair, TEXTS)])
    assert run(CounterfactualFlipRate, ctx)[LABEL].status is Status.PASS
    gap = run(CounterfactualScoreGap, ctx)[LABEL]
    assert gap.status is Status.PASS and gap.observed == pytest.approx(0.0)


def test_few_texts_are_measured_not_judged_and_no_terms_skip():
    few = ["He liked it."] * 5 + ["Great service."] * 20
    o = run(CounterfactualFlipRate, context([text_model(biased, few)]))[LABEL]
    assert o.status is Status.SKIPPED and o.observed == pytest.approx(1.0)
    assert "not judged" in o.message
    none = run(CounterfactualFlipRate, context([text_model(biased, ["Great service."] * 5)]))
    assert list(none) == ["model:sentiment_test"] and none["model:sentiment_test"].status is Status.SKIPPED


def test_chinese_swaps():
    texts = ["他很满意。"] * 10 + ["她很满意。"] * 10
    art = text_model(biased, texts)
    art.language[:] = "zh"
    o = run(CounterfactualFlipRate, context([art]), min_texts=1)[LABEL]
    assert o.observed == pytest.approx(1.0) and o.evidence["languages"] == ["zh"]
