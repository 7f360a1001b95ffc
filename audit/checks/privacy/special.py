"""Special categories of personal data (lexicon on column names and texts) and children's data (PIPL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
from pydantic import Field

from audit.checks.data_quality.validity import (
    age_at,
    age_columns,
    as_of_date,
    ids_where,
    is_missing,
    nonempty,
    resident_id_columns,
)
from audit.checks.privacy.pii import row_ids
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind

__all__ = ["ChineseMinors", "SpecialCategory"]


# --------------------------------------------------------------------------- pii.special_category
class SpecialCategoryParams(CheckParams):
    attestation_id: str = Field(
        "special_category_legal_basis",
        description="Attestation recording the legal basis (GDPR Art. 9(2) condition, PIPL Art. 29 separate consent).",
    )
    extra_lexicons: list[str] = Field(
        default_factory=list, description="Extra lexicon YAML files (same shape as the packaged one)."
    )
    min_rows: int = Field(1, ge=1, description="Rows of a text column that must mention a category before it counts.")
    max_ids: int = Field(200, ge=0, description="Row ids listed per category.")


@register
class SpecialCategory(Check):
    meta = CheckMeta(
        id="pii.special_category",
        title="Special categories of personal data",
        category=Category.PRIVACY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DATASET, SubjectKind.TEXT_COLUMN),
        regulations=(
            "GDPR Art. 9",
            "GDPR Art. 22(4)",
            "PIPL Art. 28",
            "PIPL Art. 29",
            "Cal. Civ. Code 1798.140(ae)",
            "Cal. Civ. Code 1798.121",
        ),
        provenance=Provenance.LAW,
        formula="dataset: column names matched against the special-category lexicon (health, religion, ethnicity, "
        "political opinion, trade union, sex life, biometrics, genetics, criminal records, precise location, financial "
        "accounts, minors); text column: rows mentioning a lexicon term, per category",
        default_threshold="any hit needs an attested legal basis",
        mode="H",
        help="Processing special-category or sensitive personal information is prohibited unless a specific "
        "condition (explicit or separate consent, a legal obligation) applies; the audit flags it so the basis is recorded.",
        provides=("special_category_hits",),
    )
    Params = SpecialCategoryParams

    def evaluate(self, subject: Subject, params: SpecialCategoryParams, ctx: AuditContext) -> Iterable[Outcome]:
        from audit.pii import SpecialCategoryScanner

        ds = subject.dataset
        assert ds is not None
        scanner = ctx.cached(
            "special_category_scanner:" + "|".join(params.extra_lexicons),
            lambda: SpecialCategoryScanner(params.extra_lexicons),
        )
        if subject.kind is SubjectKind.DATASET:
            by_cat: dict[str, list[str]] = {}
            for col in ds.frame.columns:
                for cat in scanner.scan_column_name(str(col)):
                    by_cat.setdefault(cat, []).append(str(col))
            evidence: dict[str, Any] = {"columns_by_category": by_cat, "columns_checked": len(ds.frame.columns)}
            found = {cat: len(cols) for cat, cols in by_cat.items()}
            what = ", ".join(f"{cat} ({', '.join(cols)})" for cat, cols in by_cat.items())
            unit = "column(s)"
        else:
            col = str(subject.column)
            if col not in ds.frame.columns:
                yield self.skip(subject.label, f"declared text column {col!r} is not in the data")
                return
            texts = ds.frame[col].tolist()
            ids = row_ids(ds)
            rows: dict[str, list[Any]] = {}
            terms: dict[str, Counter[str]] = {}
            for pos, text in enumerate(texts):
                if is_missing(text):
                    continue
                for cat, hits in scanner.scan_text(str(text)).items():
                    rows.setdefault(cat, []).append(ids[pos])
                    terms.setdefault(cat, Counter()).update(h.term.lower() for h in hits)
            rows = {c: r for c, r in rows.items() if len(r) >= params.min_rows}
            found = {c: len(r) for c, r in sorted(rows.items(), key=lambda kv: -len(kv[1]))}
            evidence = {
                "rows_scanned": len(texts),
                "rows_by_category": {c: rows[c][: params.max_ids] for c in found},
                "row_counts": found,
                "terms_by_category": {c: dict(terms[c].most_common(10)) for c in found},
            }
            what = ", ".join(f"{cat} in {n} rows" for cat, n in found.items())
            unit = "row(s)"
        evidence["legal_basis_refs"] = {cat: scanner.legal_basis(cat) for cat in found}
        if not found:
            yield Outcome(
                subject=subject.label,
                status=Status.PASS,
                message="no special-category term found",
                observed=0,
                threshold=0,
                evidence=evidence,
            )
            return
        ctx.facts.special_category_hits[subject.label] = dict(found)
        attest = ctx.attestations.get(params.attestation_id)
        total = sum(found.values())
        evidence["attestation"] = {"id": params.attestation_id, **(attest.to_dict() if attest else {"answered": False})}
        if attest and attest.answered:
            yield Outcome(
                subject=subject.label,
                status=Status.PASS,
                message=f"special categories found: {what}; legal basis attested by {attest.attested_by} on {attest.date}",
                observed=total,
                threshold=0,
                evidence=evidence,
            )
            return
        yield Outcome(
            subject=subject.label,
            status=Status.FAIL,
            message=f"special categories found in {total} {unit}: {what}; no legal basis is attested "
            f"(attestation {params.attestation_id!r} is open): record the GDPR Art. 9(2) condition or PIPL Art. 29 separate consent",
            observed=total,
            threshold=0,
            evidence=evidence,
        )


# --------------------------------------------------------------------------- pii.cn_minor
class ChineseMinorsParams(CheckParams):
    min_age: int = Field(
        14, ge=1, le=18, description="Under this age personal information is sensitive (PIPL Art. 28: under 14)."
    )
    id_columns: list[str] | None = Field(
        None, description="Resident-ID columns; default: detected by name and value shape."
    )
    age_columns: list[str] | None = Field(
        None, description="Age-in-years columns also checked; default: detected by name (age, 年龄)."
    )
    as_of: date | None = Field(
        None, description="Day ages are computed on; default: today (the demo's snapshot date for the demo)."
    )
    sample_size: int = Field(200, ge=10, description="Values sampled to detect resident-ID columns.")
    max_ids: int = Field(200, ge=0, description="Row ids of minors listed.")


@register
class ChineseMinors(Check):
    meta = CheckMeta(
        id="pii.cn_minor",
        title="Children under 14 (sensitive personal information under PIPL)",
        category=Category.PRIVACY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DATASET,),
        regulations=("PIPL Art. 28", "PIPL Art. 31"),
        provenance=Provenance.LAW,
        formula="age on the as-of date from the birth date encoded in each valid resident ID (digits 7-14), and from "
        "age columns; rows under min_age (14) counted",
        default_threshold="0 children under 14 without the PIPL Art. 31 safeguards",
        help="Personal information of a child under 14 is sensitive personal information: it needs a guardian's "
        "consent and dedicated processing rules. Only under-14s are counted; 14-17 year olds are not flagged.",
        provides=("minors_found",),
    )
    Params = ChineseMinorsParams

    def evaluate(self, subject: Subject, params: ChineseMinorsParams, ctx: AuditContext) -> Iterable[Outcome]:
        from audit.pii import cn_resident_id_info

        ds = subject.dataset
        assert ds is not None
        df = ds.frame
        id_cols = (
            params.id_columns
            if params.id_columns is not None
            else resident_id_columns(ds, params.sample_size, ctx.seed)
        )
        id_cols = [c for c in id_cols if c in df.columns]
        ages = params.age_columns if params.age_columns is not None else age_columns(ds)
        ages = [c for c in ages if c in df.columns]
        if not id_cols and not ages:
            yield self.skip(subject.label, "no resident-ID or age column to derive ages from")
            return
        as_of = as_of_date(ctx, params.as_of)
        minor = pd.Series(False, index=df.index)
        by_source: dict[str, int] = {}
        checked: dict[str, int] = {}
        for col in id_cols:
            filled = nonempty(df[col])
            info = df[col][filled].map(lambda v: cn_resident_id_info(str(v)))
            valid = info.dropna()
            young = valid.map(lambda bs: age_at(bs[0], as_of) < params.min_age)
            hit = pd.Series(False, index=df.index)
            hit.loc[young[young].index] = True
            minor |= hit
            by_source[col] = int(hit.sum())
            checked[col] = len(valid)
        for col in ages:
            num = pd.to_numeric(df[col], errors="coerce")
            hit = (num >= 0) & (num < params.min_age)
            minor |= hit.fillna(False)
            by_source[col] = int(hit.sum())
            checked[col] = int(num.notna().sum())
        n = int(minor.sum())
        if n:
            ctx.facts.minors_found = True
        evidence = {
            "min_age": params.min_age,
            "as_of": as_of.isoformat(),
            "resident_id_columns": id_cols,
            "age_columns": ages,
            "values_checked": checked,
            "minors_by_column": by_source,
            "minor_rows": n,
            "minor_row_ids": ids_where(ds, minor, params.max_ids),
        }
        yield self.judge(
            subject.label,
            n,
            threshold=0,
            op="<=",
            what=f"rows of children under {params.min_age}",
            evidence=evidence,
            note=(
                "their data is sensitive personal information: guardian consent and dedicated processing rules are required"
                if n
                else f"only under-{params.min_age}s are counted (PIPL Art. 28); 14-17 year olds are not flagged"
            ),
        )
