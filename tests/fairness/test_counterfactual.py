"""Counterfactual identity swaps."""

from __future__ import annotations

import numpy as np
import pytest

from audit.fairness import (
    counterfactual_flip_rate,
    load_identity_terms,
    make_swapper,
    swap_identity_terms,
)


def test_english_swaps_keep_case_and_word_boundaries() -> None:
    out = swap_identity_terms("He told HIS wife; she thanked him. The hen and Mr. Brown", category="gender")
    assert out == "She told HER husband; he thanked her. The hen and Mrs. Brown"
    assert swap_identity_terms("Theresa", category="gender") == "Theresa"


def test_chinese_swaps_by_substring_with_kept_words() -> None:
    assert swap_identity_terms("他们说他是其他人的丈夫", category="gender") == "她们说她是其他人的妻子"
    assert swap_identity_terms("基督徒去教堂", category="religion") == "穆斯林去清真寺"


def test_mixed_language_text_and_counts() -> None:
    swapper = make_swapper("gender")
    text, n = swapper.swap("他说he很好")
    assert text == "她说she很好"
    assert n == 2
    assert swapper.swap("nothing here")[1] == 0


def test_terms_file_is_extensible(tmp_path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "en:\n  gender:\n    pairs:\n      - [king, queen]\n  job:\n    pairs:\n      - [nurse, engineer]\n",
        encoding="utf-8",
    )
    terms = load_identity_terms(extra=[extra])
    assert ("king", "queen") in terms["en"]["gender"].pairs
    assert swap_identity_terms("the king met a nurse", category="job", terms=terms) == "the king met a engineer"
    assert swap_identity_terms("the king", category="gender", terms=terms) == "the queen"
    bad = tmp_path / "bad.yaml"
    bad.write_text("en:\n  gender:\n    pairs:\n      - [only_one]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad pair"):
        load_identity_terms(bad)
    with pytest.raises(ValueError, match="unknown identity category"):
        make_swapper("nope")


def _toy_scores(texts: list[str]) -> np.ndarray:
    """Positive score 0.9 when the word 'she' occurs, else 0.1."""
    return np.array([0.9 if "she" in t.lower().replace(".", " ").split() else 0.1 for t in texts])


TEXTS = (
    ["he called about the bill."] * 6  # -> 'she': flips
    + ["she asked for a refund."] * 3  # -> 'he': flips
    + ["he and she signed up."] * 3  # -> 'she and he': both still contain 'she', no flip
    + ["the parcel arrived."] * 4  # nothing to swap
)


def test_flip_rate_of_pronoun_dependent_model() -> None:
    res = counterfactual_flip_rate(TEXTS, predict_proba=_toy_scores, categories=["gender"], n_boot=300)
    r = res["gender"]
    assert r.n_texts == 16
    assert r.n_swappable == 12
    assert r.n_flipped == 9
    assert r.flip_rate.value == pytest.approx(9 / 12)
    assert r.mean_abs_change.value == pytest.approx(9 / 12 * 0.8)
    assert r.flipped_indices == tuple(range(9))
    assert set(r.largest_change_indices) == set(range(9))
    assert r.flip_rate.ci_low <= r.flip_rate.value <= r.flip_rate.ci_high
    assert r.flip_rate.statistically_clear(0.2, "above")
    assert "refund" not in str(r.to_dict())  # indices only, never raw text


def test_two_column_probabilities_and_no_swappable_text() -> None:
    def proba(texts: list[str]) -> np.ndarray:
        p = _toy_scores(texts)
        return np.column_stack([1 - p, p])

    res = counterfactual_flip_rate(TEXTS, predict_proba=proba, categories=["gender", "religion"], batch_size=5)
    assert res["gender"].flip_rate.value == pytest.approx(0.75)
    assert res["gender"].mean_abs_change.value == pytest.approx(0.6)
    assert res["religion"].n_swappable == 0
    assert np.isnan(res["religion"].flip_rate.value)


def test_insensitive_model_never_flips() -> None:
    res = counterfactual_flip_rate(
        TEXTS, predict_proba=lambda t: np.full(len(t), 0.7), categories=["gender"], n_boot=100
    )
    assert res["gender"].n_flipped == 0
    assert res["gender"].flip_rate.ci_high == 0.0
    assert not res["gender"].flip_rate.statistically_clear(0.01, "above")
