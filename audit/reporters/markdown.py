"""summary.md: a short summary fit for a pull-request comment or a CI job summary."""

from __future__ import annotations

from typing import Any

from audit.core.result import AuditResult
from audit.core.types import Status

FILENAME = "summary.md"
MAX_ROWS = 15


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(result: AuditResult, **_: Any) -> str:
    g = result.gate
    icon = "✅" if g.passed else "❌"
    c = result.counts()
    lines = [
        f"## {icon} crm-audit: gate {'PASSED' if g.passed else 'FAILED'}",
        "",
        f"{g.reason} (fail-on: `{g.fail_on.value}`{', new findings only' if g.fail_on_new else ''}).",
        "",
        "| status | " + " | ".join(c["by_status"]) + " |",
        "|---|" + "---|" * len(c["by_status"]),
        "| findings | " + " | ".join(str(v) for v in c["by_status"].values()) + " |",
        "",
        "Policies: " + ", ".join(f"`{p['id']}` {p['version']}" for p in result.policies),
        "",
    ]
    failing = [f for f in result.findings if f.status in (Status.FAIL, Status.ERROR)]
    if failing:
        lines += [f"### Failing findings ({len(failing)})", "", "| severity | check | subject | message |", "|---|---|---|---|"]
        for f in failing[:MAX_ROWS]:
            tag = f" ({f.baseline})" if f.baseline else ""
            lines.append(f"| {f.severity.value}{tag} | `{f.check_id}` | {_cell(f.subject)} | {_cell(f.message)} |")
        if len(failing) > MAX_ROWS:
            lines.append(f"\n…and {len(failing) - MAX_ROWS} more in findings.json.")
    if result.resolved:
        lines += ["", f"Resolved since baseline: {len(result.resolved)}"]
    open_att = [a for a in result.attestations if a.get("state") == "open"]
    if open_att:
        lines += ["", f"Open attestations: {len(open_att)} (see report.html)."]
    if result.limitations:
        lines += ["", "### Limitations of this run", ""] + [f"- {_cell(x)}" for x in result.limitations]
    return "\n".join(lines) + "\n"
