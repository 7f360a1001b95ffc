"""Orchestration of one audit: context, policies, checks, outputs. The CLI is a thin shell on this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit.core.context import AuditContext
from audit.core.errors import AuditInputError, ErrorItem
from audit.core.result import AuditResult
from audit.core.types import Severity
from audit.policy.loader import ResolvedPolicy, load_policies
from audit.reporters import REPORTERS, write_outputs

DEFAULT_FORMATS = ("json", "html", "junit", "sarif", "md")


@dataclass
class RunOptions:
    config: str | None = None
    policies: tuple[str, ...] = ()
    out: str | None = None
    fail_on: Severity | None = None
    formats: tuple[str, ...] = DEFAULT_FORMATS
    baseline: str | None = None
    fail_on_new: bool = False
    demo_customers: int | None = None
    seed: int | None = None
    trust_pickle: bool = False
    engine: str | None = None  # "local" or "dask"; default from the config's engine block, else local
    scheduler: str | None = None
    partition_rows: int | None = None


def default_out_dir() -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / stamp


def parse_formats(text: str) -> tuple[str, ...]:
    items = tuple(x.strip().lower() for x in text.split(",") if x.strip())
    unknown = [x for x in items if x not in REPORTERS]
    if unknown:
        raise AuditInputError(ErrorItem(file="<command line>", path="--format", message=f"unknown format(s): {', '.join(unknown)}", hint="choose from " + ", ".join(REPORTERS)))
    return items


def build_context(opts: RunOptions, progress: Callable[[str], None] | None = None) -> tuple[AuditContext, list[str], list[dict[str, Any]], dict[str, Any]]:
    """Return (context, policy names, input records for the manifest, run metadata)."""
    if opts.config:
        from audit.config.loader import load_config, sha256_file
        from audit.config.project import context_from_config

        cfg, doc = load_config(opts.config)
        base = Path(opts.config).resolve().parent
        ctx, inputs = context_from_config(cfg, base=base, config_file=opts.config, trust_pickle=opts.trust_pickle, progress=progress)
        inputs.insert(0, {"role": "config", "kind": "file", "path": str(Path(opts.config).resolve()), "sha256": sha256_file(opts.config)})
        names = list(opts.policies) or list(cfg.policies)
        run = {"config_file": opts.config, "system": cfg.project.model_dump(), "signoff": cfg.signoff.model_dump(mode="json"), "fail_on_config": cfg.fail_on.value if cfg.fail_on else None}
        return ctx, names, inputs, run
    from audit.demo import demo_context

    ctx, inputs = demo_context(n_customers=opts.demo_customers, seed=opts.seed, progress=progress)
    names = list(opts.policies) or ["default"]
    run = {"config_file": None, "system": {"name": "crm-audit built-in demo CRM", "version": "demo", "owner": "", "description": "Synthetic CRM with deliberately planted problems"}, "signoff": {}}
    return ctx, names, inputs, run


def resolve_run_policy(opts: RunOptions) -> ResolvedPolicy:
    """Load the policy before any data or model work, so a bad policy fails fast."""
    if opts.config:
        from audit.config.loader import load_config

        cfg, _doc = load_config(opts.config)
        names = list(opts.policies) or list(cfg.policies)
        relative = Path(opts.config).resolve().parent
    else:
        names = list(opts.policies) or ["default"]
        relative = None
    try:
        return load_policies(names, relative_to=relative)
    except AuditInputError as exc:
        if opts.config and not opts.policies:
            head = ErrorItem(file=opts.config, path="policies", message=f"a policy pack listed in the config could not be loaded: {', '.join(names)}")
            raise AuditInputError([head, *exc.items]) from None
        raise


def engine_settings(opts: RunOptions) -> dict[str, Any]:
    """Engine kind, scheduler, workers and partition size: command line first, then the config's ``engine:`` block."""
    kind, scheduler, workers, rows = None, None, None, None
    if opts.config:
        from audit.config.loader import load_config

        cfg, _doc = load_config(opts.config)
        kind, scheduler, workers, rows = cfg.engine.kind, cfg.engine.scheduler, cfg.engine.workers, cfg.engine.partition_rows
    if opts.scheduler:
        scheduler = opts.scheduler
        kind = opts.engine or "dask"
    elif opts.engine:
        kind = opts.engine
        if kind == "local":
            scheduler = None
    return {"kind": kind or "local", "scheduler": scheduler, "workers": workers, "partition_rows": opts.partition_rows or rows or 20_000}


def run_audit(opts: RunOptions, progress: Callable[[str], None] | None = None, meter: Any = None) -> tuple[AuditResult, Path, ResolvedPolicy]:
    from audit.checks import load_builtin_checks
    from audit.runner import build_result

    load_builtin_checks()
    baseline = None
    if opts.baseline:
        from audit.baseline import load_findings_json

        baseline = load_findings_json(opts.baseline)
    policy = resolve_run_policy(opts)
    settings = engine_settings(opts)
    from audit.compute.engine import make_engine, prepare_context

    engine = make_engine(settings["kind"], settings["scheduler"], n_workers=settings["workers"])
    try:
        ctx, _names, inputs, run = build_context(opts, progress)
        from audit.config.loader import sha256_file

        for p in policy.files:
            inputs.append({"role": "policy", "kind": "file", "path": str(Path(p).resolve()), "sha256": sha256_file(p)})
        fail_on = opts.fail_on or (Severity(run["fail_on_config"]) if run.get("fail_on_config") else None) or policy.fail_on or Severity.HIGH
        run.pop("fail_on_config", None)
        run["engine"] = prepare_context(ctx, engine, check_ids=policy.checks.keys(), partition_rows=settings["partition_rows"], progress=meter)
        result = build_result(ctx, policy, fail_on=fail_on, fail_on_new=opts.fail_on_new, inputs=inputs, run_extra=run, progress=progress, baseline=baseline)
    finally:
        engine.close()
    out = Path(opts.out) if opts.out else default_out_dir()
    write_outputs(result, out, opts.formats)
    return result, out, policy
