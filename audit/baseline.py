"""Compare findings with a previous run: new, unchanged and resolved, as code scanners do."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.core.errors import AuditInputError, ErrorItem
from audit.core.finding import Finding
from audit.core.types import Status

_OPEN = {"fail", "error"}


def load_findings_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditInputError(ErrorItem(file=str(p), message="baseline findings.json not found")) from None
    except json.JSONDecodeError as exc:
        raise AuditInputError(ErrorItem(file=str(p), line=exc.lineno, message=f"not valid JSON: {exc.msg}")) from None
    if not isinstance(data, dict) or "findings" not in data or not isinstance(data["findings"], list):
        raise AuditInputError(ErrorItem(file=str(p), path="findings", message="not a crm-audit findings.json (no 'findings' list)"))
    return data


def _open_keys(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{f['check_id']}::{f['subject']}": f for f in findings if f.get("status") in _OPEN}


def mark_against_baseline(findings: list[Finding], baseline: dict[str, Any]) -> tuple[list[Finding], list[dict[str, Any]]]:
    old = _open_keys(baseline["findings"])
    out = []
    current_open = set()
    for f in findings:
        if f.status in (Status.FAIL, Status.ERROR):
            current_open.add(f.key)
            out.append(replace(f, baseline="unchanged" if f.key in old else "new"))
        else:
            out.append(f)
    resolved = [
        {"check_id": v["check_id"], "subject": v["subject"], "severity": v.get("severity"), "message": v.get("message", "")}
        for k, v in old.items()
        if k not in current_open
    ]
    return out, resolved


def diff_findings(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    a = _open_keys(old["findings"])
    b = _open_keys(new["findings"])

    def row(f: dict[str, Any]) -> dict[str, Any]:
        return {"check_id": f["check_id"], "subject": f["subject"], "severity": f.get("severity"), "status": f.get("status"), "message": f.get("message", "")}

    return {
        "new": [row(b[k]) for k in sorted(b.keys() - a.keys())],
        "unchanged": [row(b[k]) for k in sorted(b.keys() & a.keys())],
        "resolved": [row(a[k]) for k in sorted(a.keys() - b.keys())],
    }


def render_diff_markdown(diff: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["# crm-audit: findings compared with the baseline", ""]
    lines.append(f"new: {len(diff['new'])} · unchanged: {len(diff['unchanged'])} · resolved: {len(diff['resolved'])}")
    for section in ("new", "unchanged", "resolved"):
        lines += ["", f"## {section.capitalize()} ({len(diff[section])})", ""]
        if not diff[section]:
            lines.append("none")
            continue
        lines.append("| severity | check | subject | message |")
        lines.append("|---|---|---|---|")
        for r in diff[section]:
            msg = str(r["message"]).replace("|", "\\|")
            lines.append(f"| {r['severity']} | `{r['check_id']}` | {r['subject']} | {msg} |")
    return "\n".join(lines) + "\n"
