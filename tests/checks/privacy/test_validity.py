"""dq.validity, dq.cn_id_consistency and dq.retention on small frames with known defects."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from audit.checks.data_quality.retention import Retention
from audit.checks.data_quality.validity import CnIdConsistency, Validity
from audit.core.types import Status

from .helpers import AS_OF, context, dataset, days_before, resident_id, run, statuses

N = 120


def validity_frame() -> pd.DataFrame:
    ids = [resident_id(date(1960 + i % 40, 1 + i % 12, 1 + i % 28), "male" if i % 2 else "female") for i in range(N)]
    ids[5] = ids[5][:-1] + ("0" if ids[5][-1] != "0" else "1")  # wrong check character
    ids[11] = ids[11][:6] + ids[11][8:17]  # the same person's legacy 15-digit number: valid, counted apart
    cards = ["4111 1111 1111 1111", "6222 0200 0000 0000 000"] * (N // 2)
    cards[7] = "4111 1111 1111 1112"  # fails Luhn
    phones = [f"139{10000000 + i:08d}" for i in range(N)]
    phones[9] = "15412345678"  # unallocated prefix 154
    phones[10] = "+44 7700 900123"  # not a Chinese mobile: not judged by the prefix rule
    ages = [30 + i % 40 for i in range(N)]
    ages[3], ages[4] = 130, -1
    signup = [days_before(10 * i) for i in range(N)]
    signup[6] = date(2025, 7, 2)  # after the as-of date
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(N)],
            "age": ages,
            "id_card": ids,
            "card_number": cards,
            "mobile": phones,
            "signup": signup,
        }
    )


def test_validity_rules_and_invalid_rows():
    ds = dataset("crm", validity_frame(), id="customer_id", timestamps=["signup"])
    out = run(Validity, context(ds), as_of=AS_OF)
    assert statuses(out) == {
        "dataset:crm/column:age/range": "fail",
        "dataset:crm/column:signup/future_dates": "pass",
        "dataset:crm/column:id_card/checksum": "pass",
        "dataset:crm/column:card_number/checksum": "pass",
        "dataset:crm/column:mobile/cn_mobile_prefix": "pass",
    }
    age = out["dataset:crm/column:age/range"]
    assert age.observed == pytest.approx(118 / 120) and age.evidence["invalid_row_ids"] == ["C003", "C004"]
    assert out["dataset:crm/column:signup/future_dates"].evidence["invalid_row_ids"] == ["C006"]
    assert out["dataset:crm/column:id_card/checksum"].evidence["invalid_row_ids"] == ["C005"]
    assert out["dataset:crm/column:id_card/checksum"].evidence["legacy_15_digit"] == 1
    assert out["dataset:crm/column:card_number/checksum"].evidence["invalid_row_ids"] == ["C007"]
    mobile = out["dataset:crm/column:mobile/cn_mobile_prefix"]
    assert mobile.evidence["values_checked"] == 119 and mobile.evidence["invalid_row_ids"] == ["C009"]
    assert mobile.evidence["values_not_cn_mobile"] == 1


def test_validity_threshold_catches_single_defects_in_small_data():
    ds = dataset("crm", validity_frame().head(20), id="customer_id", timestamps=["signup"])
    out = run(Validity, context(ds), as_of=AS_OF)
    assert {k for k, v in statuses(out).items() if v == "fail"} == {
        "dataset:crm/column:age/range",
        "dataset:crm/column:signup/future_dates",
        "dataset:crm/column:id_card/checksum",
        "dataset:crm/column:card_number/checksum",
        "dataset:crm/column:mobile/cn_mobile_prefix",
    }


def test_validity_skips_when_nothing_to_validate():
    out = run(Validity, context(dataset("x", pd.DataFrame({"a": ["p", "q"]}))))
    assert statuses(out) == {"dataset:x": "skipped"}


def consistency_frame() -> pd.DataFrame:
    rows = []
    for i in range(12):
        born = date(1970 + i, 3, 15)
        sex = "male" if i % 2 else "female"
        rows.append(
            {
                "customer_id": f"C{i:02d}",
                "id_card": resident_id(born, sex),
                "gender": "M" if sex == "male" else "F",
                "birth_date": born,
            }
        )
    rows[2]["id_card"] = resident_id(date(1972, 3, 15), "male")  # recorded F, 17th digit odd: wrong sex digit
    rows[4]["birth_date"] = date(1974, 4, 15)  # recorded birth date differs from the ID's
    rows[6]["gender"] = "unknown"
    rows[8]["id_card"] = "not an id"
    return pd.DataFrame(rows)


def test_cn_id_consistency_counts_wrong_sex_digit_and_birth_date():
    out = run(CnIdConsistency, context(dataset("crm", consistency_frame(), id="customer_id")), as_of=AS_OF)
    o = out["dataset:crm/column:id_card"]
    assert o.status is Status.FAIL
    ev = o.evidence
    assert ev["sex_mismatches"] == 1 and ev["birth_date_mismatches"] == 1 and ev["age_mismatches"] == 0
    assert ev["mismatch_row_ids"] == ["C02", "C04"]
    assert ev["rows_compared"] == 11 and ev["invalid_or_empty_ids"] == 1
    assert o.observed == pytest.approx(2 / 11)


def test_cn_id_consistency_with_age_column_and_tolerance():
    frame = consistency_frame().drop(columns=["birth_date", "gender"])
    frame["age"] = [AS_OF.year - (1970 + i) for i in range(12)]  # birthday 15 March: already had it this year
    frame.loc[0, "age"] += 1  # off by one: tolerated
    frame.loc[1, "age"] += 3  # off by three
    frame.loc[11, "age"] = 55
    out = run(CnIdConsistency, context(dataset("crm", frame, id="customer_id")), as_of=AS_OF)
    ev = out["dataset:crm/column:id_card"].evidence
    assert ev["compared_with"] == {"birth_date": None, "age": "age", "gender": None}
    assert ev["mismatch_row_ids"] == ["C01", "C11"] and ev["age_mismatches"] == 2
    strict = run(CnIdConsistency, context(dataset("crm", frame, id="customer_id")), as_of=AS_OF, age_tolerance=0)
    assert strict["dataset:crm/column:id_card"].evidence["mismatch_row_ids"] == ["C00", "C01", "C11"]


def test_cn_id_consistency_skips_with_reason():
    no_id = pd.DataFrame({"customer_id": ["C1"], "gender": ["F"]})
    no_fields = pd.DataFrame({"customer_id": ["C1"], "id_card": [resident_id(date(1990, 1, 1), "male")]})
    out = run(
        CnIdConsistency, context(dataset("a", no_id, id="customer_id"), dataset("b", no_fields, id="customer_id"))
    )
    assert statuses(out) == {"dataset:a": "skipped", "dataset:b": "skipped"}
    assert "no resident-ID column" in out["dataset:a"].message
    assert "no recorded birth date, age or gender" in out["dataset:b"].message


def retention_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "signup_date": [days_before(4000), days_before(3000), days_before(2500), days_before(100), None],
            "last_active": [days_before(3900), days_before(200), days_before(2400), days_before(50), None],
            "legal_hold": [False, False, True, False, False],
        }
    )


def test_retention_counts_expired_records_without_hold():
    ds = dataset("crm", retention_frame(), id="customer_id", timestamps=["signup_date", "last_active"])
    out = run(Retention, context(ds), retention_days=1825, legal_hold_column="legal_hold", as_of=AS_OF)
    o = out["dataset:crm"]
    assert o.status is Status.FAIL and o.observed == 1
    ev = o.evidence
    assert ev["expired_row_ids"] == ["C1"] and ev["older_than_period"] == 2 and ev["under_legal_hold"] == 1
    assert ev["undated_rows"] == 1 and ev["cutoff"] == "2020-07-01"
    without_hold = run(Retention, context(ds), retention_days=1825, as_of=AS_OF)["dataset:crm"]
    assert without_hold.evidence["expired_row_ids"] == ["C1", "C3"]


def test_retention_skips_without_period_or_dates():
    ds = dataset("crm", retention_frame(), id="customer_id", timestamps=["signup_date"])
    plain = dataset("plain", pd.DataFrame({"id": [1], "x": ["a"]}), id="id")
    out = run(Retention, context(ds, plain))
    assert statuses(out) == {"dataset:crm": "skipped", "dataset:plain": "skipped"}
    assert "declare retention_days in the policy" in out["dataset:crm"].message
    dated = run(Retention, context(ds, plain), retention_days=30, as_of=AS_OF)
    assert statuses(dated) == {"dataset:crm": "fail", "dataset:plain": "skipped"}


def test_retention_detects_undeclared_date_columns():
    frame = pd.DataFrame(
        {"ticket_id": ["K1", "K2"], "created_at": [days_before(10), days_before(900)], "text": ["a", "b"]}
    )
    out = run(
        Retention, context(dataset("tickets", frame, id="ticket_id", text=["text"])), retention_days=365, as_of=AS_OF
    )
    assert out["dataset:tickets"].evidence["activity_columns"] == ["created_at"]
    assert out["dataset:tickets"].evidence["expired_row_ids"] == ["K2"]
