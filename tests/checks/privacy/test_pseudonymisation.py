"""privacy.pseudonymisation: unkeyed hashes of enumerable identifiers are reversed and flagged."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from audit.checks.privacy.pseudonymisation import Pseudonymisation
from audit.core.types import Status

from .helpers import context, dataset, run, statuses

PHONES = [f"+86 138 {1000 + 37 * i:04d} {2000 + 11 * i:04d}" for i in range(40)]
EMAILS = [f"Person.{i}@Example.com" for i in range(40)]


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def frames():
    customers = pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(40)], "phone": PHONES, "email": EMAILS})
    events = pd.DataFrame(
        {
            "event_id": range(40),
            "phone_md5": [hashlib.md5(_digits(p).encode()).hexdigest() for p in PHONES],
            "email_sha256": [hashlib.sha256(e.lower().encode()).hexdigest() for e in EMAILS],
            "customer_key": [
                hmac.new(b"secret-key", c.encode(), "sha256").hexdigest() for c in customers["customer_id"]
            ],
            "kind": ["click"] * 40,
        }
    )
    return customers, events


def test_md5_of_phone_and_sha256_of_email_are_flagged():
    customers, events = frames()
    out = run(
        Pseudonymisation,
        context(dataset("customers", customers, id="customer_id"), dataset("events", events, id="event_id")),
    )
    assert statuses(out) == {"dataset:customers": "pass", "dataset:events": "fail"}
    o = out["dataset:events"]
    assert o.observed == 2
    unkeyed = o.evidence["unkeyed_hash_columns"]
    assert unkeyed["phone_md5"]["source"] == "customers.phone" and unkeyed["phone_md5"]["algorithm"] == "md5"
    assert unkeyed["phone_md5"]["normalisation"] == "digits only" and unkeyed["phone_md5"]["reversed_share"] == 1.0
    assert (
        unkeyed["email_sha256"]["source"] == "customers.email"
        and unkeyed["email_sha256"]["normalisation"] == "lower-case"
    )
    assert o.evidence["tokenised_or_keyed_columns"] == ["customer_key"]
    assert "phone_md5 = md5(customers.phone, digits only)" in o.message and "HMAC" in o.message


def test_same_dataset_hash_beside_clear_value():
    customers, events = frames()
    customers["phone_hash"] = events["phone_md5"]
    out = run(Pseudonymisation, context(dataset("customers", customers, id="customer_id")))
    o = out["dataset:customers"]
    assert o.status is Status.FAIL and list(o.evidence["unkeyed_hash_columns"]) == ["phone_hash"]
    assert set(o.evidence["clear_identifier_columns"]) == {"customer_id", "phone", "email"}


def test_keyed_hash_alone_passes():
    _, events = frames()
    out = run(Pseudonymisation, context(dataset("events", events[["event_id", "customer_key"]], id="event_id")))
    o = out["dataset:events"]
    assert o.status is Status.PASS and o.evidence["hash_like_columns"] == {"customer_key": 64}
    assert "keying cannot be confirmed from data" in o.message


def test_no_cross_dataset_search_when_disabled():
    customers, events = frames()
    ctx = context(dataset("customers", customers, id="customer_id"), dataset("events", events, id="event_id"))
    out = run(Pseudonymisation, ctx, search_all_datasets=False)
    assert out["dataset:events"].status is Status.PASS
