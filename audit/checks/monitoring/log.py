"""The decision log itself: integrity of its chain, volume of decisions per day, retention."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, fmt, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind
from audit.monitoring.data import DecisionLogData
from audit.monitoring.stats import robust_z

LOGGING_REGULATIONS = ("EU AI Act Art. 12(1)", "EU AI Act Art. 12(2)", "EU AI Act Art. 19(1)", "EU AI Act Art. 26(6)", "GDPR Art. 5(1)(d)", "GDPR Art. 5(2)")


class IntegrityParams(CheckParams):
    max_breaks: int = Field(0, ge=0, description="Chain breaks tolerated (edited, deleted, reordered records, gaps).")


@register
class LogIntegrity(Check):
    meta = CheckMeta(
        id="monitor.log_integrity",
        title="Decision log integrity: hash chain, sequence and time order",
        category=Category.GOVERNANCE,
        severity=Severity.CRITICAL,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=LOGGING_REGULATIONS,
        provenance=Provenance.TOOL,
        formula="every record's SHA-256 recomputed over its canonical JSON; prev equals the previous record's hash; seq 1, 2, 3... without gaps; times non-decreasing; each record in its day's file",
        default_threshold="0 breaks (any break is critical); a partial last line left by a killed writer is noted, not a break",
        help="Automatic logs (Art. 12) are evidence only if they cannot be edited unnoticed; the head hash in the manifest lets a later check catch records cut from the end.",
    )
    Params = IntegrityParams

    def evaluate(self, subject: Subject, params: IntegrityParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        v = log.verification
        evidence = v.to_dict()
        notes = []
        if v.truncated_tail:
            notes.append(f"partial final line in {v.truncated_tail['file']} ({v.truncated_tail['bytes']} bytes) from an interrupted writer, not a record")
        if v.torn_kept:
            notes.append(f"{len(v.torn_kept)} partial line(s) moved to torn/ by a restarted writer")
        if v.stray_files:
            notes.append(f"files not part of the log: {', '.join(v.stray_files)}")
        keys = sorted(set(log.meta["key_id"]) - {""})
        if len(keys) > 1:
            notes.append(f"{len(keys)} pseudonymisation keys used ({', '.join(keys)}): outcomes join only with the matching key")
        evidence["key_ids"] = keys
        n = len(v.breaks)
        note = "; ".join(notes)
        if n > params.max_breaks:
            b = v.breaks[0]
            msg = f"{n} chain break(s) > maximum {params.max_breaks}; first broken record: {b.render()}" + (f"; {note}" if note else "")
            yield Outcome(subject=subject.label, status=Status.FAIL, observed=n, threshold=params.max_breaks, evidence=evidence, message=msg)
            return
        msg = f"chain intact: {v.records} records, seq {v.first_seq}..{v.last_seq}, head {v.head_hash[:16]}... ({self.meta.provenance.phrase})" + (f"; {note}" if note else "")
        yield Outcome(subject=subject.label, status=Status.PASS, observed=n, threshold=params.max_breaks, evidence=evidence, message=msg)


class VolumeParams(CheckParams):
    max_abs_z: float = Field(4.0, gt=0, description="Robust z of a day's decision count beyond which the day is anomalous.")
    min_reference_days: int = Field(5, ge=2, description="Days the reference needs for a median and MAD.")


@register
class VolumeAnomaly(Check):
    meta = CheckMeta(
        id="monitor.volume",
        title="Decision volume anomalies per day against the reference",
        category=Category.GOVERNANCE,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=("EU AI Act Art. 12(2)", "EU AI Act Art. 72(2)", "EU AI Act Art. 26(5)"),
        provenance=Provenance.TOOL,
        formula="decisions per UTC day (days without any counted as 0); z = (count - reference median) / max(1.4826 MAD, sqrt(median)); "
        "the last day of the log is not judged (it may be incomplete)",
        default_threshold="|z| <= 4 (no regulatory threshold)",
        help="A day without decisions can mean the service fell back to another path that was not logged; a surge can mean a batch re-scoring nobody reviewed.",
    )
    Params = VolumeParams

    def evaluate(self, subject: Subject, params: VolumeParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        per_day = log.meta.groupby("day").size()
        days = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
        counts = per_day.reindex(days, fill_value=0)
        in_ref = (days >= pd.Timestamp(log.reference[0])) & (days <= pd.Timestamp(log.reference[1]))
        ref_counts = counts[in_ref].to_numpy(dtype=float)
        evidence = {"reference": log.reference_label, "reference_days": int(in_ref.sum())}
        if in_ref.sum() < params.min_reference_days:
            yield self.skip(subject.label, f"the reference spans {int(in_ref.sum())} day(s); {params.min_reference_days} are needed for a robust baseline", evidence)
            return
        _, med, mad = robust_z(ref_counts, ref_counts)
        scale = max(mad, float(np.sqrt(max(med, 1.0))))
        z = (counts.to_numpy(dtype=float) - med) / scale
        judged = (days > pd.Timestamp(log.reference[1])) & (days < days[-1])
        rows = [{"day": d.date().isoformat(), "count": int(c), "z": round(float(zz), 3), "judged": bool(j), "anomalous": bool(j and abs(zz) > params.max_abs_z)} for d, c, zz, j in zip(days, counts, z, judged)]
        bad = [r for r in rows if r["anomalous"]]
        evidence.update({"median": med, "scaled_mad": mad, "scale": scale, "days": rows, "anomalous_days": [r["day"] for r in bad]})
        if not judged.any():
            yield self.skip(subject.label, "no complete day after the reference to judge", evidence)
            return
        worst = max((r for r in rows if r["judged"]), key=lambda r: abs(r["z"]))
        tail = f" ({self.meta.provenance.phrase}); reference median {med:g} decisions/day"
        if not bad:
            yield Outcome(subject=subject.label, status=Status.PASS, observed=abs(worst["z"]), threshold=params.max_abs_z, evidence=evidence,
                          message=f"largest |z| {fmt(abs(worst['z']))} <= maximum {fmt(params.max_abs_z)} over {int(judged.sum())} day(s){tail}")
            return
        listing = ", ".join(f"{r['day']} ({r['count']}, z {r['z']:+.1f})" for r in bad[:10])
        yield Outcome(subject=subject.label, status=Status.FAIL, observed=abs(bad[0]["z"]), threshold=params.max_abs_z, evidence=evidence,
                      message=f"{len(bad)} day(s) with |z| > maximum {fmt(params.max_abs_z)}: {listing}{tail}")


class RetentionParams(CheckParams):
    max_retention_days: int | None = Field(None, ge=1, description="Decision records older than this must have been deleted (GDPR storage limitation); None: not declared.")
    min_retention_days: int = Field(183, ge=0, description="Logs are kept at least this long (EU AI Act Art. 19(1), 26(6): at least six months).")
    as_of: date | None = Field(None, description="Day ages are measured on; default today (UTC).")


@register
class LogRetention(Check):
    meta = CheckMeta(
        id="monitor.retention",
        title="Decision log retention: nothing kept too long, nothing removed too early",
        category=Category.PRIVACY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DECISION_LOG,),
        regulations=("GDPR Art. 5(1)(e)", "EU AI Act Art. 19(1)", "EU AI Act Art. 26(6)", "PIPL Art. 19"),
        provenance=Provenance.TOOL,
        formula="records older than max_retention_days at the as-of date; and, when the log no longer starts at seq 1, whether its oldest record is younger than min_retention_days",
        default_threshold="0 records past the declared period; the six-month minimum is law for high-risk systems (Art. 19(1), 26(6)), the maximum comes from the policy",
        mode="H",
        help="Deployers keep the logs at least six months; the data-protection side wants them no longer than needed.",
    )
    Params = RetentionParams

    def evaluate(self, subject: Subject, params: RetentionParams, ctx: AuditContext) -> Iterable[Outcome]:
        log: DecisionLogData = subject.obj
        as_of = params.as_of or log.as_of or datetime.now(timezone.utc).date()
        ages = (pd.Timestamp(as_of) - log.meta["day"]).dt.days
        oldest = int(ages.max())
        v = log.verification
        pruned = v.first_seq is not None and v.first_seq > 1
        evidence = {"as_of": as_of.isoformat(), "oldest_record_days": oldest, "records": int(len(ages)), "first_seq": v.first_seq, "max_retention_days": params.max_retention_days, "min_retention_days": params.min_retention_days}
        if pruned and oldest < params.min_retention_days:
            yield Outcome(subject=subject.label, status=Status.FAIL, observed=oldest, threshold=params.min_retention_days, evidence=evidence, severity=Severity.HIGH,
                          message=f"records before seq {v.first_seq} were removed while the oldest kept record is {oldest} days old < minimum {params.min_retention_days} (EU AI Act Art. 19(1), 26(6): at least six months)")
            return
        if params.max_retention_days is None:
            yield self.skip(subject.label, f"no maximum retention declared (max_retention_days); oldest record {oldest} days old", evidence)
            return
        expired = int((ages > params.max_retention_days).sum())
        evidence["expired"] = expired
        yield self.judge(subject.label, expired, threshold=0, op="<=", what="records past the retention period", evidence=evidence,
                         note=f"period {params.max_retention_days} days at {as_of}; oldest record {oldest} days old")
