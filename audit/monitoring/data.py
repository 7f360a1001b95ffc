"""A decision log read for monitoring: records as columns, calendar windows, the reference, outcomes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.core.errors import AuditInputError, ErrorItem
from audit.decisions.log import log_files
from audit.decisions.record import Pseudonymiser
from audit.decisions.verify import Verification, scan_log

_WINDOW_RE = re.compile(r"^(\d+)\s*([dwm])$")


@dataclass(frozen=True)
class WindowSpec:
    """Calendar-aligned windows: days, ISO weeks (Monday start), or calendar months."""

    text: str
    unit: str  # "d", "w" or "m"
    n: int

    def start_of(self, day: pd.Series) -> pd.Series:
        """Window start date for each (UTC) day; ``day`` is datetime64 at midnight."""
        if self.unit == "m":
            months = (day.dt.year - 1970) * 12 + day.dt.month - 1
            start = (months // self.n) * self.n
            return pd.to_datetime({"year": 1970 + start // 12, "month": start % 12 + 1, "day": 1})
        days = self.n * (7 if self.unit == "w" else 1)
        # weeks (and 7d) begin on Monday: 1970-01-05 was a Monday
        anchor = pd.Timestamp("1970-01-05") if days % 7 == 0 else pd.Timestamp("1970-01-01")
        offset = (day - anchor).dt.days // days * days
        return anchor + pd.to_timedelta(offset, unit="D")

    def end_of(self, start: pd.Timestamp) -> pd.Timestamp:
        """Last day (inclusive) of the window starting at ``start``."""
        if self.unit == "m":
            return start + pd.DateOffset(months=self.n) - pd.Timedelta(days=1)
        return start + pd.Timedelta(days=self.n * (7 if self.unit == "w" else 1) - 1)


def parse_window(text: str) -> WindowSpec:
    m = _WINDOW_RE.match(text.strip().lower())
    if not m or int(m.group(1)) < 1:
        raise AuditInputError(ErrorItem(file="<command line>", path="--window", message=f"{text!r} is not a window length", hint="use 1d, 7d (ISO weeks from Monday), 2w or 1m (calendar months)"))
    n, unit = int(m.group(1)), m.group(2)
    if unit == "d" and n % 7 == 0:
        unit, n = "w", n // 7
    return WindowSpec(text.strip().lower(), unit, n)


def parse_reference(text: str) -> tuple[date, date]:
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError
        a, b = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        raise AuditInputError(ErrorItem(file="<command line>", path="--reference", message=f"{text!r} is not START:END", hint="give two ISO dates, both included, e.g. 2026-10-05:2026-10-18")) from None
    if b < a:
        raise AuditInputError(ErrorItem(file="<command line>", path="--reference", message=f"the reference ends ({b}) before it starts ({a})"))
    return a, b


@dataclass
class Window:
    label: str
    start: date
    end: date  # inclusive
    n: int
    in_reference: bool
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat(), "n": self.n, "in_reference": self.in_reference, "complete": self.complete}


@dataclass
class DecisionLogData:
    """Everything the monitoring checks read. Rows are decisions, aligned across the frames."""

    name: str
    directory: str
    verification: Verification
    meta: pd.DataFrame  # time, day, seq, subject, key_id, model, version, score, decision, favourable, window
    features: pd.DataFrame
    groups: pd.DataFrame
    windows: list[Window]
    spec: WindowSpec
    reference: tuple[date, date]
    reference_source: str
    outcomes: pd.Series | None = None  # aligned with meta; NaN where no outcome joined
    outcomes_info: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    features_hashed: int = 0

    @property
    def reference_mask(self) -> np.ndarray:
        d = self.meta["day"]
        return ((d >= pd.Timestamp(self.reference[0])) & (d <= pd.Timestamp(self.reference[1]))).to_numpy()

    @property
    def reference_label(self) -> str:
        return f"{self.reference[0].isoformat()}..{self.reference[1].isoformat()} ({self.reference_source})"

    def monitored_windows(self) -> list[Window]:
        """Windows judged against the reference: those starting after it."""
        return [w for w in self.windows if w.start > self.reference[1]]

    def window_mask(self, w: Window) -> np.ndarray:
        return (self.meta["window"] == w.label).to_numpy()

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "directory": self.directory,
            "records": int(len(self.meta)),
            "first_time": self.verification.first_time,
            "last_time": self.verification.last_time,
            "head": f"{self.verification.last_seq}:{self.verification.head_hash}",
            "window": self.spec.text,
            "reference": self.reference_label,
            "models": sorted({f"{n} {v[:19]}" for n, v in zip(self.meta["model"], self.meta["version"])}) if len(self.meta) else [],
            "outcomes": dict(self.outcomes_info),
        }


class _Collector:
    def __init__(self) -> None:
        self.time: list[str] = []
        self.seq: list[int] = []
        self.subject: list[str] = []
        self.key_id: list[str] = []
        self.model: list[str] = []
        self.version: list[str] = []
        self.score: list[float] = []
        self.decision: list[str] = []
        self.favourable: list[Any] = []
        self.features: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.hashed = 0

    def __call__(self, rec: dict[str, Any]) -> None:
        self.time.append(rec.get("time", ""))
        self.seq.append(rec.get("seq", 0))
        self.subject.append(rec.get("subject", ""))
        self.key_id.append(rec.get("key_id", ""))
        m = rec.get("model") or {}
        self.model.append(str(m.get("name", "")))
        self.version.append(str(m.get("version", "")))
        s = rec.get("score")
        self.score.append(float(s) if isinstance(s, (int, float)) else np.nan)
        self.decision.append(str(rec.get("decision", "")))
        self.favourable.append(rec.get("favourable"))
        f = rec.get("features")
        if f is None:
            self.hashed += 1
            f = {}
        self.features.append(f)
        self.groups.append(rec.get("groups") or {})


def load_log(
    directory: str | Path,
    *,
    window: str = "7d",
    reference: str | None = None,
    outcomes: str | Path | None = None,
    key: bytes | None = None,
    as_of: date | None = None,
    name: str | None = None,
) -> DecisionLogData:
    d = Path(directory)
    if not d.is_dir():
        raise AuditInputError(ErrorItem(file=str(d), message="decision log folder not found", hint="give the folder the service writes (serve --log DIR)"))
    if not log_files(d):
        raise AuditInputError(ErrorItem(file=str(d), message="no decision log files (decisions-YYYY-MM-DD.jsonl) in this folder", hint="check the path"))
    spec = parse_window(window)
    col = _Collector()
    verification = scan_log(d, sink=col)
    if not col.time:
        raise AuditInputError(ErrorItem(file=str(d), message="the decision log holds no readable record"))
    times = pd.to_datetime(pd.Series(col.time), utc=True, format="ISO8601").dt.tz_localize(None)
    meta = pd.DataFrame(
        {
            "time": times,
            "day": times.dt.normalize(),
            "seq": np.asarray(col.seq, dtype=np.int64),
            "subject": col.subject,
            "key_id": col.key_id,
            "model": col.model,
            "version": col.version,
            "score": np.asarray(col.score, dtype=float),
            "decision": col.decision,
            "favourable": pd.array(col.favourable, dtype="boolean"),
        }
    )
    starts = spec.start_of(meta["day"])
    meta["window"] = starts.dt.strftime("%Y-%m-%d")
    features = pd.DataFrame.from_records(col.features)
    groups = pd.DataFrame.from_records(col.groups).astype("string").fillna("unknown") if any(col.groups) else pd.DataFrame(index=meta.index)
    first_day, last_day = meta["day"].min(), meta["day"].max()
    if reference:
        ref = parse_reference(reference)
        ref_source = "--reference"
    else:
        s0 = starts.min()
        ref = (s0.date(), spec.end_of(s0).date())
        ref_source = f"first {spec.text} window of the log"
    windows = []
    counts = meta["window"].value_counts()
    for s in sorted(starts.unique()):
        s = pd.Timestamp(s)
        e = spec.end_of(s)
        windows.append(
            Window(
                label=s.strftime("%Y-%m-%d"),
                start=s.date(),
                end=e.date(),
                n=int(counts.get(s.strftime("%Y-%m-%d"), 0)),
                in_reference=bool(s.date() <= ref[1] and e.date() >= ref[0]),
                complete=bool(s >= first_day and e <= last_day),
            )
        )
    data = DecisionLogData(
        name=name or d.resolve().name,
        directory=str(d),
        verification=verification,
        meta=meta,
        features=features,
        groups=groups,
        windows=windows,
        spec=spec,
        reference=ref,
        reference_source=ref_source,
        as_of=as_of,
        features_hashed=col.hashed,
    )
    if not data.reference_mask.any():
        raise AuditInputError(ErrorItem(file="<command line>", path="--reference", message=f"no decision falls in the reference {ref[0]}..{ref[1]}; the log runs {first_day.date()}..{last_day.date()}", hint="choose a reference period inside the log"))
    if outcomes is not None:
        _join_outcomes(data, Path(outcomes), key)
    return data


def _join_outcomes(data: DecisionLogData, path: Path, key: bytes | None) -> None:
    if not path.is_file():
        raise AuditInputError(ErrorItem(file=str(path), message="outcomes file not found"))
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path, dtype={"customer_id": str, "subject": str})
    except Exception as exc:  # noqa: BLE001 - any reader error is an input error here
        raise AuditInputError(ErrorItem(file=str(path), message=f"cannot read the outcomes file: {exc}")) from None
    if "outcome" not in frame.columns or not ({"customer_id", "subject"} & set(frame.columns)):
        raise AuditInputError(ErrorItem(file=str(path), message="the outcomes file needs a column 'outcome' (1/0) and 'customer_id' (pseudonymised with the log's key) or 'subject' (already pseudonymised)", hint=f"columns found: {', '.join(map(str, frame.columns))}"))
    if "subject" in frame.columns:
        subjects = frame["subject"].astype(str)
        how = "subject column (already pseudonymised)"
    else:
        if key is None:
            raise AuditInputError(ErrorItem(file=str(path), path="customer_id", message="outcomes carry customer ids but no pseudonymisation key was given", hint="pass --key-file (the key the service used) or set CRM_AUDIT_LOG_KEY; or give a 'subject' column"))
        p = Pseudonymiser(key)
        log_keys = set(data.meta["key_id"].unique()) - {""}
        if log_keys and p.key_id not in log_keys:
            raise AuditInputError(ErrorItem(file=str(path), message=f"the key given is not the log's key (key id {p.key_id}; the log's: {', '.join(sorted(log_keys))})", hint="use the key the scoring service used"))
        subjects = frame["customer_id"].astype(str).map(p.pseudonym)
        how = "customer_id pseudonymised with the log's key"
    raw = frame["outcome"]
    if pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
    else:
        values = pd.to_numeric(raw, errors="coerce")
        bad = raw[values.isna() & raw.notna()]
        if len(bad) or not values.dropna().isin([0, 1]).all():
            example = bad.iloc[0] if len(bad) else values[~values.isin([0, 1]) & values.notna()].iloc[0]
            raise AuditInputError(ErrorItem(file=str(path), path="outcome", message=f"outcomes must be 1 (the positive class the score predicts) or 0; found {example!r}"))
    dup = subjects[subjects.duplicated()]
    if len(dup):
        raise AuditInputError(ErrorItem(file=str(path), message=f"{len(dup)} customer(s) have more than one outcome row", hint="keep one outcome per customer"))
    lookup = pd.Series(values.to_numpy(), index=subjects.to_numpy())
    joined = data.meta["subject"].map(lookup)
    data.outcomes = joined.astype(float)
    matched = int(joined.notna().sum())
    data.outcomes_info = {"file": str(path), "rows": int(len(frame)), "joined_decisions": matched, "unmatched_outcomes": int((~subjects.isin(set(data.meta["subject"]))).sum()), "joined_by": how}
