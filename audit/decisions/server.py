"""`crm-audit serve`: a scoring service that writes the decision log.

Standard library HTTP server (one thread per connection). Endpoints:

- ``POST /predict``: one customer object, or ``{"customers": [...]}`` (at most 1000). Answers score,
  decision and reasons per customer after the records are fsync'd to the log. A bad request gets a
  4xx JSON error and writes nothing; a batch is all-or-nothing.
- ``GET /health``: model name and version, log folder, records written, the log's head.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from audit.decisions.log import DecisionLogWriter
from audit.decisions.record import Pseudonymiser, build_record
from audit.decisions.scoring import RequestError, Scorer

MAX_BODY = 1 << 20  # 1 MiB


class ScoringService:
    """Scoring plus logging, independent of HTTP (the handler is a thin shell on this)."""

    def __init__(self, scorer: Scorer, log_dir: str | Path | None, *, pseudonymiser: Pseudonymiser, policy: dict[str, Any], features_mode: str = "values") -> None:
        self.scorer = scorer
        self.writer = DecisionLogWriter(log_dir) if log_dir is not None else None
        self.pseudonymiser = pseudonymiser
        self.policy = policy
        self.features_mode = features_mode
        self.started = time.time()
        self.count = 0
        self.head: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def predict(self, payload: Any) -> tuple[Any, list[dict[str, Any]]]:
        customers, batch = self.scorer.parse(payload)
        results = self.scorer.score(customers)
        request_id = uuid.uuid4().hex
        records = [
            build_record(
                pseudonymiser=self.pseudonymiser,
                customer_id=c.customer_id,
                model_name=self.scorer.name,
                model_version=self.scorer.version,
                features=c.features,
                score=r["score"],
                decision=r["decision"],
                reasons=r["reasons"],
                excluded=self.scorer.excluded_reasons + self.scorer.protected,
                groups=c.groups,
                features_mode=self.features_mode,
                policy=self.policy,
                request_id=request_id,
                favourable=r["decision"] == self.scorer.decision_labels[1],
            )
            for c, r in zip(customers, results)
        ]
        stored = self.writer.append(records) if self.writer is not None else []
        for r, s in zip(results, stored):
            r["log"] = {"seq": s["seq"], "hash": s["hash"]}
        with self._lock:
            self.count += len(results)
            if stored:
                self.head = {"seq": stored[-1]["seq"], "hash": stored[-1]["hash"]}
        body: Any = {"results": results, "model": self.model_info()} if batch else {**results[0], "model": self.model_info()}
        return body, stored

    def model_info(self) -> dict[str, Any]:
        return {"name": self.scorer.name, "version": self.scorer.version}

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "model": {**self.model_info(), "version_of": self.scorer.version_source, "features": self.scorer.features, "decisions": list(self.scorer.decision_labels)},
            "log": str(self.writer.directory) if self.writer is not None else None,
            "logging": self.writer is not None,
            "decisions_written": self.count,
            "head": self.head,
            "uptime_s": round(time.time() - self.started, 1),
        }


def make_handler(service: ScoringService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "crm-audit"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # request lines would go to stderr for every call; the decision log is the record

        def _send(self, status: int, body: Any) -> None:
            data = (json.dumps(body, ensure_ascii=False) + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: HTTPStatus, message: str, **extra: Any) -> None:
            self._send(status, {"error": message, "status": int(status), **extra})

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path.split("?")[0] == "/health":
                self._send(HTTPStatus.OK, service.health())
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: GET {self.path}; use POST /predict or GET /health")

        def do_POST(self) -> None:  # noqa: N802
            if self.path.split("?")[0] != "/predict":
                self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {self.path}; use POST /predict")
                return
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
                self.close_connection = True
                return
            length = int(length_text)
            if length > MAX_BODY:
                self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length} bytes exceeds {MAX_BODY}")
                self.close_connection = True
                return
            raw = self.rfile.read(length)
            if ctype != "application/json":
                self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")
                return
            try:
                payload = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                self._error(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}")
                return
            try:
                body, _ = service.predict(payload)
            except RequestError as exc:
                self._send(HTTPStatus.BAD_REQUEST, {**exc.to_dict(), "status": 400})
                return
            except Exception as exc:  # the log was not written: say so rather than answer
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"scoring failed, nothing was logged: {type(exc).__name__}: {exc}")
                return
            self._send(HTTPStatus.OK, body)

    return Handler


def make_server(service: ScoringService, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(service))
    server.daemon_threads = True
    return server
