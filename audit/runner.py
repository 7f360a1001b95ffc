"""Run the resolved policy's checks over every subject of an audit context."""

from __future__ import annotations

import platform
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timezone
from fnmatch import fnmatchcase
from typing import Any

from audit.core.check import REGISTRY
from audit.core.context import Attestation, AuditContext, Subject
from audit.core.finding import Finding
from audit.core.gate import evaluate_gate
from audit.core.result import AuditResult
from audit.core.types import Severity, Status
from audit.policy.loader import ResolvedCheck, ResolvedPolicy

Progress = Callable[[str], None]

MISSING_FACT = "{fact}: not measured in this audit (the policy leaves out {checks}); checks reading it saw none"

_STATUS_ORDER = {Status.ERROR: 0, Status.FAIL: 1, Status.WAIVED: 2, Status.SKIPPED: 3, Status.PASS: 4}


def _subject_selected(rc: ResolvedCheck, subject: Subject) -> bool:
    if rc.subjects is None:
        return True
    return any(fnmatchcase(subject.name, s) or fnmatchcase(subject.label, s) for s in rc.subjects)


def run_checks(ctx: AuditContext, policy: ResolvedPolicy, *, today: date | None = None, progress: Progress | None = None) -> tuple[list[Finding], list[dict[str, Any]], dict[str, float]]:
    """Return findings, the waiver table (with expiry state) and per-check timings."""
    today = today or datetime.now(timezone.utc).date()
    ctx.attestations = {
        a.id: Attestation(answered=bool(a.answer and a.attested_by), attested_by=a.attested_by, date=a.date.isoformat() if a.date else None)
        for a, _src in policy.attestations.values()
    }
    findings: list[Finding] = []
    timings: dict[str, float] = {}
    for fact, absent in REGISTRY.missing_providers(policy.checks).items():
        ctx.limitations.append(MISSING_FACT.format(fact=fact.replace("_", " "), checks=", ".join(absent)))
    # providers of a fact (e.g. flagged proxies) run before the checks that read it
    for cid in REGISTRY.run_order(policy.checks):
        rc = policy.checks[cid]
        cls = REGISTRY.get(rc.id)
        meta = cls.meta
        check = cls()
        if progress:
            progress(rc.id)
        t0 = time.perf_counter()
        ran_any = False
        for kind in meta.subjects:
            for subject in ctx.subjects(kind):
                if not _subject_selected(rc, subject) or not _applies(check, rc, subject, ctx):
                    continue
                ran_any = True
                findings.extend(_run_one(check, rc, subject, ctx))
        if not ran_any:
            kinds = ", ".join(k.value for k in meta.subjects)
            findings.append(_finding(rc, meta, "-", meta.subjects[0], Status.SKIPPED, f"no applicable subject ({kinds}) in this audit", None, None, {}))
        timings[rc.id] = time.perf_counter() - t0
    findings, waiver_rows = _apply_waivers(findings, policy, today)
    findings.sort(key=lambda f: (_STATUS_ORDER[f.status], -f.severity.rank, f.check_id, f.subject))
    return findings, waiver_rows, timings


def _applies(check: Any, rc: ResolvedCheck, subject: Subject, ctx: AuditContext) -> bool:
    try:
        return bool(check.applies(subject, rc.params, ctx))
    except Exception:  # let evaluate() run and report the problem as an ERROR finding
        return True


def _finding(rc: ResolvedCheck, meta: Any, subject: str, kind: Any, status: Status, message: str, observed: Any, threshold: Any, evidence: Any, severity: Severity | None = None) -> Finding:
    return Finding(
        check_id=meta.id,
        title=meta.title,
        category=meta.category.value,
        status=status,
        severity=severity or rc.severity,
        subject=subject,
        subject_kind=kind,
        message=message,
        observed=observed,
        threshold=threshold,
        threshold_provenance=rc.provenance,
        evidence=evidence,
        regulations=rc.regulations,
    )


def _run_one(check: Any, rc: ResolvedCheck, subject: Subject, ctx: AuditContext) -> list[Finding]:
    meta = check.meta
    try:
        outcomes = list(check.evaluate(subject, rc.params, ctx))
    except Exception as exc:  # a crashing check is an ERROR finding, never a silent pass
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        return [
            _finding(rc, meta, subject.label, subject.kind, Status.ERROR, f"check raised {type(exc).__name__}: {exc}", None, None, {"exception": type(exc).__name__, "where": where})
        ]
    if not outcomes:
        return [_finding(rc, meta, subject.label, subject.kind, Status.SKIPPED, "check produced no measurement for this subject", None, None, {})]
    return [
        _finding(rc, meta, o.subject or subject.label, subject.kind, o.status, o.message, o.observed, o.threshold, dict(o.evidence), o.severity)
        for o in outcomes
    ]


