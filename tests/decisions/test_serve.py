"""The scoring service over real HTTP on 127.0.0.1 (a subprocess per server, bounded request loops)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from audit.decisions import Pseudonymiser, scan_log

KEY = "0123456789abcdef0123456789abcdef"
CUSTOMER = {
    "customer_id": "C-1",
    "tenure_months": 3,
    "income": None,
    "region": "Coastal",
    "consent_marketing": False,
    "recency": 200,
    "frequency": 1,
    "monetary": 20.0,
    "n_tickets": 4,
    "age": 67,
    "gender": "F",
}


class Server:
    def __init__(self, log: Path) -> None:
        env = {**os.environ, "CRM_AUDIT_LOG_KEY": KEY}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "audit", "serve", "--port", "0", "--log", str(log)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True,
        )
        deadline = time.time() + 120
        self.url = ""
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
                break
        assert self.url, "server did not start"
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def post(self, body, ctype: str = "application/json") -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/predict", data=data, headers={"Content-Type": ctype}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "log"
    s = Server(log)
    s.log = log
    yield s
    s.stop()


def _records(log: Path) -> list[dict]:
    out: list[dict] = []
    scan_log(log, sink=out.append)
    return out


def test_health_and_one_prediction_is_logged(server):
    code, health = server.get("/health")
    assert code == 200 and health["status"] == "ok" and health["model"]["version"].startswith("sha256:")
    before = len(_records(server.log))
    code, body = server.post(CUSTOMER)
    assert code == 200 and body["decision"] in ("flagged", "not_flagged") and 0 <= body["score"] <= 1
    assert 1 <= len(body["reasons"]) <= 4 and all(r["feature"] not in ("age", "gender") for r in body["reasons"])
    recs = _records(server.log)
    assert len(recs) == before + 1
    rec = recs[-1]
    assert rec["seq"] == body["log"]["seq"] and rec["hash"] == body["log"]["hash"]
    assert rec["subject"] == Pseudonymiser(KEY.encode()).pseudonym("C-1") and "C-1" not in json.dumps(rec)
    assert rec["groups"] == {"age": "60-120", "gender": "F"} and "age" not in rec["features"]
    assert rec["score"] == body["score"] and rec["reasons"] == body["reasons"]
    assert rec["model"]["version"] == health["model"]["version"] and rec["policy"]["packs"] == ["default@1.0.0"]


def test_batch(server):
    batch = [{**CUSTOMER, "customer_id": f"B-{i}", "recency": 5 + 40 * i} for i in range(5)]
    code, body = server.post({"customers": batch})
    assert code == 200 and len(body["results"]) == 5
    seqs = [r["log"]["seq"] for r in body["results"]]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert len({r["request_id"] for r in _records(server.log)[-5:]}) == 1


@pytest.mark.parametrize(
    "body,ctype,status,needle",
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        ({**CUSTOMER, "tenure_months": "long"}, "application/json", 400, "tenure_months must be a finite number"),
        ({k: v for k, v in CUSTOMER.items() if k != "recency"}, "application/json", 400, "missing feature(s) recency"),
        ({**CUSTOMER, "shoe_size": 9}, "application/json", 400, "unknown feature(s) shoe_size"),
        ({k: v for k, v in CUSTOMER.items() if k != "customer_id"}, "application/json", 400, "customer_id is required"),
        ({**CUSTOMER, "n_tickets": None}, "application/json", 400, "may not be null"),
        ({"customers": [CUSTOMER, {**CUSTOMER, "region": 3}]}, "application/json", 400, "region must be a string"),
        ({"customers": []}, "application/json", 400, "non-empty list"),
        ([1, 2], "application/json", 400, "must be a JSON object"),
        (CUSTOMER, "text/plain", 415, "application/json"),
    ],
)
def test_bad_requests_write_nothing(server, body, ctype, status, needle):
    before = len(_records(server.log))
    code, err = server.post(body, ctype)
    assert code == status and needle in err["error"], err
    assert len(_records(server.log)) == before


def test_unknown_endpoint(server):
    code, err = server.get("/nope")
    assert code == 404 and "POST /predict" in err["error"]


def test_concurrent_clients_keep_one_chain(server):
    before = len(_records(server.log))
    seqs: list[int] = []
    errors: list[str] = []

    def client(k: int) -> None:
        for i in range(10):
            code, body = server.post({**CUSTOMER, "customer_id": f"T{k}-{i}"})
            if code != 200:
                errors.append(str(body))
            else:
                seqs.append(body["log"]["seq"])

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(seqs) == 60 and len(set(seqs)) == 60
    v = scan_log(server.log)
    assert v.ok and v.records == before + 60


def test_killed_server_leaves_a_verifiable_log(tmp_path):
    log = tmp_path / "log"
    s = Server(log)
    acked: list[int] = []
    stop = threading.Event()

    def client(k: int) -> None:
        i = 0
        while not stop.is_set() and i < 200:
            try:
                code, body = s.post({"customers": [{**CUSTOMER, "customer_id": f"K{k}-{i}-{j}"} for j in range(20)]})
            except Exception:
                return
            if code == 200:
                acked.extend(r["log"]["seq"] for r in body["results"])
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(acked) < 200 and time.time() < deadline:
        time.sleep(0.05)
    s.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert len(acked) >= 200
    v = scan_log(log)
    assert v.ok, v.breaks[:3]
    # every answered decision is on disk
    assert max(acked) <= v.last_seq and v.records == v.last_seq
    # a restarted service continues the same chain
    s2 = Server(log)
    try:
        code, body = s2.post(CUSTOMER)
        assert code == 200 and body["log"]["seq"] == v.last_seq + 1
    finally:
        s2.stop()
    assert scan_log(log).ok
