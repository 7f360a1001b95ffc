"""Which words drove a text classifier's prediction.

For a TF-IDF + linear pipeline the answer is exact: the predicted class's
score is a sum over terms of (TF-IDF weight x coefficient), so each term's
product is its contribution (in log-odds for logistic regression). Any other
model is treated as a black box: each distinct token is removed from the text
in turn and the drop in the predicted class's probability is its
contribution (leave-one-token-out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TextExplanation", "explain_text"]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class TextExplanation:
    """Tokens behind the prediction of ``label`` for ``text``.

    ``tokens`` push towards ``label`` (largest first), ``opposing`` push away
    from it; each is ``(token, contribution)``. ``space`` is "log-odds" for
    coefficient explanations of logistic regression, "score" for other
    linear models and "probability" for leave-one-token-out.
    """

    text: str
    label: Any
    probability: float
    tokens: list[tuple[str, float]]
    opposing: list[tuple[str, float]] = field(default_factory=list)
    method: str = ""
    space: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label.item() if isinstance(self.label, np.generic) else self.label,
            "probability": self.probability,
            "tokens": [[t, c] for t, c in self.tokens],
            "opposing": [[t, c] for t, c in self.opposing],
            "method": self.method,
            "space": self.space,
            "notes": list(self.notes),
        }


def _linear_text_pipeline(estimator: Any) -> tuple[Any, Any] | None:
    """(vectoriser, linear model) when the estimator is a TF-IDF-style + linear pipeline."""
    from sklearn.pipeline import Pipeline

    pipeline = getattr(estimator, "pipeline_", estimator)
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        return None
    vectoriser = pipeline[:-1]
    model = pipeline.steps[-1][1]
    if not hasattr(model, "coef_") or not hasattr(pipeline.steps[-2][1], "get_feature_names_out"):
        return None
    return vectoriser, model


def _tokens(text: str) -> list[str]:
    """Distinct words (CJK text segmented with jieba when available, else per character)."""
    if _CJK.search(text):
        try:
            import jieba

            jieba.setLogLevel(60)
            pieces = [p.strip() for p in jieba.lcut(text)]
        except Exception:  # noqa: BLE001 - fall back to characters
            pieces = list(text)
        words = [p for p in pieces if p and any(ch.isalnum() for ch in p)]
    else:
        words = _WORD.findall(text)
    return list(dict.fromkeys(words))


def _remove(text: str, token: str) -> str:
    if _CJK.search(token):
        return text.replace(token, " ")
    return re.sub(rf"(?<![^\W_]){re.escape(token)}(?![^\W_])", " ", text)


def explain_text(
    artifact: Any, text: str, top_n: int = 5, *, label: Any = None, method: str = "auto"
) -> TextExplanation:
    """The ``top_n`` tokens that drove a TextModelArtifact's prediction for ``text``.

    ``label`` defaults to the predicted class. ``method``: "auto" (exact
    coefficients when the model is TF-IDF + linear, else leave-one-token-out),
    "coefficients" or "occlusion".
    """
    labels = list(artifact.labels)
    proba = np.asarray(artifact.predict_proba([text]), dtype=float)[0]
    index = int(np.argmax(proba)) if label is None else labels.index(label)
    target = labels[index]
    linear = _linear_text_pipeline(artifact.estimator) if method in ("auto", "coefficients") else None
    if method == "coefficients" and linear is None:
        raise ValueError("the model is not a TF-IDF + linear pipeline; use method='occlusion'")
    if linear is not None:
        vectoriser, model = linear
        weights = vectoriser.transform([text])
        weights = weights.tocsr() if hasattr(weights, "tocsr") else weights
        names = vectoriser.steps[-1][1].get_feature_names_out()
        coef = np.asarray(model.coef_, dtype=float)
        classes = list(model.classes_)
        k = classes.index(target) if target in classes else index
        if coef.shape[0] == 1:  # binary: one row, for classes[1]
            row = coef[0] if k == 1 else -coef[0]
        else:
            row = coef[k]
        cols = weights.indices if hasattr(weights, "indices") else np.flatnonzero(weights[0])
        data = weights.data if hasattr(weights, "data") else np.asarray(weights[0])[cols]
        contributions = [(str(names[c]), float(v * row[c])) for c, v in zip(cols, data)]
        space = "log-odds" if type(model).__name__.startswith("LogisticRegression") else "score"
        notes = ["contribution = TF-IDF weight x coefficient; terms are the vectoriser's (stemmed) n-grams"]
        if coef.shape[0] > 1:
            notes.append("multi-class: contributions to the class's own linear score, before the softmax")
        chosen_method = "tfidf_coefficients"
    else:
        words = _tokens(text)
        variants = [_remove(text, w) for w in words]
        if variants:
            reduced = np.asarray(artifact.predict_proba(variants), dtype=float)[:, index]
        else:
            reduced = np.array([])
        contributions = [(w, float(proba[index] - r)) for w, r in zip(words, reduced)]
        space = "probability"
        notes = ["contribution = drop in the class probability when every occurrence of the token is removed"]
        chosen_method = "leave_one_token_out"
    ordered = sorted(contributions, key=lambda item: -item[1])
    return TextExplanation(
        text=text,
        label=target,
        probability=float(proba[index]),
        tokens=[item for item in ordered if item[1] > 0][:top_n],
        opposing=[item for item in reversed(ordered) if item[1] < 0][:top_n],
        method=chosen_method,
        space=space,
        notes=tuple(notes),
    )
