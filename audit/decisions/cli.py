"""`crm-audit log verify DIR`: is the decision log's chain intact?"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.core.errors import AuditInputError, ErrorItem
from audit.core.gate import EXIT_FAIL, EXIT_PASS
from audit.decisions.log import log_files
from audit.decisions.verify import Break, scan_log


def _parse_head(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise AuditInputError(ErrorItem(file="<command line>", path="--expect-head", message=f"{text!r} is not SEQ:HASH", hint="copy the 'head' line printed by an earlier `crm-audit log verify`"))
    return int(seq), digest


def log_verify_command(args: argparse.Namespace) -> int:
    d = Path(args.dir)
    if not d.is_dir():
        raise AuditInputError(ErrorItem(file=str(d), message="decision log folder not found", hint="give the folder the service writes (serve --log DIR)"))
    if not log_files(d):
        raise AuditInputError(ErrorItem(file=str(d), message="no decision log files (decisions-YYYY-MM-DD.jsonl) in this folder", hint="check the path"))
    expect = _parse_head(args.expect_head) if args.expect_head else None
    v = scan_log(d)
    if expect is not None and v.ok and (v.last_seq, v.head_hash) != expect:
        seq, digest = expect
        if v.last_seq is not None and v.last_seq < seq:
            v.breaks.append(Break(v.files[-1], 0, v.last_seq, "truncated", f"the log ends at seq {v.last_seq}; the recorded head is seq {seq} (records cut from the end)"))
        else:
            v.breaks.append(Break(v.files[-1], 0, seq, "head_mismatch", f"the recorded head seq {seq} hash {digest[:12]}... is not this log's head"))
    if args.format == "json":
        sys.stdout.write(json.dumps(v.to_dict(), indent=2) + "\n")
        return EXIT_PASS if v.ok else EXIT_FAIL
    out = sys.stdout
    out.write(f"{d}: {v.records} records in {len(v.files)} file(s), seq {v.first_seq}..{v.last_seq}, {v.first_time} .. {v.last_time}\n")
    out.write(f"head: {v.last_seq}:{v.head_hash}\n")
    if v.truncated_tail:
        t = v.truncated_tail
        out.write(f"note: {t['file']}:{t['line']} is a partial final line ({t['bytes']} bytes) left by an interrupted writer; it is not a record\n")
    for name in v.torn_kept:
        out.write(f"note: torn/{name} holds a partial line removed by a writer on restart\n")
    if v.ok:
        out.write("verified: chain intact, no gap, no edited, deleted or reordered record\n")
        return EXIT_PASS
    b = v.breaks[0]
    out.write(f"BROKEN at {b.render()}\n")
    if len(v.breaks) > 1:
        out.write(f"{len(v.breaks) - 1} further problem(s) after it\n")
    return EXIT_FAIL
