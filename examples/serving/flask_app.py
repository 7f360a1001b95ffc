"""An existing Flask scoring service that writes the crm-audit decision log.

    export CRM_AUDIT_LOG_KEY=$(python -c "import secrets; print(secrets.token_hex(32))")
    DECISION_LOG=decision-log flask --app examples/serving/flask_app.py run --port 8080
    crm-audit log verify decision-log
    crm-audit monitor --log decision-log

The decision is written (and fsync'd) before the response leaves; a request that fails
validation is answered 400 and writes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import BANDS, PROTECTED, SCORER, score_customer  # noqa: E402

from audit.decisions.api import DecisionLogger  # noqa: E402

app = Flask(__name__)
logger = DecisionLogger(
    os.environ.get("DECISION_LOG", "decision-log"),
    model_name=SCORER.name,
    model_version=SCORER.version,  # or model_file="churn.skops": its sha256 is recorded
    protected=PROTECTED,
    bands=BANDS,
    excluded_reasons=SCORER.excluded_reasons,
    policy={"packs": ["default@1.0.0"]},
)
logged_score = logger.logged(score_customer)


@app.get("/health")
def health():
    return jsonify(status="ok", model={"name": logger.model_name, "version": logger.model_version})


@app.post("/predict")
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "customer_id" not in body:
        return jsonify(error="send one customer as a JSON object with customer_id"), 400
    try:
        return jsonify(logged_score(body))
    except (ValueError, KeyError, TypeError) as exc:
        return jsonify(error=str(exc)), 400
