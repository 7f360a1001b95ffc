from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from audit.decisions import Pseudonymiser, scan_log
from audit.decisions.api import DecisionLogger

ROOT = Path(__file__).resolve().parents[2]
KEY = "0123456789abcdef0123456789abcdef"


def test_decorator_logs_after_the_model_and_strips_protected(tmp_path):
    seen = []
    logger = DecisionLogger(tmp_path / "log", model_name="m", model_version="v1", key=KEY.encode(), protected=["age"], bands={"age": [18, 30, 121]}, excluded_reasons=["postcode"])

    @logger.logged
    def score(customer):
        seen.append(dict(customer))
        return {"score": 0.7, "decision": "flagged", "reasons": [{"feature": "postcode", "text": "p"}, {"feature": "recency", "text": "r"}]}

    out = score({"customer_id": 7, "recency": 3, "postcode": "AB1", "age": 25})
    assert seen == [{"customer_id": 7, "recency": 3, "postcode": "AB1"}]
    assert out["reasons"] == [{"feature": "recency", "text": "r"}] and out["log"]["seq"] == 1
    recs: list[dict] = []
    assert scan_log(tmp_path / "log", sink=recs.append).ok
    assert recs[0]["groups"] == {"age": "18-29"} and recs[0]["subject"] == Pseudonymiser(KEY.encode()).pseudonym(7)

    @logger.logged
    def broken(customer):
        raise ValueError("model failed")

    with pytest.raises(ValueError):
        broken({"customer_id": 8, "recency": 1})
    assert scan_log(tmp_path / "log").records == 1


def test_model_file_is_hashed(tmp_path):
    f = tmp_path / "model.skops"
    f.write_bytes(b"model bytes")
    logger = DecisionLogger(tmp_path / "log", model_name="m", model_file=f, key=KEY.encode())
    assert logger.model_version == "sha256:" + __import__("hashlib").sha256(b"model bytes").hexdigest()
    with pytest.raises(ValueError, match="exactly one"):
        DecisionLogger(tmp_path / "log", model_name="m", key=KEY.encode())


def _load(name: str, monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_AUDIT_LOG_KEY", KEY)
    monkeypatch.setenv("DECISION_LOG", str(tmp_path / "log"))
    path = ROOT / "examples" / "serving" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CUSTOMER = {"customer_id": "C-9", "tenure_months": 30, "income": 41000.0, "region": "Suburbs", "consent_marketing": True, "recency": 12, "frequency": 9, "monetary": 640.0, "n_tickets": 0, "age": 33, "gender": "M"}


@pytest.mark.slow
def test_flask_and_fastapi_examples_write_the_same_log(tmp_path, monkeypatch):
    flask_mod = _load("flask_app", monkeypatch, tmp_path)
    client = flask_mod.app.test_client()
    r = client.post("/predict", json=CUSTOMER)
    assert r.status_code == 200 and r.get_json()["log"]["seq"] == 1
    bad = client.post("/predict", json={k: v for k, v in CUSTOMER.items() if k != "recency"})
    assert bad.status_code == 400 and "recency" in bad.get_json()["error"]
    flask_mod.logger.close()

    from fastapi.testclient import TestClient

    fast_mod = _load("fastapi_app", monkeypatch, tmp_path)
    with TestClient(fast_mod.app) as c:
        r2 = c.post("/predict", json={**CUSTOMER, "customer_id": "C-10"})
        assert r2.status_code == 200 and r2.json()["log"]["seq"] == 2
        assert c.post("/predict", json={"recency": 1}).status_code == 400
    recs: list[dict] = []
    v = scan_log(tmp_path / "log", sink=recs.append)
    assert v.ok and v.records == 2
    assert recs[0]["groups"] == {"age": "30-44", "gender": "M"} and "age" not in recs[0]["features"]
    assert json.dumps(recs).count("C-9") == 0
    sys.path.remove(str(ROOT / "examples" / "serving")) if str(ROOT / "examples" / "serving") in sys.path else None
