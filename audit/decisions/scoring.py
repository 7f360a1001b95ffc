"""Score customers with a classifier artifact and give the principal reasons of each decision.

Used by ``crm-audit serve``; any classifier artifact of the CRM stack works (the demo churn model or a
model from audit.yaml). A request names every model feature; protected attributes, when sent, are
recorded (banded) for fairness monitoring and never reach the model. Reasons come from the SHAP
values of the decision (``audit.explain``) and never name a protected attribute or a proxy of one.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.core.context import band_labels

MAX_BATCH = 1000
PROXY_FLAG_AT = 0.3  # Cramer's V at which proxy.association flags a feature (tool default, CHECKS.md)


class RequestError(ValueError):
    """A bad request: the service answers 400 with this message and writes nothing."""

    def __init__(self, message: str, *, field: str = "", index: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.index = index

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"error": str(self)}
        if self.field:
            d["field"] = self.field
        if self.index is not None:
            d["index"] = self.index
        return d


def model_version(artifact: Any, model_file: str | Path | None = None) -> tuple[str, str]:
    """("sha256:<hex>", what was hashed): the model file when there is one, else the pickled estimator."""
    if model_file is not None:
        h = hashlib.sha256(Path(model_file).read_bytes()).hexdigest()
        return f"sha256:{h}", f"model file {Path(model_file).name}"
    h = hashlib.sha256(pickle.dumps(artifact.estimator, protocol=5)).hexdigest()
    return f"sha256:{h}", "pickled in-memory estimator (no model file)"


@dataclass
class Customer:
    customer_id: str
    features: dict[str, Any]
    groups: dict[str, Any]


@dataclass
class Scorer:
    """A classifier artifact ready to score requests; ``decision_labels`` = (adverse, favourable)."""

    artifact: Any
    version: str
    version_source: str
    protected: list[str] = field(default_factory=list)
    bands: dict[str, list[float]] = field(default_factory=dict)
    excluded_reasons: list[str] = field(default_factory=list)
    decision_labels: tuple[str, str] = ("adverse", "favourable")
    reason_texts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        a = self.artifact
        self.features = [str(f) for f in a.features]
        ref = a.X_train_sample if len(getattr(a, "X_train_sample", [])) else a.X_eval
        both = pd.concat([a.X_eval, ref], ignore_index=True)
        self._numeric = {f: bool(pd.api.types.is_numeric_dtype(both[f]) and not pd.api.types.is_bool_dtype(both[f])) for f in self.features}
        self._boolean = {f: bool(pd.api.types.is_bool_dtype(both[f])) for f in self.features}
        self._nullable = {f: bool(both[f].isna().any()) for f in self.features}
        self._dtypes = both[self.features].dtypes
        self.adverse_positive = getattr(a, "favourable_outcome", "positive") == "negative"

    @property
    def name(self) -> str:
        return str(self.artifact.name)

    # --- requests -------------------------------------------------------------------
    def parse(self, payload: Any) -> tuple[list[Customer], bool]:
        """(customers, is_batch) from a request body; RequestError names what is wrong."""
        if isinstance(payload, Mapping) and "customers" in payload:
            extra = set(payload) - {"customers"}
            if extra:
                raise RequestError(f"unknown top-level key(s) beside 'customers': {', '.join(sorted(extra))}")
            items = payload["customers"]
            if not isinstance(items, list) or not items:
                raise RequestError("'customers' must be a non-empty list of customer objects", field="customers")
            if len(items) > MAX_BATCH:
                raise RequestError(f"a batch holds at most {MAX_BATCH} customers; got {len(items)}", field="customers")
            return [self._customer(it, i) for i, it in enumerate(items)], True
        if isinstance(payload, Mapping):
            return [self._customer(payload, None)], False
        raise RequestError("the body must be a JSON object: one customer, or {\"customers\": [...]}")

    def _customer(self, item: Any, index: int | None) -> Customer:
        if not isinstance(item, Mapping):
            raise RequestError("a customer must be a JSON object", index=index)
        cid = item.get("customer_id")
        if cid is None or isinstance(cid, (bool, dict, list)) or str(cid).strip() == "":
            raise RequestError("customer_id is required (a string or integer)", field="customer_id", index=index)
        nested = isinstance(item.get("features"), Mapping)
        source = dict(item["features"]) if nested else {k: v for k, v in item.items() if k not in ("customer_id", "groups")}
        groups_in = dict(item["groups"]) if isinstance(item.get("groups"), Mapping) else {}
        if not nested:
            for p in self.protected:
                if p in source:
                    groups_in[p] = source.pop(p)
        allowed_top = {"customer_id", "features", "groups"} if nested else None
        if allowed_top is not None:
            extra = set(item) - allowed_top
            if extra:
                raise RequestError(f"unknown key(s) {', '.join(sorted(extra))}; allowed: customer_id, features, groups", index=index)
        unknown = sorted(set(source) - set(self.features))
        if unknown:
            raise RequestError(f"unknown feature(s) {', '.join(unknown)}; the model uses: {', '.join(self.features)}", field=unknown[0], index=index)
        missing = [f for f in self.features if f not in source]
        if missing:
            raise RequestError(f"missing feature(s) {', '.join(missing)}", field=missing[0], index=index)
        bad_groups = sorted(set(groups_in) - set(self.protected))
        if bad_groups:
            raise RequestError(f"unknown group attribute(s) {', '.join(bad_groups)}; recorded ones: {', '.join(self.protected) or '(none)'}", field=bad_groups[0], index=index)
        feats = {f: self._value(f, source[f], index) for f in self.features}
        groups = {g: self._group(g, groups_in.get(g)) for g in self.protected}
        return Customer(str(cid), feats, groups)

    def _value(self, f: str, v: Any, index: int | None) -> Any:
        if v is None:
            if not self._nullable[f]:
                raise RequestError(f"feature {f} may not be null (the model never saw it missing)", field=f, index=index)
            return None
        if self._boolean[f]:
            if not isinstance(v, bool):
                raise RequestError(f"feature {f} must be true or false", field=f, index=index)
            return v
        if self._numeric[f]:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
                raise RequestError(f"feature {f} must be a finite number", field=f, index=index)
            return v
        if not isinstance(v, str):
            raise RequestError(f"feature {f} must be a string", field=f, index=index)
        return v

    def _group(self, g: str, v: Any) -> Any:
        if v is None:
            return "unknown"
        edges = self.bands.get(g)
        if edges and isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(band_labels(pd.Series([v]), edges).iloc[0])
        return str(v)

    # --- scoring ----------------------------------------------------------------------
    def frame(self, customers: Sequence[Customer]) -> pd.DataFrame:
        df = pd.DataFrame([c.features for c in customers], columns=self.features)
        for f in self.features:
            if self._numeric[f]:
                df[f] = pd.to_numeric(df[f], errors="coerce").astype("float64")
            elif self._boolean[f]:
                df[f] = df[f].astype(self._dtypes[f]) if not df[f].isna().any() else df[f]
        return df

    def score(self, customers: Sequence[Customer], *, max_reasons: int = 4) -> list[dict[str, Any]]:
        """Score, decision and principal reasons per customer (reasons push towards the decision made)."""
        from audit.explain.tabular import explain_classifier

        X = self.frame(customers)
        a = self.artifact
        est = a.estimator
        classes = list(getattr(est, "classes_", [0, 1]))
        label = getattr(a, "positive_label", 1)
        pos = classes.index(label) if label in classes else (classes.index(1) if 1 in classes else len(classes) - 1)
        score = est.predict_proba(X)[:, pos]
        positive = score >= float(a.threshold)
        adverse = positive if self.adverse_positive else ~positive
        expl = explain_classifier(replace(a, X_eval=X), background_size=100, seed=0)
        from audit.explain.reasons import default_reason_texts

        texts = default_reason_texts(expl.feature_names, self.reason_texts or None)
        excluded = set(self.excluded_reasons) | set(self.protected)
        out = []
        for i, c in enumerate(customers):
            # SHAP values explain the positive class; a positive push is towards 'positive'
            towards_positive = bool(positive[i])
            push = expl.values[i] if towards_positive else -expl.values[i]
            order = np.argsort(-push, kind="stable")
            reasons = []
            for j in order:
                fname = expl.feature_names[j]
                if push[j] <= 0 or fname in excluded:
                    continue
                reasons.append({"feature": fname, "text": texts[fname]})
                if len(reasons) == max_reasons:
                    break
            out.append(
                {
                    "customer_id": c.customer_id,
                    "score": float(score[i]),
                    "decision": self.decision_labels[0] if adverse[i] else self.decision_labels[1],
                    "reasons": reasons,
                }
            )
        return out


def proxy_features(artifact: Any, protected: Sequence[str], bands: Mapping[str, Sequence[float]], *, flag_at: float = PROXY_FLAG_AT) -> list[str]:
    """Features whose association with a protected attribute reaches the proxy flag (Cramer's V)."""
    sens = getattr(artifact, "sensitive", pd.DataFrame())
    attrs = [p for p in protected if p in sens.columns]
    if not attrs or len(sens) != len(artifact.X_eval):
        return []
    from audit.fairness.proxy import proxy_associations

    table = proxy_associations(artifact.X_eval, protected=sens, attributes=attrs, bands=dict(bands))
    return sorted(set(table.loc[table["cramers_v"] >= flag_at, "feature"].astype(str)))


def demo_scorer(seed: int = 7, n_customers: int = 10_000) -> tuple[Scorer, Any]:
    """The demo churn model (logistic regression on the built-in demo CRM) and the customer frame."""
    from audit.crm.classify import train_classifier
    from audit.crm.demo import CHURN_FEATURES, SENSITIVE, customer_frame, generate_demo
    from audit.demo import AGE_BANDS

    frame = customer_frame(generate_demo(n_customers=n_customers, seed=seed))
    artifact = train_classifier(
        frame,
        target="churned",
        features=CHURN_FEATURES,
        algorithm="logistic_regression",
        name="churn_logistic_regression",
        purpose="Predict which customers will churn in the next quarter; flagged customers get lower-priority service.",
        dataset="demo.customers",
        id_column="customer_id",
        sensitive_columns=SENSITIVE,
        positive_label=1,
        favourable_outcome="negative",
        random_state=seed,
    )
    version, source = model_version(artifact)
    bands = {"age": list(AGE_BANDS)}
    protected = ["age", "gender"]
    scorer = Scorer(
        artifact=artifact,
        version=version,
        version_source=source,
        protected=protected,
        bands=bands,
        excluded_reasons=proxy_features(artifact, protected, bands),
        decision_labels=("flagged", "not_flagged"),
    )
    return scorer, frame
