"""`crm-audit monitor`: the decision log over time, judged by the monitoring checks."""

from __future__ import annotations

import argparse
from datetime import date

from audit.core.errors import AuditInputError, ErrorItem
from audit.core.gate import exit_code
from audit.core.types import Severity


def add_parser(sub: argparse._SubParsersAction, severities: list[str]) -> None:
    m = sub.add_parser("monitor", help="audit a decision log over time: drift, group trends, decay, integrity (no --log: the demo log)")
    m.add_argument("--log", help="decision log folder; without it a six-week demo log with planted problems is written and audited")
    m.add_argument("--config", help="audit.yaml: its policies (plus 'monitoring') and project details")
    m.add_argument("--outcomes", help="CSV or Parquet: customer_id (or subject) and outcome (1/0)")
    m.add_argument("--reference", metavar="START:END", help="reference period, ISO dates included (default: the first window)")
    m.add_argument("--window", default="7d", help="window length: 1d, 7d (ISO weeks), 2w, 1m (default 7d)")
    m.add_argument("--out", help="output folder (default reports/<UTC timestamp>/)")
    m.add_argument("--policy", action="append", default=[], metavar="NAME_OR_PATH", help="policy pack(s) (default: monitoring)")
    m.add_argument("--fail-on", choices=severities, help="lowest severity that fails the gate (default high)")
    m.add_argument("--format", default="html,json,junit,sarif,md", help="comma-separated: html,json,junit,sarif,md,pdf")
    m.add_argument("--key-file", help="the service's pseudonymisation key (to join outcomes by customer_id); default $CRM_AUDIT_LOG_KEY")
    m.add_argument("--as-of", help="date ages are measured on (retention), default today")


def monitor_command(args: argparse.Namespace, console: object, print_summary: object) -> int:
    from audit.app import parse_formats
    from audit.monitoring.app import MonitorOptions, run_monitor

    as_of = None
    if args.as_of:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            raise AuditInputError(ErrorItem(file="<command line>", path="--as-of", message=f"{args.as_of!r} is not an ISO date")) from None
    opts = MonitorOptions(
        log=args.log,
        config=args.config,
        outcomes=args.outcomes,
        reference=args.reference,
        window=args.window,
        out=args.out,
        policies=tuple(args.policy),
        fail_on=Severity(args.fail_on) if args.fail_on else None,
        formats=parse_formats(args.format),
        key_file=args.key_file,
        as_of=as_of,
    )
    err = console(stderr=True)  # type: ignore[operator]
    with err.status("starting monitoring", spinner="dots") as status:
        def progress(step: str) -> None:
            status.update(f"[bold]monitoring[/bold] {step}")

        result, out, info = run_monitor(opts, progress=progress)
    if info["demo"]:
        con = console()  # type: ignore[operator]
        con.print(f"demo decision log: {info['log']} (outcomes {info['outcomes']})")
    print_summary(result, out)  # type: ignore[operator]
    return exit_code(result.gate)
