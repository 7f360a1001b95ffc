"""Append-only writer of the decision log: JSON Lines, one file per UTC day, hash-chained, fsync'd.

Layout of a log folder::

    decisions-2026-11-02.jsonl   one record per line, the day of the record's time (UTC)
    decisions-2026-11-03.jsonl
    .lock                        advisory lock shared by every writer (threads and processes)
    torn/                        bytes of a line cut off by a killed writer, kept as evidence

A batch is written with one ``write`` per day file and made durable with ``fsync`` before
``append`` returns, so a caller that answers a request only after ``append`` never reports a
decision that is not on disk. A process killed mid-write can leave at most a partial last line;
the next writer moves those bytes to ``torn/`` (they were never acknowledged) and continues the
chain from the last complete record, and a reader meeting such a line flags it instead of failing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit.decisions.record import FIELDS, GENESIS, record_hash

FILE_RE = re.compile(r"^decisions-(\d{4}-\d{2}-\d{2})\.jsonl$")
TAIL_BLOCK = 1 << 16


def day_file(directory: Path, day: str) -> Path:
    return directory / f"decisions-{day}.jsonl"


def log_files(directory: str | Path) -> list[Path]:
    """The day files of a log folder, oldest first."""
    d = Path(directory)
    return sorted((p for p in d.iterdir() if FILE_RE.match(p.name)), key=lambda p: p.name) if d.is_dir() else []


def format_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@dataclass
class _Tail:
    seq: int
    hash: str
    time: str
    path: Path | None
    size: int


def _ordered_line(rec: Mapping[str, Any]) -> bytes:
    ordered = {k: rec[k] for k in FIELDS if k in rec}
    ordered.update({k: v for k, v in rec.items() if k not in ordered})
    return (json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DecisionLogWriter:
    """Thread- and process-safe appender. Use one per process; share it between threads."""

    def __init__(self, directory: str | Path, *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._lock_fh = open(self.directory / ".lock", "a+b")  # noqa: SIM115 - held for the writer's life
        self._cache: _Tail | None = None
        self.recovered: list[dict[str, Any]] = []

    def close(self) -> None:
        self._lock_fh.close()

    def __enter__(self) -> DecisionLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading the end of the chain -------------------------------------------------
    def _tail(self) -> _Tail:
        files = log_files(self.directory)
        c = self._cache
        if c is not None and files and c.path == files[-1] and files[-1].stat().st_size == c.size:
            return c
        for path in reversed(files):
            last = self._last_complete_line(path)
            if last is not None:
                rec = json.loads(last)
                return _Tail(int(rec["seq"]), str(rec["hash"]), str(rec["time"]), path, path.stat().st_size)
        return _Tail(0, GENESIS, "", None, 0)

    def _last_complete_line(self, path: Path) -> bytes | None:
        """The last complete line of a day file; a torn final line is moved to torn/ first."""
        with open(path, "r+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return None
            start = size
            while True:
                start = max(0, start - TAIL_BLOCK)
                fh.seek(start)
                buf = fh.read(size - start)
                body = buf[:-1] if buf.endswith(b"\n") else buf
                if b"\n" in body or start == 0:
                    break
            if not buf.endswith(b"\n"):
                cut = buf.rfind(b"\n")
                keep = start + cut + 1 if cut >= 0 else 0
                torn = buf[cut + 1 :] if cut >= 0 else buf
                self._keep_torn(path, keep, torn)
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
                if keep == 0:
                    return None
                return self._last_complete_line(path)
            lines = buf[:-1].rsplit(b"\n", 1)
            return lines[-1]

    def _keep_torn(self, path: Path, offset: int, data: bytes) -> None:
        torn_dir = self.directory / "torn"
        torn_dir.mkdir(exist_ok=True)
        target = torn_dir / f"{path.name}.{offset}.bin"
        with open(target, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.recovered.append({"file": path.name, "offset": offset, "bytes": len(data), "kept_as": f"torn/{target.name}"})

    # --- appending ---------------------------------------------------------------------
    def append(self, records: Sequence[Mapping[str, Any]], *, times: Sequence[datetime] | None = None) -> list[dict[str, Any]]:
        """Chain, write and fsync a batch; return the records as written (with seq, time, prev, hash).

        ``times`` (one per record) backdates records, e.g. when importing decisions made elsewhere;
        they must not go back before the last record already in the log.
        """
        if not records:
            return []
        if times is not None and len(times) != len(records):
            raise ValueError("times must give one time per record")
        with self._lock:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_EX)
            try:
                return self._append_locked(records, times)
            finally:
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)

    def _append_locked(self, records: Sequence[Mapping[str, Any]], times: Sequence[datetime] | None) -> list[dict[str, Any]]:
        tail = self._tail()
        seq, prev, last_time = tail.seq, tail.hash, tail.time
        now = format_time(datetime.now(timezone.utc))
        out: list[dict[str, Any]] = []
        chunks: dict[str, list[bytes]] = {}
        for i, base in enumerate(records):
            t = format_time(times[i]) if times is not None else now
            if last_time and t < last_time:
                if times is not None:
                    raise ValueError(f"record time {t} is before the last logged time {last_time}")
                t = last_time  # the wall clock stepped back: keep the log in time order
            seq += 1
            rec = {k: v for k, v in base.items() if k not in ("seq", "time", "prev", "hash")}
            rec.update({"seq": seq, "time": t, "prev": prev})
            rec["hash"] = record_hash(rec)
            prev, last_time = rec["hash"], t
            out.append(rec)
            chunks.setdefault(t[:10], []).append(_ordered_line(rec))
        created = False
        path = None
        for day, lines in chunks.items():
            path = day_file(self.directory, day)
            created = created or not path.exists()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                _write_all(fd, b"".join(lines))
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        if created and self.fsync:
            _fsync_dir(self.directory)
        assert path is not None
        self._cache = _Tail(seq, prev, last_time, path, path.stat().st_size)
        return out
