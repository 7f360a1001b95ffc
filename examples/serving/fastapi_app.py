"""An existing FastAPI scoring service that writes the crm-audit decision log.

    export CRM_AUDIT_LOG_KEY=$(python -c "import secrets; print(secrets.token_hex(32))")
    DECISION_LOG=decision-log uvicorn --app-dir examples/serving fastapi_app:app --port 8080
    crm-audit log verify decision-log

The logger's write is blocking (fsync), so the endpoint is a plain ``def``: FastAPI runs it in
its thread pool and the event loop never waits on the disk.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, HTTPException

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import BANDS, PROTECTED, SCORER, score_customer  # noqa: E402

from audit.decisions.api import DecisionLogger  # noqa: E402

app = FastAPI(title="churn scoring")
logger = DecisionLogger(
    os.environ.get("DECISION_LOG", "decision-log"),
    model_name=SCORER.name,
    model_version=SCORER.version,
    protected=PROTECTED,
    bands=BANDS,
    excluded_reasons=SCORER.excluded_reasons,
    policy={"packs": ["default@1.0.0"]},
)
logged_score = logger.logged(score_customer)


@app.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "model": {"name": logger.model_name, "version": logger.model_version}}


@app.post("/predict")
def predict(customer: dict[str, Any] = Body(...)) -> dict[str, Any]:
    if "customer_id" not in customer:
        raise HTTPException(status_code=400, detail="customer_id is required")
    try:
        return logged_score(customer)
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
