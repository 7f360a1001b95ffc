"""Write the decision log from any Python service (Flask, FastAPI, a batch job).

    from audit.decisions.api import DecisionLogger

    logger = DecisionLogger("decision-log", model_name="churn", model_file="churn.skops",
                            protected=["age", "gender"], bands={"age": [18, 30, 45, 60, 121]})

    @logger.logged
    def score_customer(customer: dict) -> dict:
        ...                               # your model
        return {"score": p, "decision": "flagged", "favourable": False,
                "reasons": [{"feature": "recency", "text": "..."}]}

``score_customer({"customer_id": "C1", "recency": 40, ..., "age": 37})`` then returns the result
with a ``log`` entry (seq and hash of the record) once the record is on disk. Keys named in
``protected`` are recorded (banded) as groups for fairness monitoring; they are removed from the
customer before ``score_customer`` sees it.
The pseudonymisation key comes from ``key``/``key_file`` or the CRM_AUDIT_LOG_KEY variable.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from audit.core.context import band_labels
from audit.decisions.log import DecisionLogWriter
from audit.decisions.record import Pseudonymiser, build_record, load_key

__all__ = ["DecisionLogger"]


class DecisionLogger:
    """One model's decisions into one log folder. Thread-safe; share one instance per process."""

    def __init__(
        self,
        directory: str | Path,
        *,
        model_name: str,
        model_file: str | Path | None = None,
        model_version: str | None = None,
        key: bytes | None = None,
        key_file: str | Path | None = None,
        protected: Sequence[str] = (),
        bands: Mapping[str, Sequence[float]] | None = None,
        excluded_reasons: Iterable[str] = (),
        features_mode: Literal["values", "hash"] = "values",
        policy: Mapping[str, Any] | None = None,
        fsync: bool = True,
    ) -> None:
        if (model_file is None) == (model_version is None):
            raise ValueError("give exactly one of model_file (hashed with sha256) or model_version")
        if model_file is not None:
            model_version = "sha256:" + hashlib.sha256(Path(model_file).read_bytes()).hexdigest()
        self.model_name = model_name
        self.model_version = str(model_version)
        self.pseudonymiser = Pseudonymiser(key if key is not None else load_key(key_file, log_dir=directory))
        self.protected = list(protected)
        self.bands = {k: list(v) for k, v in (bands or {}).items()}
        self.excluded = set(excluded_reasons) | set(self.protected)
        self.features_mode = features_mode
        self.policy = dict(policy or {})
        self.writer = DecisionLogWriter(directory, fsync=fsync)

    def close(self) -> None:
        self.writer.close()

    def group_value(self, name: str, value: Any) -> Any:
        if value is None:
            return "unknown"
        edges = self.bands.get(name)
        if edges and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(band_labels(pd.Series([value]), edges).iloc[0])
        return value

    def record(self, *, customer_id: Any, features: Mapping[str, Any], score: float, decision: str, reasons: Iterable[Mapping[str, Any]] = (), groups: Mapping[str, Any] | None = None, request_id: str | None = None, favourable: bool | None = None) -> dict[str, Any]:
        """A record ready for :meth:`write` (not yet chained)."""
        return build_record(
            pseudonymiser=self.pseudonymiser,
            customer_id=customer_id,
            model_name=self.model_name,
            model_version=self.model_version,
            features=features,
            score=score,
            decision=decision,
            reasons=reasons,
            excluded=self.excluded,
            groups={k: self.group_value(k, v) for k, v in (groups or {}).items()},
            features_mode=self.features_mode,
            policy=self.policy,
            request_id=request_id,
            favourable=favourable,
        )

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Chain, write and fsync; returns the records as stored."""
        return self.writer.append(records)

    def log(self, **kwargs: Any) -> dict[str, Any]:
        """Record one decision; returns the stored record (with seq and hash)."""
        return self.write([self.record(**kwargs)])[0]

    def split(self, customer: Mapping[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        """(customer_id, features, groups) from a flat customer object."""
        if "customer_id" not in customer:
            raise ValueError("customer_id is required")
        feats = {k: v for k, v in customer.items() if k != "customer_id" and k not in self.protected}
        groups = {k: customer.get(k) for k in self.protected}
        return customer["customer_id"], feats, groups

    def logged(self, fn: Callable[..., Mapping[str, Any]]) -> Callable[..., dict[str, Any]]:
        """Decorate ``fn(customer) -> {"score", "decision", "reasons"}``: the decision is logged before it is returned."""

        @functools.wraps(fn)
        def wrapper(customer: Mapping[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
            cid, feats, groups = self.split(customer)
            result = dict(fn({"customer_id": cid, **feats}, *args, **kwargs))  # protected attributes never reach the model
            stored = self.log(customer_id=cid, features=feats, score=float(result["score"]), decision=str(result["decision"]), reasons=result.get("reasons", ()), groups=groups, favourable=result.get("favourable"))
            result["reasons"] = stored["reasons"]  # protected attributes and proxies removed
            result["log"] = {"seq": stored["seq"], "hash": stored["hash"]}
            return result

        return wrapper
