"""Principal reasons for adverse decisions, and how much a model leans on protected data.

An adverse-action notice (ECOA / Regulation B) must state the principal
reasons for a decision, and GDPR Art. 15(1)(h) / 22 and PIPL Art. 24(3) give
people a right to meaningful information about the logic of an automated
decision. Reasons come from the SHAP values of the decision: the features that
pushed that customer's score furthest towards the adverse outcome, phrased in
plain language. A protected attribute or a flagged proxy is never given as a
reason; when one is among the top drivers it is recorded so a check can fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .tabular import Explanation

__all__ = [
    "Reason",
    "ReasonCode",
    "adverse_direction",
    "coverage",
    "default_reason_text",
    "default_reason_texts",
    "protected_attribution",
    "reason_codes",
]

Direction = Literal["positive", "negative"] | int

# Plain-language phrases for words that commonly appear in CRM feature names.
# The longest matching word wins; users override any sentence via ``mapping``.
_PHRASES: dict[str, str] = {
    "tenure": "Length of customer relationship",
    "income": "Income",
    "salary": "Income",
    "recency": "Time since last purchase",
    "frequency": "Number of purchases",
    "monetary": "Total amount spent",
    "spend": "Amount spent",
    "tickets": "Number of support requests",
    "ticket": "Number of support requests",
    "complaints": "Number of complaints",
    "complaint": "Number of complaints",
    "calls": "Number of calls to customer service",
    "consent": "Consent choices recorded for the account",
    "balance": "Account balance",
    "charges": "Amount charged",
    "charge": "Amount charged",
    "contract": "Type of contract",
    "payment": "Payment history or method",
    "late": "Late payments",
    "overdue": "Overdue payments",
    "delinquency": "Payment arrears",
    "arrears": "Payment arrears",
    "debt": "Outstanding debt",
    "utilisation": "Share of available credit in use",
    "utilization": "Share of available credit in use",
    "credit": "Credit history",
    "region": "Location of the account",
    "postcode": "Location of the account",
    "zip": "Location of the account",
    "city": "Location of the account",
    "usage": "Use of the service",
    "visits": "Number of visits",
    "logins": "Number of log-ins",
    "returns": "Number of returned orders",
    "discount": "Discounts received",
    "orders": "Number of orders",
    "products": "Number of products held",
    "plan": "Service plan",
}


def default_reason_text(feature: str) -> str:
    """A readable sentence for a feature name.

    ``"tenure_months"`` -> ``"Length of customer relationship (tenure months)"``;
    names without a known word are just humanised (``"web_sessions"`` ->
    ``"Web sessions"``).
    """
    words = [w for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", str(feature)) if w]
    readable = " ".join(w.lower() for w in words) or str(feature)
    known = [w.lower() for w in words if w.lower() in _PHRASES]
    if not known:
        return readable[:1].upper() + readable[1:]
    phrase = _PHRASES[max(known, key=len)]
    return phrase if phrase.lower() == readable else f"{phrase} ({readable})"


def default_reason_texts(features: Iterable[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sentence used for each feature: ``mapping`` where given, else the default (an editable starting point)."""
    given = mapping or {}
    return {str(f): given.get(str(f)) or default_reason_text(str(f)) for f in features}


@dataclass(frozen=True)
class Reason:
    """One principal reason: a feature, its sentence, its push towards the adverse outcome."""

    feature: str
    text: str
    contribution: float
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "text": self.text,
            "contribution": self.contribution,
            "value": _plain(self.value),
        }


@dataclass(frozen=True)
class ReasonCode:
    """The reasons stored for one adverse decision.

    ``row`` is the evaluation-row position; ``explained`` is False when the
    decision was not among the explained rows (it then has no reasons).
    ``excluded_in_top`` lists protected attributes or proxies that were among
    the top drivers of this decision and were withheld from the reasons.
    """

    row: int
    id: Any
    reasons: list[Reason]
    excluded_in_top: list[str] = field(default_factory=list)
    explained: bool = True
    output: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "id": _plain(self.id),
            "reasons": [r.to_dict() for r in self.reasons],
            "excluded_in_top": list(self.excluded_in_top),
            "explained": self.explained,
            "output": self.output,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def adverse_direction(artifact: Any) -> Literal["positive", "negative"]:
    """Sign of SHAP values that pushes a classifier artifact's decision towards the adverse outcome.

    Explanations are of the positive label's score; when the positive label
    is the unfavourable one (e.g. "will churn" flags a customer for worse
    service) positive contributions are adverse.
    """
    return "positive" if getattr(artifact, "favourable_outcome", "positive") == "negative" else "negative"


def _sign(direction: Direction) -> float:
    if direction in ("positive", 1, "+", True):
        return 1.0
    if direction in ("negative", -1, "-", False):
        return -1.0
    raise ValueError(f"direction must be 'positive' or 'negative', not {direction!r}")


