"""One decision record: its fields, its canonical bytes, its hash, and the keyed pseudonym of the customer.

A record is a JSON object. Its ``hash`` is the SHA-256 of the canonical JSON of
every other field (sorted keys, no blanks, UTF-8), and its ``prev`` is the hash
of the record before it, so editing, deleting or reordering a record breaks the
chain from that record on. The first record of a log has ``prev`` = 64 zeros.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from audit.core.errors import AuditInputError, ErrorItem

RECORD_VERSION = 1
GENESIS = "0" * 64
MAX_REASONS = 4
KEY_ENV = "CRM_AUDIT_LOG_KEY"
MIN_KEY_BYTES = 16

#: fields every record carries, in the order they are written
FIELDS = (
    "v",
    "seq",
    "time",
    "model",
    "subject",
    "key_id",
    "features",
    "features_hmac",
    "groups",
    "score",
    "decision",
    "favourable",
    "reasons",
    "policy",
    "request_id",
    "prev",
    "hash",
)


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no blanks, UTF-8, no NaN (a NaN would not round-trip)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Pseudonymiser:
    """Keyed HMAC-SHA256 of customer ids. The key never enters the log; only its fingerprint does.

    An unkeyed hash of an enumerable id (a phone number, a running customer number) can be reversed by
    hashing every candidate; a keyed HMAC cannot without the key (GDPR Art. 4(5), ENISA guidance).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise AuditInputError(
                ErrorItem(
                    file="<pseudonymisation key>",
                    message=f"the key has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed",
                    hint="generate one with `python -c \"import secrets; print(secrets.token_hex(32))\"`",
                )
            )
        self._key = key
        self.key_id = hmac.new(key, b"crm-audit key id", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, customer_id: Any) -> str:
        return hmac.new(self._key, str(customer_id).encode("utf-8"), hashlib.sha256).hexdigest()

    def digest(self, obj: Any) -> str:
        """Keyed digest of any JSON value (used when the policy says features are stored as a hash)."""
        return hmac.new(self._key, canonical(obj), hashlib.sha256).hexdigest()


def load_key(key_file: str | Path | None = None, *, log_dir: str | Path | None = None) -> bytes:
    """The pseudonymisation key from a file or the CRM_AUDIT_LOG_KEY variable; never from inside the log."""
    if key_file is not None:
        path = Path(key_file)
        if log_dir is not None and Path(log_dir).resolve() in path.resolve().parents:
            raise AuditInputError(
                ErrorItem(file=str(path), message="the pseudonymisation key file lies inside the decision log folder", hint="keep the key outside the log (anyone holding both can re-identify customers)")
            )
        if not path.is_file():
            raise AuditInputError(ErrorItem(file=str(path), message="key file not found", hint=f"give an existing file or set {KEY_ENV}"))
        data = path.read_bytes().strip()
    else:
        env = os.environ.get(KEY_ENV)
        if not env:
            raise AuditInputError(
                ErrorItem(file="<environment>", path=KEY_ENV, message="no pseudonymisation key", hint=f"set {KEY_ENV} or pass --key-file PATH (a file outside the log folder)")
            )
        data = env.strip().encode("utf-8")
    return data


def _finite(value: Any, what: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number")
    return value


def plain(value: Any) -> Any:
    """A JSON-safe scalar (numpy scalars unwrapped, NaN as None)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def build_record(
    *,
    pseudonymiser: Pseudonymiser,
    customer_id: Any,
    model_name: str,
    model_version: str,
    features: Mapping[str, Any],
    score: float,
    decision: str,
    reasons: Iterable[Mapping[str, Any]] = (),
    excluded: Iterable[str] = (),
    groups: Mapping[str, Any] | None = None,
    features_mode: str = "values",
    policy: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    favourable: bool | None = None,
) -> dict[str, Any]:
    """A record without ``seq``, ``time``, ``prev`` and ``hash`` (the writer fills those in).

    ``reasons`` are filtered: a protected attribute or proxy named in ``excluded`` is never a reason,
    and at most four are kept. ``favourable`` says whether the decision benefits the customer (the
decision-rate trend by group counts these). ``groups`` holds protected attributes (banded) recorded for fairness
    monitoring only; the model never sees them.
    """
    if features_mode not in ("values", "hash"):
        raise ValueError(f"features_mode must be 'values' or 'hash', not {features_mode!r}")
    block = {str(k): plain(v) for k, v in features.items()}
    bad = set(map(str, excluded))
    kept = []
    for r in reasons:
        f = str(r.get("feature", ""))
        if f in bad:
            continue
        kept.append({"feature": f, "text": str(r.get("text", f))})
        if len(kept) == MAX_REASONS:
            break
    return {
        "v": RECORD_VERSION,
        "model": {"name": str(model_name), "version": str(model_version)},
        "subject": pseudonymiser.pseudonym(customer_id),
        "key_id": pseudonymiser.key_id,
        "features": block if features_mode == "values" else None,
        "features_hmac": pseudonymiser.digest(block) if features_mode == "hash" else None,
        "groups": {str(k): plain(v) for k, v in (groups or {}).items()},
        "score": _finite(float(score), "score"),
        "decision": str(decision),
        "favourable": None if favourable is None else bool(favourable),
        "reasons": kept,
        "policy": dict(policy or {}),
        "request_id": request_id,
    }
