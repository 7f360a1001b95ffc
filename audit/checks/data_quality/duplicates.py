"""dq.duplicates: exact key duplicates and fuzzy duplicates of persons."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

_PHONE_HINTS = ("phone", "mobile", "tel")
_EMAIL_HINTS = ("email", "e-mail", "mail")


class DuplicatesParams(CheckParams):
    max_exact: int = Field(0, ge=0, description="Largest acceptable number of repeated id values.")
    max_fuzzy_rate: float = Field(0.01, ge=0, le=1, description="Largest acceptable share of rows that repeat a person under another id.")
    person_columns: list[str] | None = Field(None, description="Columns that identify a person; default: email/phone-like columns.")


def normalise_phone(v: object) -> str:
    digits = re.sub(r"\D", "", str(v))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1") and not digits.startswith("1" * 3):
        return digits
    return digits[-10:] if len(digits) >= 10 else digits


def normalise_email(v: object) -> str:
    s = str(v).strip().lower()
    local, _, domain = s.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if domain else s


@register
class Duplicates(Check):
    meta = CheckMeta(
        id="dq.duplicates",
        title="Duplicate records and duplicate persons",
        category=Category.DATA_QUALITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(d)",),
        provenance=Provenance.TOOL,
        formula="exact: rows whose id value repeats; fuzzy: rows whose normalised email or phone (digits only, country code and case folded, plus-tags dropped) matches another row with a different id, over all rows",
        default_threshold="0 exact; <= 1% fuzzy",
        help="Duplicate persons distort aggregates and break access and erasure requests.",
    )
    Params = DuplicatesParams

    def evaluate(self, subject: Subject, params: DuplicatesParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        df = ds.frame
        id_col = ds.roles.id
        if id_col:
            dup = df[id_col].duplicated(keep=False) & df[id_col].notna()
            yield self.judge(
                f"{subject.label}/exact",
                int(df[id_col][dup].nunique()),
                threshold=params.max_exact,
                op="<=",
                what=f"id values of {id_col} that repeat",
                evidence={"rows_involved": int(dup.sum()), "example_row_positions": [int(i) for i in df.index[dup][:10]]},
            )
        else:
            exact = int(df.duplicated().sum())
            yield self.judge(f"{subject.label}/exact", exact, threshold=params.max_exact, op="<=", what="fully repeated rows")
        cols = params.person_columns or [c for c in df.columns if any(h in str(c).lower() for h in (*_PHONE_HINTS, *_EMAIL_HINTS))]
        cols = [c for c in cols if c in df.columns]
        if not cols:
            yield self.skip(f"{subject.label}/fuzzy", "no email- or phone-like column to compare persons on")
            return
        flagged = pd.Series(False, index=df.index)
        per_col = {}
        for c in cols:
            values = df[c].dropna()
            if values.empty:
                continue
            norm = values.map(normalise_email if any(h in str(c).lower() for h in _EMAIL_HINTS) else normalise_phone)
            norm = norm[norm.str.len() > 4]
            if id_col:
                ids = df.loc[norm.index, id_col]
                distinct = pd.DataFrame({"k": norm, "id": ids}).groupby("k")["id"].nunique()
                keys = distinct[distinct > 1].index
            else:
                counts = norm.value_counts()
                keys = counts[counts > 1].index
            hit = norm.isin(keys)
            per_col[str(c)] = int(hit.sum())
            flagged.loc[hit[hit].index] = True
        rate = float(flagged.mean()) if len(df) else 0.0
        yield self.judge(
            f"{subject.label}/fuzzy",
            rate,
            threshold=params.max_fuzzy_rate,
            op="<=",
            what="share of rows repeating a person under another id",
            evidence={"rows_flagged_by_column": per_col, "columns_compared": [str(c) for c in cols]},
        )
