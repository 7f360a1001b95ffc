"""`crm-audit scan-pii` and `crm-audit eval-pii`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from audit.core.errors import AuditInputError, ErrorItem

_TEST_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEFAULT_EVAL_SET = _TEST_DATA / "pii_eval"
#: Labelled evaluation sets shipped with the repository.
EVAL_SETS = {
    "customer": _TEST_DATA / "pii_eval_crm" / "crm_eval.jsonl",
    "synthetic": DEFAULT_EVAL_SET,
}


def _read_table(path: str, limit: int | None) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise AuditInputError(ErrorItem(file=path, message="data file not found"))
    try:
        if p.suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
            return frame.head(limit) if limit else frame
        return pd.read_csv(p, dtype=str, nrows=limit)
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=path, message=f"cannot read data: {type(exc).__name__}: {exc}", hint="scan-pii reads CSV or Parquet")) from None


def scan_pii_command(args: argparse.Namespace) -> int:
    from audit.pii import PIIScanner

    p = Path(args.data)
    if p.suffix not in (".parquet", ".pq") and args.format == "json" and not args.limit:
        return _scan_csv_streaming(args)
    frame = _read_table(args.data, args.limit)
    if frame.empty:
        raise AuditInputError(ErrorItem(file=args.data, message="the file has no rows"))
    columns = _columns(args, list(frame.columns), [c for c in frame.columns if frame[c].dtype == object or str(frame[c].dtype).startswith("string")])
    scanner = PIIScanner(languages=("en", "zh"))
    rows = []
    for col in columns:
        values = frame[col]
        mask = values.notna()
        texts = values[mask].astype(str).tolist()
        idx = [int(i) for i in values.index[mask]]
        for hit in scanner.scan_texts(texts, language=args.language, ids=idx):
            rows.append({"row": hit.row_id, "column": str(col), "entity_type": hit.entity_type, "start": hit.start, "end": hit.end, "score": round(float(hit.score), 4)})
    if args.format == "json":
        doc = {"file": args.data, "columns": [str(c) for c in columns], "rows_scanned": int(len(frame)), "limitations": scanner.limitations, "spans": rows}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    from audit.pii.engine import TextHit

    con = Console(highlight=False)
    table = Table(title=f"PII in {args.data} ({len(frame)} rows scanned)")
    for c in ("row", "column", "entities", "masked text"):
        table.add_column(c, overflow="fold")
    by_cell: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        by_cell.setdefault((r["row"], r["column"]), []).append(r)
    for (row, col), spans in sorted(by_cell.items()):
        text = str(frame.at[row, col])
        masked = scanner.mask(text, [TextHit(row, s["entity_type"], s["start"], s["end"], s["score"]) for s in spans])
        table.add_row(str(row), col, ", ".join(sorted({s["entity_type"] for s in spans})), masked)
    con.print(table)
    con.print(f"{len(by_cell)} cell(s) with personal data in {len(columns)} column(s)")
    for lim in scanner.limitations:
        con.print(f"[yellow]limitation:[/yellow] {lim}")
    return 0


def _columns(args: argparse.Namespace, available: list, default: list) -> list:
    columns = args.column or default
    missing = [c for c in columns if c not in available]
    if missing:
        raise AuditInputError(ErrorItem(file=args.data, path="--column", message=f"column(s) {missing} not in the file", hint="columns: " + ", ".join(map(str, available))))
    return columns


def _scan_csv_streaming(args: argparse.Namespace) -> int:
    """JSON spans for a CSV of any size: chunks are read, scanned and written one at a time."""
    from audit.pii import PIIScanner

    if not Path(args.data).exists():
        raise AuditInputError(ErrorItem(file=args.data, message="data file not found"))
    try:
        header = pd.read_csv(args.data, nrows=200, dtype=str)
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=args.data, message=f"cannot read data: {type(exc).__name__}: {exc}", hint="scan-pii reads CSV or Parquet")) from None
    if header.empty:
        raise AuditInputError(ErrorItem(file=args.data, message="the file has no rows"))
    columns = _columns(args, list(header.columns), list(header.columns))
    scanner = PIIScanner(languages=("en", "zh"))
    out = sys.stdout
    out.write(json.dumps({"file": args.data, "columns": [str(c) for c in columns]}, ensure_ascii=False)[:-1] + ', "spans": [\n')
    first = True
    for hit in scanner.scan_csv_chunks(args.data, columns=columns, chunksize=5000, language=args.language):
        row, col = hit.row_id
        item = {"row": int(row), "column": str(col), "entity_type": hit.entity_type, "start": hit.start, "end": hit.end, "score": round(float(hit.score), 4)}
        out.write(("" if first else ",\n") + "  " + json.dumps(item, ensure_ascii=False))
        first = False
    out.write("\n], " + json.dumps({"limitations": scanner.limitations}, ensure_ascii=False)[1:] + "\n")
    return 0


def eval_pii_command(args: argparse.Namespace) -> int:
    from audit.pii import PIIScanner, SpecialCategoryScanner
    from audit.pii.evaluate import evaluate, load_records

    if args.data:
        sets = {"--data": Path(args.data)}
    else:
        chosen = ["customer", "synthetic"] if args.set == "all" else [args.set]
        sets = {name: EVAL_SETS[name] for name in chosen}
    for name, path in sets.items():
        if not path.exists():
            raise AuditInputError(ErrorItem(file=str(path), message="evaluation set not found", hint="pass --data PATH to a JSONL file of {text, lang, spans}; the shipped sets live under tests/data in the source repository"))
    scanner = PIIScanner(model=None) if args.no_ner else PIIScanner()
    special = SpecialCategoryScanner()
    docs = {}
    for name, path in sets.items():
        report = evaluate(scanner, load_records(path), special=special)
        docs[name] = {"path": str(path), **report.as_dict()}
        if not args.json:
            sys.stdout.write(f"== {name} set: {path}\n" + report.table() + "\n")
            if args.errors:
                for e in report.errors:
                    sys.stdout.write(f"{e['kind']}\t{e['id']}\t{e['entity_type']}\t{e['value']}\n")
            sys.stdout.write("\n")
    info = scanner.model_info()
    if args.json:
        sys.stdout.write(json.dumps({"sets": docs, "model": info, "limitations": scanner.limitations}, indent=2, ensure_ascii=False) + "\n")
        return 0
    sys.stdout.write(f"model: {info.get('name') or 'none (pattern-only)'} {info.get('version') or ''}\n")
    for lim in scanner.limitations:
        sys.stdout.write(f"limitation: {lim}\n")
    return 0