def _apply_waivers(findings: list[Finding], policy: ResolvedPolicy, today: date) -> tuple[list[Finding], list[dict[str, Any]]]:
    used: dict[int, int] = {}
    out = []
    for f in findings:
        if f.status not in (Status.FAIL, Status.ERROR):
            out.append(f)
            continue
        active, expired = policy.waiver_for(f.check_id, f.subject, today)
        if active is not None:
            used[id(active)] = used.get(id(active), 0) + 1
            out.append(replace(f, status=Status.WAIVED, waiver={**active.model_dump(), "state": "active"}, message=f"{f.message} [waived: {active.reason}]"))
        elif expired is not None:
            used[id(expired)] = used.get(id(expired), 0) + 1
            out.append(replace(f, waiver={**expired.model_dump(), "state": "expired"}, message=f"{f.message} [waiver expired on {expired.expires.isoformat()}]"))
        else:
            out.append(f)
    rows = []
    for w, src in policy.waivers:
        rows.append({**w.model_dump(), "source": src, "state": "active" if w.expires >= today else "expired", "matched_findings": used.get(id(w), 0)})
    return out, rows


def attestation_rows(policy: ResolvedPolicy) -> list[dict[str, Any]]:
    rows = []
    for a, src in policy.attestations.values():
        d = a.model_dump()
        d["state"] = "answered" if a.answer and a.attested_by else "open"
        d["source"] = src
        rows.append(d)
    return rows


def build_result(
    ctx: AuditContext,
    policy: ResolvedPolicy,
    *,
    fail_on: Severity,
    fail_on_new: bool = False,
    inputs: list[dict[str, Any]] | None = None,
    run_extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    baseline: dict[str, Any] | None = None,
    today: date | None = None,
) -> AuditResult:
    started = datetime.now(timezone.utc)
    findings, waiver_rows, timings = run_checks(ctx, policy, today=today, progress=progress)
    resolved: list[dict[str, Any]] = []
    if baseline is not None:
        from audit.baseline import mark_against_baseline

        findings, resolved = mark_against_baseline(findings, baseline)
    verdict = evaluate_gate(findings, fail_on=fail_on, fail_on_new=fail_on_new)
    finished = datetime.now(timezone.utc)
    run = {
        "id": uuid.uuid4().hex,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "seed": ctx.seed,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "check_timings_s": {k: round(v, 4) for k, v in timings.items()},
        "config_file": None,
        "system": {"name": "CRM system", "version": "", "owner": "", "description": ""},
        "signoff": {},
        **(run_extra or {}),
    }
    checks_meta = []
    for rc in policy.checks.values():
        meta = REGISTRY.get(rc.id).meta
        checks_meta.append(
            {
                "id": rc.id,
                "title": meta.title,
                "category": meta.category.value,
                "severity": rc.severity.value,
                "regulations": list(rc.regulations),
                "threshold_provenance": rc.provenance.value,
                "formula": meta.formula,
                "default_threshold": meta.default_threshold,
                "params": rc.params.model_dump(mode="json"),
                "help": meta.help,
                "source": rc.source,
            }
        )
    return AuditResult(
        run=run,
        policies=tuple(policy.packs),
        datasets=tuple(ds.summary() for ds in ctx.datasets.values()),
        models=tuple(_model_summary(m) for m in ctx.models),
        findings=tuple(findings),
        gate=verdict,
        attestations=tuple(attestation_rows(policy)),
        waivers=tuple(waiver_rows),
        checks=tuple(sorted(checks_meta, key=lambda c: c["id"])),
        inputs=tuple(inputs or ()),
        limitations=tuple(dict.fromkeys(ctx.limitations)),
        resolved=tuple(resolved),
        extras=ctx.report.to_dict(),
    )


def _model_summary(m: Any) -> dict[str, Any]:
    if hasattr(m, "to_summary"):
        return dict(m.to_summary())
    return {"name": m.name, "kind": m.kind, "algorithm": getattr(m, "algorithm", ""), "metrics": getattr(m, "metrics", {})}
