"""results.sarif: SARIF 2.1.0, one rule per check id, for code-scanning dashboards."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from audit import TOOL_NAME, __version__
from audit.core.result import AuditResult
from audit.core.types import Status

FILENAME = "results.sarif"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# severity -> SARIF level (and a security-severity score some dashboards sort by)
LEVELS: dict[str, tuple[str, str]] = {
    "critical": ("error", "9.5"),
    "high": ("error", "8.0"),
    "medium": ("warning", "5.5"),
    "low": ("note", "3.0"),
    "info": ("note", "1.0"),
}


def _location_uri(subject: str, result: AuditResult) -> str:
    if subject.startswith("dataset:"):
        name = subject[len("dataset:"):].split("/", 1)[0]
        for ds in result.datasets:
            if ds.get("name") == name:
                src = str(ds.get("source", ""))
                if src and "://" not in src:
                    return src
    cfg = result.run.get("config_file")
    if cfg:
        return str(cfg)
    if result.policies:
        return str(result.policies[-1].get("file", "policy"))
    return "audit.yaml"


def render(result: AuditResult, **_: Any) -> str:
    rules = []
    index: dict[str, int] = {}
    for i, c in enumerate(result.checks):
        index[c["id"]] = i
        level, score = LEVELS[c["severity"]]
        rules.append(
            {
                "id": c["id"],
                "name": c["id"].replace(".", "_"),
                "shortDescription": {"text": c["title"]},
                "fullDescription": {"text": c.get("formula") or c["title"]},
                "help": {
                    "text": f"{c.get('help') or c['title']}\nDefault threshold: {c.get('default_threshold', '')} ({c['threshold_provenance']}).\nRegulations: {', '.join(c['regulations'])}",
                },
                "defaultConfiguration": {"level": level},
                "properties": {"tags": [c["category"], *c["regulations"]], "security-severity": score, "threshold_provenance": c["threshold_provenance"]},
            }
        )
    results = []
    for f in result.findings:
        if f.status not in (Status.FAIL, Status.ERROR, Status.WAIVED):
            continue
        level = "error" if f.status is Status.ERROR else LEVELS[f.severity.value][0]
        item: dict[str, Any] = {
            "ruleId": f.check_id,
            "level": level,
            "message": {"text": f"{f.subject}: {f.message}"},
            "locations": [
                {
                    "physicalLocation": {"artifactLocation": {"uri": _location_uri(f.subject, result)}},
                    "logicalLocations": [{"name": f.subject, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"crmAuditKey/v1": hashlib.sha256(f.key.encode()).hexdigest()[:32]},
            "properties": {"severity": f.severity.value, "subject": f.subject, "regulations": list(f.regulations)},
        }
        if f.check_id in index:
            item["ruleIndex"] = index[f.check_id]
        if f.baseline in ("new", "unchanged"):
            item["baselineState"] = f.baseline
        if f.status is Status.WAIVED and f.waiver:
            item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f"{f.waiver.get('reason')} (approved by {f.waiver.get('approved_by')}, expires {f.waiver.get('expires')})"}]
        results.append(item)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "version": __version__, "informationUri": "https://pypi.org/project/crm-audit/", "rules": rules}},
                "results": results,
                "invocations": [{"executionSuccessful": True, "startTimeUtc": result.run.get("started_at", "").replace("+00:00", "Z"), "endTimeUtc": result.run.get("finished_at", "").replace("+00:00", "Z")}],
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
