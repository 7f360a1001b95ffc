from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
TELCO = ROOT / "examples" / "telco"


@pytest.fixture
def telco(tmp_path: Path) -> Path:
    dst = tmp_path / "telco"
    shutil.copytree(TELCO, dst)
    return dst


def test_run_on_config_writes_six_outputs_and_verify(telco, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--config", str(telco / "audit.yaml"), "--out", str(out)])
    assert code in (0, 1)
    names = {p.name for p in out.iterdir()}
    assert names == {"findings.json", "report.html", "junit.xml", "results.sarif", "summary.md", "manifest.json"}
    findings = json.loads((out / "findings.json").read_text())
    assert findings["models"][0]["name"] == "churn_lr" and "roc_auc" in findings["models"][0]["metrics"]
    assert code == (0 if findings["gate"]["passed"] else 1)
    assert main(["verify", str(out)]) == 0
    (telco / "telco_customers.csv").write_text((telco / "telco_customers.csv").read_text() + "\n")
    assert main(["verify", str(out)]) == 1
    # baseline: the same audit again has no new findings, so --fail-on-new passes
    out2 = tmp_path / "out2"
    shutil.copy(TELCO / "telco_customers.csv", telco / "telco_customers.csv")
    code2 = main(["run", "--config", str(telco / "audit.yaml"), "--out", str(out2), "--baseline", str(out / "findings.json"), "--fail-on-new", "--fail-on", "low"])
    assert code2 == 0
    second = json.loads((out2 / "findings.json").read_text())
    assert {f["baseline"] for f in second["findings"] if f["status"] == "fail"} == {"unchanged"}
    capsys.readouterr()
    assert main(["diff", str(out / "findings.json"), str(out2 / "findings.json")]) == 0
    assert "new: 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (lambda t: t.replace("target: Churn", "target: Churnn"), "column 'Churnn' named in the config is not in dataset"),
        (lambda t: t.replace("policies: [default]", "policies: [defualt]"), "unknown policy pack"),
        (lambda t: t.replace("roles:", "rolez:"), "unknown key 'rolez'"),
        (lambda t: t.replace("path: telco_customers.csv", "path: missing.csv"), "data file not found"),
    ],
)
def test_bad_config_exits_2_with_located_message(telco, tmp_path, capsys, mutate, expect):
    cfg = telco / "audit.yaml"
    cfg.write_text(mutate(cfg.read_text()))
    out = tmp_path / "o"
    assert main(["run", "--config", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expect in err and "audit.yaml" in err
    assert not out.exists()


def test_empty_dataset_and_corrupt_model(telco, tmp_path, capsys):
    (telco / "empty.csv").write_text("customerID,Churn\n")
    cfg = telco / "audit.yaml"
    text = cfg.read_text()
    cfg.write_text(text.replace("path: telco_customers.csv", "path: empty.csv"))
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "is empty" in capsys.readouterr().err
    (telco / "model.skops").write_bytes(b"not a zip file")
    cfg.write_text(text.replace("source: train", "source: skops\n    path: model.skops"))
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "not a readable skops file" in capsys.readouterr().err
    (telco / "model.pkl").write_bytes(b"\x80\x04junk")
    cfg.write_text(text.replace("source: train", "source: pickle\n    path: model.pkl"))
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "refusing to load model.pkl with pickle" in capsys.readouterr().err


def test_skops_model_needs_trusted_types(telco, tmp_path, capsys):
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(telco / "telco_customers.csv")
    model = LogisticRegression().fit(df[["tenure", "MonthlyCharges"]], df["Churn"] == "Yes")
    sio.dump(model, telco / "model.skops")
    cfg = telco / "audit.yaml"
    text = cfg.read_text().replace("source: train", "source: skops\n    path: model.skops").replace(
        "features: [tenure, Contract, PaymentMethod, MonthlyCharges, TotalCharges, InternetService, PaperlessBilling]", "features: [tenure, MonthlyCharges]"
    )
    cfg.write_text(text)
    untrusted = sio.get_untrusted_types(file=telco / "model.skops")
    if untrusted:
        assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
        assert "trusted_types" in capsys.readouterr().err
        cfg.write_text(text.replace("    features: [tenure, MonthlyCharges]", f"    features: [tenure, MonthlyCharges]\n    trusted_types: {json.dumps(untrusted)}"))
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "o2")]) in (0, 1)
    models = json.loads((tmp_path / "o2" / "findings.json").read_text())["models"]
    assert models[0]["algorithm"] == "LogisticRegression"


def test_predictions_file_model(telco, tmp_path):
    import pandas as pd

    df = pd.read_csv(telco / "telco_customers.csv").drop_duplicates("customerID").dropna(subset=["Churn"])
    preds = pd.DataFrame({"id": df["customerID"], "y_true": df["Churn"], "y_pred": df["Churn"], "score": (df["Churn"] == "Yes").astype(float)})
    preds.to_csv(telco / "preds.csv", index=False)
    cfg = telco / "audit.yaml"
    cfg.write_text(cfg.read_text().replace("source: train", "source: predictions\n    path: preds.csv"))
    out = tmp_path / "o"
    assert main(["run", "--config", str(cfg), "--out", str(out)]) in (0, 1)
    doc = json.loads((out / "findings.json").read_text())
    assert any("explanations (SHAP, reason codes) are not available" in x for x in doc["limitations"])


def test_policy_commands(tmp_path, capsys):
    assert main(["policy", "list"]) == 0
    assert "default" in capsys.readouterr().out
    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False and "metadata" in schema["properties"]
    bad = tmp_path / "bad.yaml"
    bad.write_text('metadata: {id: x, title: X, version: "1", jurisdiction: EU}\nchecks:\n  - id: dq.missingness\n    parms: {}\n')
    assert main(["policy", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4" in err and "parms" in err and "allowed keys" in err
    assert main(["policy", "validate", str(tmp_path / "nope.yaml")]) == 2
    assert main(["policy", "show", "default"]) == 0


def test_checks_json_and_catalogue_up_to_date(capsys):
    assert main(["checks", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "title", "category", "severity", "subjects", "regulations", "threshold_provenance", "params"} <= set(rows[0])
    assert main(["catalogue", "--out", str(ROOT / "docs" / "checks.md"), "--check"]) == 0, "docs/checks.md is stale: run `crm-audit catalogue`"


def test_init_guesses_roles(tmp_path):
    out = tmp_path / "audit.yaml"
    assert main(["init", "--data", str(TELCO / "telco_customers.csv"), "--out", str(out)]) == 0
    import yaml

    cfg = yaml.safe_load(out.read_text())
    roles = next(iter(cfg["datasets"].values()))["roles"]
    assert roles["id"] == "customerID" and roles["target"] == "Churn" and "gender" in roles["protected"]
    assert main(["init", "--data", str(TELCO / "telco_customers.csv"), "--out", str(out)]) == 2  # exists
    assert main(["run", "--config", str(out), "--out", str(tmp_path / "o")]) in (0, 1)


def test_usage_errors_exit_2(capsys):
    assert main(["run", "--fail-on", "severe"]) == 2
    assert main(["run", "--format", "html,docx"]) == 2
    assert main(["nonsense"]) == 2
