"""Read a decision log and verify its chain in one pass.

Verification recomputes every record's hash, checks that each ``prev`` is the hash before it,
that sequence numbers run 1, 2, 3... without a gap, that times never go back and that each record
sits in the file of its own day. The first break is named (file, line, seq, what broke); records
after it are still counted so the size of the damage is visible. A partial final line (a writer
killed mid-write) is flagged, not treated as a break: it was never acknowledged.

What a chain cannot show on its own: records cut from the *end* of the log. Keep the head
(``last_seq`` and ``head_hash``, printed by ``crm-audit log verify``) somewhere else, e.g. in the
monitoring report's manifest, and compare it with ``--expect-head``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.decisions.log import FILE_RE, log_files
from audit.decisions.record import GENESIS, record_hash


@dataclass
class Break:
    file: str
    line: int
    seq: int | None
    kind: str  # edited, gap, reordered, unparseable, time_order, wrong_day, prev_mismatch
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "seq": self.seq, "kind": self.kind, "detail": self.detail}

    def render(self) -> str:
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{self.file}:{self.line}{seq}: {self.kind}: {self.detail}"


@dataclass
class Verification:
    directory: str
    files: list[str] = field(default_factory=list)
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str = GENESIS
    first_time: str | None = None
    last_time: str | None = None
    breaks: list[Break] = field(default_factory=list)
    truncated_tail: dict[str, Any] | None = None
    torn_kept: list[str] = field(default_factory=list)
    stray_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "ok": self.ok,
            "files": list(self.files),
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "breaks": [b.to_dict() for b in self.breaks[:20]],
            "n_breaks": len(self.breaks),
            "truncated_tail": self.truncated_tail,
            "torn_kept": list(self.torn_kept),
            "stray_files": list(self.stray_files),
        }


RecordSink = Callable[[dict[str, Any]], None]


def scan_log(directory: str | Path, *, sink: RecordSink | None = None, max_breaks: int = 1000) -> Verification:
    """Verify the chain of a log folder; hand every parsed record to ``sink`` (for monitoring)."""
    d = Path(directory)
    v = Verification(directory=str(d))
    files = log_files(d)
    v.files = [p.name for p in files]
    if d.is_dir():
        v.stray_files = sorted(p.name for p in d.iterdir() if p.is_file() and p.name.endswith(".jsonl") and not FILE_RE.match(p.name))
        torn = d / "torn"
        if torn.is_dir():
            v.torn_kept = sorted(p.name for p in torn.iterdir())
    prev_hash = GENESIS
    prev_seq = 0
    prev_time = ""

    def broke(b: Break) -> None:
        if len(v.breaks) < max_breaks:
            v.breaks.append(b)

    for fi, path in enumerate(files):
        day = FILE_RE.match(path.name).group(1)  # type: ignore[union-attr]
        last_file = fi == len(files) - 1
        with open(path, "rb") as fh:
            data = fh.read()
        lines = data.split(b"\n")
        trailing = lines.pop()  # b"" when the file ends with a newline
        if trailing:
            if last_file:
                v.truncated_tail = {"file": path.name, "line": len(lines) + 1, "bytes": len(trailing)}
            else:
                lines.append(trailing)  # a partial line in the middle of the log is damage, not a torn tail
        for ln, raw in enumerate(lines, start=1):
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError("not a JSON object")
                seq = int(rec["seq"])
                h = str(rec["hash"])
                p = str(rec["prev"])
                t = str(rec["time"])
            except (ValueError, KeyError, TypeError) as exc:
                broke(Break(path.name, ln, None, "unparseable", f"not a decision record ({exc})"))
                continue
            v.records += 1
            if v.first_seq is None:
                v.first_seq, v.first_time = seq, t
            if record_hash(rec) != h:
                broke(Break(path.name, ln, seq, "edited", "the record's content does not match its hash"))
            if seq != prev_seq + 1:
                if seq <= prev_seq:
                    broke(Break(path.name, ln, seq, "reordered", f"seq {seq} follows seq {prev_seq}"))
                else:
                    missing = f"seq {prev_seq + 1}" + (f"-{seq - 1}" if seq - 1 > prev_seq + 1 else "")
                    broke(Break(path.name, ln, seq, "gap", f"{missing} missing (deleted records or files)"))
            elif p != prev_hash:
                broke(Break(path.name, ln, seq, "prev_mismatch", "prev does not equal the hash of the record before it"))
            if prev_time and t < prev_time:
                broke(Break(path.name, ln, seq, "time_order", f"time {t} is before the previous record's {prev_time}"))
            if t[:10] != day:
                broke(Break(path.name, ln, seq, "wrong_day", f"time {t} does not belong in the file of {day}"))
            prev_hash, prev_seq, prev_time = h, seq, t
            if sink is not None:
                sink(rec)
    v.last_seq = prev_seq if v.records else None
    v.head_hash = prev_hash
    v.last_time = prev_time or None
    return v


def verify_log(directory: str | Path) -> Verification:
    return scan_log(directory)
