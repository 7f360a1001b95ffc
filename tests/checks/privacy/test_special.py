"""pii.special_category (column names, texts, attestation) and pii.cn_minor (children under 14)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from audit.checks.governance.dpia import DPIATrigger
from audit.checks.privacy.special import ChineseMinors, SpecialCategory
from audit.core.context import Attestation
from audit.core.types import Status

from .helpers import AS_OF, context, dataset, resident_id, run, statuses


def special_context():
    customers = pd.DataFrame(
        {"customer_id": ["C1", "C2"], "religion": ["a", "b"], "diagnosis_code": ["x", "y"], "spend": [1.0, 2.0]}
    )
    notes = pd.DataFrame(
        {
            "note_id": ["N1", "N2", "N3", "N4"],
            "text": ["I was diagnosed with diabetes last year.", "Delivery was late.", "我怀孕了，想改地址。", None],
        }
    )
    plain = pd.DataFrame({"order_id": [1], "amount": [3.0]})
    return context(
        dataset("customers", customers, id="customer_id"),
        dataset("notes", notes, id="note_id", text=["text"]),
        dataset("orders", plain, id="order_id"),
    )


def test_columns_and_texts_fail_without_attestation():
    ctx = special_context()
    out = run(SpecialCategory, ctx)
    assert statuses(out) == {
        "dataset:customers": "fail",
        "dataset:notes": "pass",
        "dataset:orders": "pass",
        "dataset:notes/column:text": "fail",
    }
    cols = out["dataset:customers"].evidence["columns_by_category"]
    assert cols == {"health": ["diagnosis_code"], "religion": ["religion"]}
    text = out["dataset:notes/column:text"]
    assert text.evidence["rows_by_category"] == {"health": ["N1", "N3"]}
    assert text.observed == 2 and "special_category_legal_basis" in text.message
    assert ctx.facts.special_category_hits == {
        "dataset:customers": {"health": 1, "religion": 1},
        "dataset:notes/column:text": {"health": 2},
    }
    assert out["dataset:customers"].evidence["legal_basis_refs"]["religion"]


def test_answered_attestation_passes():
    ctx = special_context()
    ctx.attestations = {"special_category_legal_basis": Attestation(answered=True, attested_by="DPO", date="2025-05-01")}
    out = run(SpecialCategory, ctx)
    assert set(statuses(out).values()) == {"pass"}
    assert "attested by DPO on 2025-05-01" in out["dataset:customers"].message
    assert ctx.facts.special_category_hits  # still recorded for the DPIA trigger


def test_dpia_sees_special_categories_and_minors():
    ctx = special_context()
    run(SpecialCategory, ctx)
    ctx.facts.minors_found = True
    crit = run(DPIATrigger, ctx)["system"].evidence["criteria"]
    assert crit["sensitive_data"]["met"] and crit["vulnerable_data_subjects"]["met"]


def minors_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "id_card": [
                resident_id(date(1980, 5, 1), "male"),
                resident_id(date(2015, 3, 1), "female"),  # 10 years old on the as-of date
                resident_id(date(2011, 6, 30), "male"),  # turns 14 on the as-of date: not a minor under 14
                "12345",
                None,
            ],
            "age": [45, 10, 14, 12, 30],
        }
    )


def test_child_resident_id_and_age_found():
    ctx = context(dataset("kids", minors_frame(), id="customer_id"))
    out = run(ChineseMinors, ctx, as_of=AS_OF)
    o = out["dataset:kids"]
    assert o.status is Status.FAIL and o.observed == 2
    assert o.evidence["minor_row_ids"] == ["C2", "C4"]
    assert o.evidence["minors_by_column"] == {"id_card": 1, "age": 2}
    assert o.evidence["values_checked"] == {"id_card": 3, "age": 5}
    assert ctx.facts.minors_found is True
    assert "guardian consent" in o.message and "regulatory threshold" in o.message


def test_resident_ids_detected_by_value_shape():
    frame = minors_frame().rename(columns={"id_card": "doc"}).drop(columns=["age"])
    frame.loc[3, "doc"] = resident_id(date(1990, 1, 1), "male")
    out = run(ChineseMinors, context(dataset("kids", frame, id="customer_id")), as_of=AS_OF)
    assert out["dataset:kids"].evidence["resident_id_columns"] == ["doc"]
    assert out["dataset:kids"].evidence["minor_row_ids"] == ["C2"]


def test_adults_pass_and_no_source_skips():
    adults = pd.DataFrame({"id": [1, 2], "age": [30, 17]})
    nothing = pd.DataFrame({"id": [1], "city": ["x"]})
    ctx = context(dataset("adults", adults, id="id"), dataset("nothing", nothing, id="id"))
    out = run(ChineseMinors, ctx, as_of=AS_OF)
    assert statuses(out) == {"dataset:adults": "pass", "dataset:nothing": "skipped"}
    assert "14-17 year olds are not flagged" in out["dataset:adults"].message
    assert not ctx.facts.minors_found
