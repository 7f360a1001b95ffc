"""Stands in for your own model and explainer: the crm-audit demo churn model.

``score_customer(customer)`` takes a flat customer object without protected attributes and returns
score, decision and reasons. Replace it with your model; keep the return shape.
"""

from __future__ import annotations

from typing import Any

from audit.decisions.scoring import Customer, demo_scorer

SCORER, _FRAME = demo_scorer()
BANDS = {"age": [18, 30, 45, 60, 121]}
PROTECTED = ["age", "gender"]


def score_customer(customer: dict[str, Any]) -> dict[str, Any]:
    features = {k: v for k, v in customer.items() if k != "customer_id"}
    missing = [f for f in SCORER.features if f not in features]
    if missing:
        raise ValueError(f"missing feature(s) {', '.join(missing)}")
    result = SCORER.score([Customer(str(customer["customer_id"]), features, {})])[0]
    result["favourable"] = result["decision"] == SCORER.decision_labels[1]
    return result
