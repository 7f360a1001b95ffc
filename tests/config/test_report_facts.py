"""A whole run on a generated credit-style export: what the report and manifest say about the data."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd

from audit.cli import main


def test_credit_export_reads_as_words_and_states_its_preparation(project):
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(15, 75, n),
            "personal_status": rng.choice(["A91", "A92", "A93", "A94"], n),
            "amount": rng.normal(3000, 900, n).round(0),
            "duration": rng.integers(6, 60, n),
            "credit_risk": rng.choice([1, 2], n, p=[0.7, 0.3]),  # 1 = good, 2 = bad
        }
    )
    df["amount"] = df["amount"].astype(object)
    df.loc[:11, "amount"] = "?"
    project.write("credit.csv", df.to_csv(sep=";", index=False).encode("latin-1"))
    project.config(
        """
datasets:
  credit:
    source: {path: credit.csv}
    roles: {id: id, protected: [personal_status, age], target: credit_risk}
    bands: {age: [18, 30, 45, 60]}
    positive_labels: ['2']
    value_labels:
      personal_status: {A91: 'male, divorced', A92: 'female', A93: 'male, single', A94: 'male, married'}
models:
  - {name: credit_lr, dataset: credit, algorithm: logistic_regression, adverse_outcome: positive}
"""
    )
    out = project.root / "out"
    assert main(["run", "--config", str(project.root / "audit.yaml"), "--out", str(out), "--format", "json,html,md,junit,sarif"]) in (0, 1)
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    for name, text in texts.items():
        assert not re.search(r"np\.(int|float|bool|str)\w*\(", text), name
    doc = json.loads(texts["findings.json"])
    ds = doc["datasets"][0]
    assert ds["reading"]["sep"] == ";" and ds["reading"]["encoding"] == "utf-8"  # ASCII content is valid UTF-8
    assert ds["preprocessing"]["missing_cells"] == {"amount": 12}
    assert ds["preprocessing"]["positive_class"]["credit_lr"]["positive"] == "2"
    manifest = json.loads(texts["manifest.json"])
    assert next(i for i in manifest["inputs"] if i["role"] == "dataset")["read"]["sep_name"] == "semicolon"
    report = html.unescape(re.sub(r"<[^>]+>", " ", texts["report.html"]))
    report = " ".join(report.split())
    assert "read as CSV; separator ';' (semicolon, sniffed); encoding utf-8 (sniffed)" in report
    assert "missing cells amount (12)" in report
    assert "positive class (credit_lr) 2 of target 'credit_risk' (declared in positive_labels); values: 1 (n=" in report
    assert "seed 0; test_size and seed are set in audit.yaml" in report and "at most 30 columns per attribute" in report
    groups = {r["group"] for f in doc["findings"] if f["check_id"] == "fairness.demographic_parity_difference" for r in f["evidence"].get("by_group", [])}
    assert {"male, divorced", "female", "male, single", "male, married"} <= groups
    assert "<18" in groups
    miss_age = [f for f in doc["findings"] if f["check_id"] == "dq.missingness" and f["subject"].endswith("by:age")]
    if miss_age and miss_age[0]["evidence"].get("group_sizes"):
        assert "<18" in miss_age[0]["evidence"]["group_sizes"]
    assert "A93" not in " ".join(f["message"] for f in doc["findings"])
