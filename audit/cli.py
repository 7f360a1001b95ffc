"""Command-line interface: `crm-audit` and `python -m audit`.

Exit codes: 0 gate passed, 1 gate failed (or verify found a mismatch), 2 usage, config or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from audit import __version__
from audit.core.errors import AuditInputError
from audit.core.gate import EXIT_FAIL, EXIT_PASS, EXIT_USAGE, exit_code
from audit.core.types import Severity

SEVERITIES = [s.value for s in Severity]


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 as well; keep one message style
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _ArgParser(prog="crm-audit", description="Governance and compliance audit of AI-driven CRM systems.")
    p.add_argument("--version", action="version", version=f"crm-audit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgParser)

    r = sub.add_parser("run", help="run an audit and write the reports")
    r.add_argument("--config", help="audit.yaml; without it the built-in demo CRM is audited")
    r.add_argument("--policy", action="append", default=[], metavar="NAME_OR_PATH", help="policy pack name or YAML path (repeatable)")
    r.add_argument("--out", help="output folder (default reports/<UTC timestamp>/)")
    r.add_argument("--fail-on", choices=SEVERITIES, help="lowest severity that fails the gate (default high)")
    r.add_argument("--format", default="html,json,junit,sarif,md", help="comma-separated: html,json,junit,sarif,md,pdf")
    r.add_argument("--baseline", help="previous findings.json: mark findings new, unchanged or resolved")
    r.add_argument("--fail-on-new", action="store_true", help="with --baseline, only new findings can fail the gate")
    r.add_argument("--customers", type=int, help="demo CRM size (default 10000)")
    r.add_argument("--seed", type=int, help="random seed for the demo data and models")
    r.add_argument("--trust-pickle", action="store_true", help="allow loading joblib/pickle models (unsafe; noted in the report)")
    r.add_argument("--engine", choices=["local", "dask"], help="where the PII scan, count tables and scoring run (default: the config's engine, else local)")
    r.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (implies --engine dask); without it --engine dask starts a local cluster")
    r.add_argument("--partition-rows", type=int, metavar="N", help="rows per partition of the engine's tasks (default 20000)")

    pol = sub.add_parser("policy", help="list, show, validate policy packs or print their JSON Schema")
    psub = pol.add_subparsers(dest="policy_command", metavar="ACTION", parser_class=_ArgParser)
    psub.add_parser("list", help="the built-in packs")
    ps = psub.add_parser("show", help="print a resolved pack (after extends)")
    ps.add_argument("name")
    pv = psub.add_parser("validate", help="validate policy files")
    pv.add_argument("paths", nargs="+")
    psub.add_parser("schema", help="print the JSON Schema of the policy format")

    c = sub.add_parser("checks", help="the check registry with its metadata")
    c.add_argument("--format", choices=["table", "json"], default="table")

    i = sub.add_parser("init", help="write a starter audit.yaml for a CSV")
    i.add_argument("--data", required=True)
    i.add_argument("--out", default="audit.yaml")
    i.add_argument("--force", action="store_true")

    v = sub.add_parser("verify", help="recompute the hashes of a report folder's manifest")
    v.add_argument("dir")

    d = sub.add_parser("diff", help="compare two findings.json files")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--out", help="write the comparison (Markdown) here too")

    dd = sub.add_parser("demo-data", help="write the built-in demo CRM as CSV files")
    dd.add_argument("--out", required=True)
    dd.add_argument("--customers", type=int, default=10_000)
    dd.add_argument("--seed", type=int, default=None)

    sp = sub.add_parser("scan-pii", help="scan a CSV or Parquet file for personal data")
    sp.add_argument("--data", required=True)
    sp.add_argument("--column", action="append", default=[])
    sp.add_argument("--language", choices=["en", "zh", "auto"], default="auto")
    sp.add_argument("--format", choices=["json", "table"], default="table")
    sp.add_argument("--limit", type=int, default=None, help="scan at most this many rows")

    ep = sub.add_parser("eval-pii", help="precision and recall of the PII scanner on the labelled evaluation set")
    ep.add_argument("--data", help="JSONL evaluation set (default: the shipped sets, see --set)")
    ep.add_argument(
        "--set",
        choices=["customer", "synthetic", "all"],
        default="all",
        help="shipped set: customer-style texts with hard negatives, the synthetic identifier set, or both",
    )
    ep.add_argument("--no-ner", action="store_true", help="pattern-only")
    ep.add_argument("--json", action="store_true", help="JSON instead of tables")
    ep.add_argument("--errors", action="store_true", help="list false positives, misses and hard-negative hits")

    ex = sub.add_parser("explain", help="every automated decision about one customer, with reasons")
    ex.add_argument("--config")
    ex.add_argument("--policy", action="append", default=[], metavar="NAME_OR_PATH", help="policy whose proxy and identifier checks decide what may not be a reason (default: as for run)")
    ex.add_argument("--id", required=True)
    ex.add_argument("--format", choices=["json", "html", "pdf"], default="json")
    ex.add_argument("--out")
    ex.add_argument("--customers", type=int)
    ex.add_argument("--seed", type=int)

    lg = sub.add_parser("log", help="decision log tools")
    lsub = lg.add_subparsers(dest="log_command", metavar="ACTION", parser_class=_ArgParser)
    lv = lsub.add_parser("verify", help="check the hash chain of a decision log folder (exit 1 at the first broken record)")
    lv.add_argument("dir")
    lv.add_argument("--expect-head", metavar="SEQ:HASH", help="the head recorded earlier: also catches records cut from the end")
    lv.add_argument("--format", choices=["text", "json"], default="text")

    sv = sub.add_parser("serve", help="scoring service (POST /predict, GET /health) that writes the decision log")
    sv.add_argument("--config", help="audit.yaml; without it the demo churn model is served")
    sv.add_argument("--model", help="model name in audit.yaml (a classifier)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8080)
    sv.add_argument("--log", default="decision-log", help="decision log folder (default ./decision-log)")
    sv.add_argument("--key-file", help="pseudonymisation key file, outside the log (default: $CRM_AUDIT_LOG_KEY)")
    sv.add_argument("--features", choices=["values", "hash"], default="values", help="store feature values, or only their keyed hash")
    sv.add_argument("--no-log", action="store_true", help="score without writing a log (for benchmarks only)")
    sv.add_argument("--trust-pickle", action="store_true", help="allow a joblib/pickle model file (unsafe)")

    from audit.monitoring.cli import add_parser as add_monitor_parser

    add_monitor_parser(sub, SEVERITIES)

    cat = sub.add_parser("catalogue", help="write docs/checks.md from the registry")
    cat.add_argument("--out", default="docs/checks.md")
    cat.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    return p


# --- commands ---------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from audit.app import RunOptions, parse_formats, run_audit

    opts = RunOptions(
        config=args.config,
        policies=tuple(args.policy),
        out=args.out,
        fail_on=Severity(args.fail_on) if args.fail_on else None,
        formats=parse_formats(args.format),
        baseline=args.baseline,
        fail_on_new=args.fail_on_new,
        demo_customers=args.customers,
        seed=args.seed,
        trust_pickle=args.trust_pickle,
        engine=args.engine,
        scheduler=args.scheduler,
        partition_rows=args.partition_rows,
    )
    if opts.fail_on_new and not opts.baseline:
        raise AuditInputError("--fail-on-new needs --baseline PATH", file="<command line>")
    err = _console(stderr=True)
    with err.status("starting audit", spinner="dots") as status:
        def progress(step: str) -> None:
            status.update(f"[bold]auditing[/bold] {step}")

        from audit.compute.progress import Progress

        # long stages: a live line on a terminal, one log line per stage otherwise
        meter = Progress(emit=(lambda line: status.update(f"[bold]auditing[/bold] {line}")) if err.is_terminal else None, log=None if err.is_terminal else sys.stderr)
        result, out, _policy = run_audit(opts, progress=progress, meter=meter)
    _print_summary(result, out)
    return exit_code(result.gate)


def _print_summary(result: Any, out: Path) -> None:
    from rich.table import Table

    con = _console()
    t = Table(title="crm-audit findings", show_lines=False)
    for col in ("status", "severity", "check", "subject", "message"):
        t.add_column(col, overflow="fold")
    shown = [f for f in result.findings if f.status.value in ("fail", "error")][:25]
    for f in shown:
        t.add_row(f.status.value, f.severity.value, f.check_id, f.subject, f.message)
    if shown:
        con.print(t)
    counts = result.counts()["by_status"]
    con.print(" · ".join(f"{k}: {v}" for k, v in counts.items()))
    for lim in result.limitations:
        con.print(f"[yellow]limitation:[/yellow] {lim}")
    verdict = "[green]PASSED[/green]" if result.gate.passed else "[red]FAILED[/red]"
    con.print(f"gate {verdict}: {result.gate.reason}")
    con.print(f"report: {out / 'report.html'}")
    con.print(f"outputs: {out}")


def cmd_policy(args: argparse.Namespace) -> int:
    from audit.checks import load_builtin_checks
    from audit.policy import loader

    load_builtin_checks()
    con = _console()
    if args.policy_command == "list":
        from audit.core.yamlio import load_yaml

        for name, path in loader.available_packs().items():
            meta = (load_yaml(path).data or {}).get("metadata", {})
            juris = meta.get("jurisdiction", "")
            juris = ", ".join(juris) if isinstance(juris, list) else juris
            con.print(f"{name:12} {meta.get('version', ''):8} {juris:14} {meta.get('title', '')}")
        return EXIT_PASS
    if args.policy_command == "show":
        pol = loader.load_policies([args.name])
        doc = {
            "packs": [{k: v for k, v in p.items() if k in ("id", "title", "version", "jurisdiction", "file")} for p in pol.packs],
            "fail_on": pol.fail_on.value if pol.fail_on else None,
            "checks": {cid: {"severity": rc.severity.value, "threshold_provenance": rc.provenance.value, "regulations": list(rc.regulations), "params": rc.params.model_dump(mode="json"), "subjects": rc.subjects} for cid, rc in sorted(pol.checks.items())},
            "waivers": [w.model_dump(mode="json") for w, _ in pol.waivers],
            "attestations": [a.model_dump(mode="json") for a, _ in pol.attestations.values()],
        }
        import yaml

        sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        return EXIT_PASS
    if args.policy_command == "validate":
        errors = loader.validate_files(args.paths)
        if errors:
            err = _console(stderr=True)
            err.print(f"[red]{len(errors)} error(s)[/red]")
            for e in errors:
                err.print(e.render(), markup=False)
            return EXIT_USAGE
        con.print(f"ok: {len(args.paths)} policy file(s) valid")
        return EXIT_PASS
    if args.policy_command == "schema":
        sys.stdout.write(json.dumps(loader.policy_json_schema(), indent=2) + "\n")
        return EXIT_PASS
    raise AuditInputError("policy needs an action: list, show NAME, validate PATH..., schema", file="<command line>")


def cmd_checks(args: argparse.Namespace) -> int:
    from audit.checks import load_builtin_checks
    from audit.core.check import REGISTRY, meta_dict

    load_builtin_checks()
    rows = [meta_dict(c.meta, c.Params) for c in REGISTRY.all()]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return EXIT_PASS
    from rich.table import Table

    t = Table(title=f"{len(rows)} checks")
    for col in ("id", "category", "severity", "subjects", "default threshold", "provenance"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["category"], r["severity"], ",".join(r["subjects"]), r["default_threshold"], r["threshold_provenance"])
    _console().print(t)
    return EXIT_PASS


def cmd_init(args: argparse.Namespace) -> int:
    from audit.config.init import write_starter

    path, review = write_starter(args.data, args.out, force=args.force)
    con = _console()
    con.print(f"wrote {path}")
    for line in review:
        con.print(f"[yellow]review:[/yellow] {line}")
    return EXIT_PASS


def cmd_verify(args: argparse.Namespace) -> int:
    from audit.reporters.manifest import verify

    ok, lines = verify(args.dir)
    con = _console()
    for line in lines:
        con.print(line, markup=False)
    con.print("verified: all hashes match" if ok else "[red]mismatch: the report folder or its inputs changed[/red]")
    return EXIT_PASS if ok else EXIT_FAIL


def cmd_diff(args: argparse.Namespace) -> int:
    from audit.baseline import diff_findings, load_findings_json, render_diff_markdown
    from audit.reporters.atomic import write_atomic

    diff = diff_findings(load_findings_json(args.old), load_findings_json(args.new))
    text = render_diff_markdown(diff)
    sys.stdout.write(text)
    if args.out:
        write_atomic(args.out, text)
    return EXIT_PASS


def cmd_demo_data(args: argparse.Namespace) -> int:
    from audit.demo import write_demo_data

    paths = write_demo_data(args.out, n_customers=args.customers, seed=args.seed)
    con = _console()
    for p in paths:
        con.print(f"wrote {p}")
    return EXIT_PASS


def cmd_scan_pii(args: argparse.Namespace) -> int:
    from audit.pii_cli import scan_pii_command

    return scan_pii_command(args)


def cmd_eval_pii(args: argparse.Namespace) -> int:
    from audit.pii_cli import eval_pii_command

    return eval_pii_command(args)


def cmd_explain(args: argparse.Namespace) -> int:
    from audit.explain_cli import explain_command

    return explain_command(args)


def cmd_log(args: argparse.Namespace) -> int:
    if args.log_command == "verify":
        from audit.decisions.cli import log_verify_command

        return log_verify_command(args)
    raise AuditInputError("log needs an action: verify DIR", file="<command line>")


def cmd_serve(args: argparse.Namespace) -> int:
    from audit.decisions.serve_cli import serve_command

    return serve_command(args)


def cmd_monitor(args: argparse.Namespace) -> int:
    from audit.monitoring.cli import monitor_command

    return monitor_command(args, _console, _print_summary)


def cmd_catalogue(args: argparse.Namespace) -> int:
    from audit.catalogue import render_catalogue

    text = render_catalogue()
    target = Path(args.out)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            _console(stderr=True).print(f"{target} is out of date: run `crm-audit catalogue --out {target}`")
            return EXIT_FAIL
        return EXIT_PASS
    from audit.reporters.atomic import write_atomic

    write_atomic(target, text)
    _console().print(f"wrote {target}")
    return EXIT_PASS


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "policy": cmd_policy,
    "checks": cmd_checks,
    "init": cmd_init,
    "verify": cmd_verify,
    "diff": cmd_diff,
    "demo-data": cmd_demo_data,
    "scan-pii": cmd_scan_pii,
    "eval-pii": cmd_eval_pii,
    "explain": cmd_explain,
    "catalogue": cmd_catalogue,
    "log": cmd_log,
    "serve": cmd_serve,
    "monitor": cmd_monitor,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except AuditInputError as exc:
        from rich.markup import escape

        _console(stderr=True).print(f"[red]error:[/red] {escape(exc.render())}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
