"""`crm-audit monitor`: audit a decision log over time and write the usual report set."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from audit.core.context import AuditContext
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.result import AuditResult
from audit.core.types import Severity, SubjectKind
from audit.policy.loader import ResolvedPolicy, load_policies

MONITORING_PACK = "monitoring"


@dataclass
class MonitorOptions:
    log: str | None = None
    config: str | None = None
    outcomes: str | None = None
    reference: str | None = None
    window: str = "7d"
    out: str | None = None
    policies: tuple[str, ...] = ()
    fail_on: Severity | None = None
    formats: tuple[str, ...] = ("json", "html", "junit", "sarif", "md")
    key_file: str | None = None
    as_of: date | None = None
    demo_daily: int | None = None


def monitoring_policy(names: list[str], relative_to: Path | None) -> ResolvedPolicy:
    """The packs, restricted to checks that read a decision log (snapshot checks have nothing to read here)."""
    pol = load_policies(names, relative_to=relative_to)
    from audit.core.check import REGISTRY

    checks = {cid: rc for cid, rc in pol.checks.items() if SubjectKind.DECISION_LOG in REGISTRY.get(cid).meta.subjects}
    if not checks:
        raise AuditInputError(ErrorItem(file=", ".join(names), message="these policy packs enable no monitoring check", hint=f"add the '{MONITORING_PACK}' pack (--policy {MONITORING_PACK})"))
    return replace(pol, checks=checks)


def run_monitor(opts: MonitorOptions, progress: Callable[[str], None] | None = None) -> tuple[AuditResult, Path, dict[str, Any]]:
    from audit.app import default_out_dir
    from audit.checks import load_builtin_checks
    from audit.config.loader import sha256_file
    from audit.decisions.log import log_files
    from audit.decisions.record import KEY_ENV, load_key
    from audit.monitoring.data import load_log
    from audit.reporters import write_outputs
    from audit.runner import build_result

    load_builtin_checks()
    out = Path(opts.out) if opts.out else default_out_dir()
    relative = None
    names = list(opts.policies)
    system: dict[str, Any] = {"name": "CRM system", "version": "", "owner": "", "description": ""}
    fail_on_cfg = None
    if opts.config:
        from audit.config.loader import load_config

        cfg, _doc = load_config(opts.config)
        relative = Path(opts.config).resolve().parent
        names = names or [*cfg.policies, MONITORING_PACK]
        system = cfg.project.model_dump()
        fail_on_cfg = cfg.fail_on
    names = names or [MONITORING_PACK]
    policy = monitoring_policy(names, relative)
    demo = None
    log_dir, outcomes, key_file, as_of = opts.log, opts.outcomes, opts.key_file, opts.as_of
    if log_dir is None:
        if opts.config:
            raise AuditInputError(ErrorItem(file="<command line>", path="--log", message="--config needs --log DIR (the decision log to monitor)"))
        from audit.monitoring.demo import DAILY_MEAN, write_demo_log

        if progress:
            progress("writing the demo decision log (six weeks of the demo churn model)")
        demo = write_demo_log(out / "demo", daily_mean=opts.demo_daily or DAILY_MEAN)
        log_dir, outcomes, key_file = str(demo.log_dir), str(demo.outcomes), str(demo.key_file)
        as_of = as_of or demo.as_of
        system = {"name": "crm-audit demo churn scoring service", "version": "demo", "owner": "", "description": "Six weeks of logged decisions with planted problems: age mix shift, an age band's approval slide, accuracy decay"}
    key = load_key(key_file, log_dir=log_dir) if (key_file or os.environ.get(KEY_ENV)) else None
    if progress:
        progress(f"reading and verifying {log_dir}")
    data = load_log(log_dir, window=opts.window, reference=opts.reference, outcomes=outcomes, key=key, as_of=as_of)
    ctx = AuditContext(datasets={}, models=[], decision_logs={data.name: data})
    inputs: list[dict[str, Any]] = [
        {"role": "decision_log", "kind": "file", "name": data.name, "path": str(p.resolve()), "sha256": sha256_file(p)} for p in log_files(log_dir)
    ]
    if outcomes:
        inputs.append({"role": "outcomes", "kind": "file", "path": str(Path(outcomes).resolve()), "sha256": sha256_file(outcomes)})
    if opts.config:
        inputs.insert(0, {"role": "config", "kind": "file", "path": str(Path(opts.config).resolve()), "sha256": sha256_file(opts.config)})
    for p in policy.files:
        inputs.append({"role": "policy", "kind": "file", "path": str(Path(p).resolve()), "sha256": sha256_file(p)})
    summary = data.summary()
    run = {"config_file": opts.config, "system": system, "signoff": {}, "mode": "monitor", "monitoring": summary}
    fail_on = opts.fail_on or fail_on_cfg or policy.fail_on or Severity.HIGH
    result = build_result(ctx, policy, fail_on=fail_on, inputs=inputs, run_extra=run, progress=progress)
    write_outputs(result, out, opts.formats)
    info = {"log": log_dir, "outcomes": outcomes, "demo": demo is not None, "summary": summary}
    return result, out, info
