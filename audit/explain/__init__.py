"""Explanations of CRM model decisions for data-subject and regulator requests.

SHAP values per original feature for tabular models, principal reasons for
adverse decisions, the share of a model's attribution on protected data,
importance stability under refits, and plain explanations for segments,
recommendations and text predictions.

Typical use for a classifier artifact (explain every adverse decision plus a
uniform sample for the global picture)::

    adverse = ~artifact.favourable_mask()
    exp = explain_classifier(artifact, rows=adverse, max_rows=500)
    codes = reason_codes(exp, adverse_mask=adverse, direction=adverse_direction(artifact),
                         excluded_features=["gender", "postcode"])
    coverage(codes), protected_attribution(exp, ["gender"], ["postcode"])
"""

from .reasons import (
    Reason,
    ReasonCode,
    adverse_direction,
    coverage,
    default_reason_text,
    default_reason_texts,
    protected_attribution,
    reason_codes,
)
from .recommend import RecommendationExplanation, explain_recommendation
from .segments import SegmentExplanation, SegmentSurrogate, explain_segment, segment_surrogate
from .tabular import Explanation, StabilityResult, explain_classifier, explain_regressor, stability
from .text import TextExplanation, explain_text

__all__ = [
    "Explanation",
    "Reason",
    "ReasonCode",
    "RecommendationExplanation",
    "SegmentExplanation",
    "SegmentSurrogate",
    "StabilityResult",
    "TextExplanation",
    "adverse_direction",
    "coverage",
    "default_reason_text",
    "default_reason_texts",
    "explain_classifier",
    "explain_recommendation",
    "explain_regressor",
    "explain_segment",
    "explain_text",
    "protected_attribution",
    "reason_codes",
    "segment_surrogate",
    "stability",
]
