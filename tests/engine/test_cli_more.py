from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
TELCO = ROOT / "examples" / "telco"
SAMPLE = 'id,note,amount\n1,"Call me at 415-555-0134 or mail jane.roe@example.com",10\n2,"no personal data here",5\n3,"身份证号11010519491231002X 请核对",7\n'


def test_scan_pii_json_spans_and_masked_table(tmp_path, capsys):
    data = tmp_path / "notes.csv"
    data.write_text(SAMPLE, encoding="utf-8")
    assert main(["scan-pii", "--data", str(data), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    spans = {(s["row"], s["column"], s["entity_type"], s["start"], s["end"]) for s in doc["spans"]}
    assert spans == {(0, "note", "PHONE_NUMBER", 11, 23), (0, "note", "EMAIL_ADDRESS", 32, 52), (2, "note", "CN_RESIDENT_ID", 4, 22)}
    assert main(["scan-pii", "--data", str(data), "--column", "note"]) == 0
    table = capsys.readouterr().out
    assert "<EMAIL_ADDRESS>" in table and "jane.roe@example.com" not in table and "11010519491231002X" not in table
    assert main(["scan-pii", "--data", str(data), "--column", "nope"]) == 2


def _config_for(tmp_path: Path, source: str) -> Path:
    cfg = (TELCO / "audit.yaml").read_text().replace("      path: telco_customers.csv", source)
    p = tmp_path / "audit.yaml"
    p.write_text(cfg)
    return p


@pytest.mark.parametrize("kind", ["sqlite", "parquet"])
def test_sqlite_and_parquet_sources(tmp_path, kind):
    frame = pd.read_csv(TELCO / "telco_customers.csv")
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "crm.db") as conn:
            frame.to_sql("customers", conn, index=False)
        cfg = _config_for(tmp_path, "      url: sqlite:///" + str(tmp_path / "crm.db") + "\n      table: customers")
    else:
        frame.to_parquet(tmp_path / "telco.parquet")
        cfg = _config_for(tmp_path, "      path: telco.parquet")
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--out", str(out)]) in (0, 1)
    doc = json.loads((out / "findings.json").read_text())
    assert doc["datasets"][0]["rows"] == len(frame)
    assert doc["models"][0]["metrics"]["roc_auc"] is not None


def test_sql_source_needs_table_or_query(tmp_path, capsys):
    cfg = _config_for(tmp_path, "      url: sqlite:///x.db")
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "needs 'table' or 'query'" in capsys.readouterr().err


def test_demo_data_command(tmp_path):
    assert main(["demo-data", "--out", str(tmp_path / "d"), "--customers", "300"]) == 0
    names = {p.name for p in (tmp_path / "d").iterdir()}
    assert {"customers.csv", "feedback.csv", "tickets.csv", "transcripts.csv", "ratings.csv", "planted.json"} <= names
    assert len(pd.read_csv(tmp_path / "d" / "customers.csv")) == 300
    assert main(["demo-data", "--out", str(tmp_path / "e"), "--customers", "10"]) == 2


@pytest.mark.slow
def test_explain_for_a_demo_customer_and_an_unknown_id(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["explain", "--id", "C000123", "--customers", "600", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    kinds = {d["kind"] for d in doc["decisions"]}
    assert {"segmentation", "classifier", "regressor", "recommender"} <= kinds
    for d in doc["decisions"]:
        assert "error" not in d, d
        if d["kind"] == "classifier":
            assert len(d["reasons"]) <= 4
            assert not {"gender", "age", "age_band", "region", "email"} & set(" ".join(d["reasons"]).lower().split())
    assert "GDPR Art. 22" in doc["regulations"]
    pdf = tmp_path / "c.pdf"
    assert main(["explain", "--id", "C000123", "--customers", "600", "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    assert main(["explain", "--id", "NOPE", "--customers", "600"]) == 2
    assert "unknown customer id 'NOPE'" in capsys.readouterr().err