def _explained_adverse(
    explanation: Explanation, adverse_mask: Sequence[bool] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(evaluation rows with an adverse decision, their explained-row positions or -1)."""
    mask = np.asarray(adverse_mask, dtype=bool).ravel()
    n_eval = explanation.n_eval or explanation.n_rows
    if len(mask) == n_eval:
        rows = np.flatnonzero(mask)
        return rows, explanation.positions(rows)
    if len(mask) == explanation.n_rows:
        positions = np.flatnonzero(mask)
        return explanation.row_index[positions], positions
    raise ValueError(
        f"adverse_mask has {len(mask)} entries; expected {n_eval} (evaluation rows) or {explanation.n_rows} (explained rows)"
    )


def _format(sentence: str, value: Any) -> str:
    if "{value}" not in sentence:
        return sentence
    try:
        return sentence.format(value=_plain(value))
    except (KeyError, IndexError, ValueError):
        return sentence


def reason_codes(
    explanation: Explanation,
    *,
    adverse_mask: Sequence[bool] | np.ndarray,
    direction: Direction,
    excluded_features: Iterable[str] = (),
    mapping: Mapping[str, str] | None = None,
    max_reasons: int = 4,
) -> list[ReasonCode]:
    """Principal reasons for every adverse decision.

    ``adverse_mask`` is aligned with the artifact's evaluation rows (or with
    the explained rows). ``direction`` is the SHAP sign that pushes towards
    the adverse outcome (see :func:`adverse_direction`). Reasons are the
    features with the largest push towards the adverse outcome, at most
    ``max_reasons`` (four by default, the customary maximum in adverse-action
    notices), never one of ``excluded_features``; an excluded feature that
    ranks among the top ``max_reasons`` drivers is listed in
    ``excluded_in_top``. ``mapping`` overrides sentences per feature and may
    use ``{value}`` for the customer's value in original units.
    """
    cap = max(0, int(max_reasons))
    sign = _sign(direction)
    excluded = {str(f) for f in excluded_features}
    texts = default_reason_texts(explanation.feature_names, mapping)
    names = explanation.feature_names
    is_excluded = np.array([f in excluded for f in names], dtype=bool)
    rows, positions = _explained_adverse(explanation, adverse_mask)
    ids_all = explanation.ids
    columns = {f: explanation.data[f].to_numpy() for f in names if f in explanation.data.columns}
    codes: list[ReasonCode] = []
    for row, pos in zip(rows.tolist(), positions.tolist()):
        if pos < 0:
            codes.append(ReasonCode(row=int(row), id=None, reasons=[], explained=False))
            continue
        push = sign * explanation.values[pos]
        order = np.argsort(-push, kind="stable")
        adverse_order = order[push[order] > 0]
        top = adverse_order[:cap]
        flagged = [names[j] for j in top if is_excluded[j]]
        allowed = [j for j in adverse_order if not is_excluded[j]][:cap]
        reasons = []
        for j in allowed:
            value = _plain(columns[names[j]][pos]) if names[j] in columns else None
            reasons.append(
                Reason(feature=names[j], text=_format(texts[names[j]], value), contribution=float(push[j]), value=value)
            )
        codes.append(
            ReasonCode(
                row=int(row),
                id=_plain(ids_all[pos]),
                reasons=reasons,
                excluded_in_top=flagged,
                output=float(explanation.output[pos]),
            )
        )
    return codes


def coverage(codes: Sequence[ReasonCode]) -> float:
    """Share of adverse decisions with at least one stored reason (1.0 when there are none)."""
    if not codes:
        return 1.0
    return float(np.mean([bool(code.reasons) for code in codes]))


def protected_attribution(
    explanation: Explanation, protected: Iterable[str], proxies: Iterable[str] = ()
) -> dict[str, Any]:
    """Share of the model's total mean |SHAP| carried by protected attributes and proxies.

    A feature listed in both is counted as protected. Names that are not
    model features are reported under ``absent`` (share 0).
    """
    importance = explanation.global_importance()
    total = float(sum(importance.values()))
    protected_set = [str(f) for f in dict.fromkeys(protected)]
    proxy_set = [str(f) for f in dict.fromkeys(proxies) if str(f) not in protected_set]

    def shares(group: list[str]) -> dict[str, float]:
        return {f: (importance[f] / total if total > 0 else 0.0) for f in group if f in importance}

    prot = shares(protected_set)
    prox = shares(proxy_set)
    return {
        "protected_share": float(sum(prot.values())),
        "proxy_share": float(sum(prox.values())),
        "combined_share": float(sum(prot.values()) + sum(prox.values())),
        "protected": prot,
        "proxies": prox,
        "absent": [f for f in protected_set + proxy_set if f not in importance],
        "total_mean_abs_shap": total,
        "output_space": explanation.output_space,
    }
