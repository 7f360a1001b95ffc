"""dq.retention: records kept beyond the declared retention period without a legal hold."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from pydantic import Field

from audit.checks.data_quality.validity import as_of_date, ids_where, parse_dates, timestamp_columns
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

_TRUE = {"1", "true", "yes", "y", "t", "hold", "on", "是"}


class RetentionParams(CheckParams):
    retention_days: int | None = Field(
        None,
        ge=1,
        description="Retention period in days after the last activity; None: not declared (the check is skipped).",
    )
    activity_columns: list[str] | None = Field(
        None,
        description="Columns dating a record's last activity (the latest one counts); default: the declared timestamp columns, else date-like columns.",
    )
    legal_hold_column: str | None = Field(
        None, description="Boolean column marking records under legal hold (kept lawfully beyond the period)."
    )
    max_expired: int = Field(0, ge=0, description="Largest acceptable number of expired records.")
    as_of: date | None = Field(
        None,
        description="Day the age of records is measured on; default: today (the demo's snapshot date for the demo).",
    )
    attestation_id: str = Field(
        "retention_period", description="Attestation item recording how the period is enforced."
    )
    max_ids: int = Field(50, ge=0, description="Row ids of expired records listed.")


def _held(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(series):
        return series.fillna(0) != 0
    return series.astype("string").str.strip().str.lower().isin(_TRUE).fillna(False).astype(bool)


@register
class Retention(Check):
    meta = CheckMeta(
        id="dq.retention",
        title="Records kept beyond the retention period",
        category=Category.DATA_QUALITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(e)", "PIPL Art. 19"),
        provenance=Provenance.TOOL,
        formula="records whose latest activity timestamp is more than retention_days before the as-of date and that "
        "are not under legal hold; records with no timestamp are counted apart",
        default_threshold="0 expired records (the period itself comes from the policy)",
        mode="H",
        help="Storage limitation: personal data may be kept only as long as the purpose needs; the period and its "
        "enforcement are attested, the data shows whether it is applied.",
    )
    Params = RetentionParams

    def evaluate(self, subject: Subject, params: RetentionParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        if params.retention_days is None:
            yield self.skip(subject.label, "no retention period declared: declare retention_days in the policy")
            return
        df = ds.frame
        cols = params.activity_columns if params.activity_columns is not None else timestamp_columns(ds)
        missing = [c for c in cols if c not in df.columns]
        cols = [c for c in cols if c in df.columns]
        if not cols:
            yield self.skip(
                subject.label,
                "no timestamp column dates the records (declare roles.timestamps or activity_columns)",
                {"missing_columns": missing},
            )
            return
        last = pd.concat([parse_dates(df[c]) for c in cols], axis=1).max(axis=1)
        as_of = as_of_date(ctx, params.as_of)
        cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=params.retention_days)
        old = last.notna() & (last < cutoff)
        hold_col = params.legal_hold_column
        if hold_col and hold_col not in df.columns:
            yield self.skip(subject.label, f"legal hold column {hold_col!r} is not in the data")
            return
        held = _held(df[hold_col]) if hold_col else pd.Series(False, index=df.index)
        expired = old & ~held
        attest = ctx.attestations.get(params.attestation_id)
        evidence = {
            "retention_days": params.retention_days,
            "as_of": as_of.isoformat(),
            "cutoff": cutoff.date().isoformat(),
            "activity_columns": cols,
            "rows": len(df),
            "older_than_period": int(old.sum()),
            "under_legal_hold": int((old & held).sum()),
            "expired": int(expired.sum()),
            "undated_rows": int(last.isna().sum()),
            "oldest_activity": last.min().date().isoformat() if last.notna().any() else None,
            "expired_row_ids": ids_where(ds, expired, params.max_ids),
            "legal_hold_column": hold_col,
            "attestation": {"id": params.attestation_id, "answered": bool(attest and attest.answered)},
        }
        if missing:
            evidence["missing_columns"] = missing
        note = f"period {params.retention_days} days after the latest of {', '.join(cols)}; cutoff {cutoff.date()}"
        if not hold_col:
            note += "; no legal hold column declared"
        yield self.judge(
            subject.label,
            int(expired.sum()),
            threshold=params.max_expired,
            op="<=",
            what="records past the retention period",
            evidence=evidence,
            note=note,
        )
