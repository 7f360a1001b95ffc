"""Reason codes for adverse decisions and attribution to protected data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audit.explain import (
    Explanation,
    adverse_direction,
    coverage,
    default_reason_text,
    default_reason_texts,
    explain_classifier,
    protected_attribution,
    reason_codes,
)

from .conftest import FEATURES, build_artifact, churn_frame


def _toy_explanation(values, names, n_eval=None, row_index=None) -> Explanation:
    values = np.asarray(values, dtype=float)
    n = len(values)
    rows = np.arange(n) if row_index is None else np.asarray(row_index)
    return Explanation(
        values=values,
        base_values=np.zeros(n),
        output=values.sum(axis=1),
        feature_names=list(names),
        data=pd.DataFrame({f: np.arange(n) for f in names}),
        ids=np.array([f"id{r}" for r in rows], dtype=object),
        row_index=rows,
        global_mask=np.ones(n, dtype=bool),
        explainer="toy",
        output_space="log-odds",
        n_eval=n if n_eval is None else n_eval,
    )


NAMES = ["gender", "postcode", "a", "b", "c", "d", "e"]


def test_protected_and_proxy_features_are_never_reasons_but_are_flagged():
    exp = _toy_explanation([[5.0, 4.0, 3.0, 2.5, 2.0, 1.0, 0.5], [0.1, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0]], NAMES)
    codes = reason_codes(
        exp,
        adverse_mask=[True, True],
        direction="positive",
        excluded_features=["gender", "postcode"],
    )
    first, second = codes
    assert [r.feature for r in first.reasons] == ["a", "b", "c", "d"]  # capped at four, excluded skipped
    assert first.excluded_in_top == ["gender", "postcode"]
    assert [r.feature for r in second.reasons] == ["a"]  # only features pushing towards the adverse outcome
    assert second.excluded_in_top == ["gender"]  # gender ranks second among the adverse drivers
    for code in codes:
        assert not {r.feature for r in code.reasons} & {"gender", "postcode"}
        assert len(code.reasons) <= 4
    json.dumps([c.to_dict() for c in codes])


def test_direction_flips_the_sign():
    exp = _toy_explanation([[-3.0, 0.0, 2.0, -1.0, 0.0, 0.0, 0.0]], NAMES)
    codes = reason_codes(exp, adverse_mask=[True], direction="negative", excluded_features=["gender"])
    assert [r.feature for r in codes[0].reasons] == ["b"]
    assert codes[0].excluded_in_top == ["gender"]
    assert codes[0].reasons[0].contribution == pytest.approx(1.0)


def test_mapping_overrides_default_sentences_and_formats_values():
    exp = _toy_explanation([[0.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0]], NAMES)
    codes = reason_codes(exp, adverse_mask=[True], direction="positive", mapping={"a": "Value of a was {value}"})
    assert codes[0].reasons[0].text == "Value of a was 0"
    assert codes[0].reasons[1].text == default_reason_text("b")


def test_unexplained_adverse_rows_count_against_coverage():
    # 4 evaluation rows; only rows 0 and 2 were explained
    exp = _toy_explanation([[0, 0, 1.0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]], NAMES, n_eval=4, row_index=[0, 2])
    codes = reason_codes(exp, adverse_mask=[True, True, True, False], direction="positive")
    assert [c.row for c in codes] == [0, 1, 2]
    assert [c.explained for c in codes] == [True, False, True]
    assert [len(c.reasons) for c in codes] == [1, 0, 0]  # row 2 has nothing pushing towards adverse
    assert coverage(codes) == pytest.approx(1 / 3)
    assert coverage([]) == 1.0


def test_default_sentences():
    assert default_reason_text("tenure_months") == "Length of customer relationship (tenure months)"
    assert default_reason_text("n_tickets") == "Number of support requests (n tickets)"
    assert default_reason_text("web_sessions") == "Web sessions"
    assert default_reason_text("income") == "Income"
    texts = default_reason_texts(["recency", "email"], mapping={"email": "Contact details"})
    assert texts == {"recency": "Time since last purchase (recency)", "email": "Contact details"}


def test_reason_codes_on_a_real_model(forest_artifact):
    adverse = ~forest_artifact.favourable_mask()
    assert adverse.any()
    exp = explain_classifier(forest_artifact, rows=adverse, max_rows=40)
    direction = adverse_direction(forest_artifact)
    assert direction == "positive"  # positive label (churn) is the unfavourable outcome
    codes = reason_codes(exp, adverse_mask=adverse, direction=direction, excluded_features=["region"])
    assert len(codes) == adverse.sum()
    assert coverage(codes) == 1.0
    assert all(1 <= len(c.reasons) <= 4 for c in codes)
    assert all("region" not in {r.feature for r in c.reasons} for c in codes)
    assert any("region" in c.excluded_in_top for c in codes)  # region is a real driver in this data
    for code in codes:
        contributions = [r.contribution for r in code.reasons]
        assert contributions == sorted(contributions, reverse=True) and min(contributions) > 0


def test_protected_attribute_share_is_large_when_the_model_uses_it():
    from sklearn.ensemble import RandomForestClassifier

    frame = churn_frame(gender_effect=3.0)
    art = build_artifact(
        RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0), [*FEATURES, "gender"], frame
    )
    exp = explain_classifier(art)
    result = protected_attribution(exp, protected=["gender", "age_band"], proxies=["region"])
    assert result["protected_share"] > 0.05
    assert result["absent"] == ["age_band"]
    assert result["combined_share"] == pytest.approx(result["protected_share"] + result["proxy_share"])
    assert 0 < result["proxy_share"] < 1


def test_protected_attribute_share_is_zero_when_not_a_feature(logistic_artifact):
    exp = explain_classifier(logistic_artifact)
    result = protected_attribution(exp, protected=["gender"], proxies=[])
    assert result["protected_share"] == 0.0
    assert result["absent"] == ["gender"]
