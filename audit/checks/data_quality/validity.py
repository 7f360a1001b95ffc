"""Plausible values: ranges, dates not in the future, checksums of identifiers; resident-ID consistency.

Also holds the column-finding helpers the privacy checks share (age, birth-date, gender,
timestamp and resident-ID columns) and the audit's reference date.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Dataset, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

__all__ = [
    "CnIdConsistency",
    "Validity",
    "age_at",
    "age_columns",
    "as_of_date",
    "birth_date_columns",
    "gender_columns",
    "ids_where",
    "is_missing",
    "nonempty",
    "normalise_gender",
    "parse_dates",
    "resident_id_columns",
    "timestamp_columns",
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")
_RIC_SHAPE = re.compile(r"^[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]$")
_CARD_SHAPE = re.compile(r"^\d{13,19}$")
_CN_MOBILE_SHAPE = re.compile(r"^(?:\+?86)?1\d{10}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_TIME_TOKENS = {"date", "at", "time", "timestamp", "ts", "datetime", "updated", "created", "modified"}
_BIRTH_TOKENS = {"birth", "birthday", "dob", "birthdate", "born"}
_MALE = {"m", "male", "man", "men", "男", "男性"}
_FEMALE = {"f", "female", "woman", "women", "女", "女性"}


# --------------------------------------------------------------------------- shared helpers
def as_of_date(ctx: AuditContext, override: date | None = None) -> date:
    """Reference date: the policy's ``as_of``, else the demo CRM's snapshot date, else today (UTC)."""
    if override is not None:
        return override
    return ctx.as_of or datetime.now(UTC).date()


def name_tokens(name: Any) -> list[str]:
    return [p.lower() for p in _SPLIT.split(_CAMEL.sub("_", str(name))) if p]


def nonempty(series: pd.Series) -> pd.Series:
    """Boolean mask of cells holding a value (blank strings count as empty)."""
    mask = series.notna()
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)):
        mask &= series.astype("string").str.strip().fillna("") != ""
    return mask


def ids_where(ds: Dataset, mask: pd.Series, cap: int) -> list[Hashable]:
    """Id-column values (row index labels without one) of the first ``cap`` rows where ``mask`` holds."""
    rows = ds.frame.index[mask.to_numpy(dtype=bool)][:cap]
    col = ds.roles.id if ds.roles.id and ds.roles.id in ds.frame.columns else None
    values = ds.frame.loc[rows, col].tolist() if col else list(rows)
    return [v.item() if hasattr(v, "item") else (v if isinstance(v, (int, str)) else str(v)) for v in values]


def _numeric(series: pd.Series) -> pd.Series:
    return series if pd.api.types.is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")


def age_columns(ds: Dataset) -> list[str]:
    """Columns named like an age in years (``age``, ``customer_age``, ``年龄``) holding numbers."""
    out = []
    for c in ds.frame.columns:
        toks = name_tokens(c)
        if not ((toks and toks[-1] == "age") or "年龄" in str(c) or "周岁" in str(c)):
            continue
        s = ds.frame[c]
        filled = nonempty(s)
        if pd.api.types.is_bool_dtype(s) or filled.sum() == 0:
            continue
        if _numeric(s)[filled].notna().mean() >= 0.9:
            out.append(str(c))
    return out


def birth_date_columns(ds: Dataset) -> list[str]:
    return [
        str(c) for c in ds.frame.columns if set(name_tokens(c)) & _BIRTH_TOKENS or "出生" in str(c) or "生日" in str(c)
    ]


def gender_columns(ds: Dataset) -> list[str]:
    return [str(c) for c in ds.frame.columns if set(name_tokens(c)) & {"gender", "sex"} or "性别" in str(c)]


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values
        return False


def normalise_gender(value: Any) -> str | None:
    s = "" if is_missing(value) else str(value).strip().lower()
    return "male" if s in _MALE else "female" if s in _FEMALE else None


def parse_dates(series: pd.Series) -> pd.Series:
    """Timestamps (naive, UTC); unparseable cells, and bare numbers (units unknown), become NaT."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(series):
        s = series
        return s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
    return pd.to_datetime(series.astype("object"), errors="coerce", utc=True, format="mixed").dt.tz_convert(None)


def timestamp_columns(ds: Dataset) -> list[str]:
    """Declared timestamp columns, else columns named or typed like dates (birth dates excluded)."""
    declared = [c for c in ds.roles.timestamps if c in ds.frame.columns]
    if declared:
        return declared
    births = set(birth_date_columns(ds))
    out = []
    for c in ds.frame.columns:
        if str(c) in births or c in ds.roles.text:
            continue
        s = ds.frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out.append(str(c))
            continue
        toks = name_tokens(c)
        if not (toks and toks[-1] in _TIME_TOKENS) and "日期" not in str(c) and "时间" not in str(c):
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        filled = nonempty(s)
        sample = s[filled].head(200)
        if len(sample) and parse_dates(sample).notna().mean() >= 0.9:
            out.append(str(c))
    return out


def _compact(series: pd.Series) -> pd.Series:
    return series.astype("string").str.replace(_SEPARATORS, "", regex=True).str.strip()


def _sample(series: pd.Series, n: int, seed: int) -> pd.Series:
    s = series[nonempty(series)]
    return s.sample(n=n, random_state=seed) if len(s) > n else s


def resident_id_columns(ds: Dataset, sample_size: int = 200, seed: int = 0) -> list[str]:
    """Columns named like a Chinese resident ID, or whose sampled values mostly have its shape."""
    from audit.pii import column_name_hint

    out = []
    for c in ds.frame.columns:
        s = ds.frame[c]
        if c in ds.roles.text or pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
            continue
        if column_name_hint(str(c)) == "CN_RESIDENT_ID":
            out.append(str(c))
            continue
        sample = _compact(_sample(s, sample_size, seed))
        if len(sample) and sample.str.fullmatch(_RIC_SHAPE.pattern).fillna(False).mean() >= 0.8:
            out.append(str(c))
    return out


def _card_columns(ds: Dataset, sample_size: int, seed: int) -> list[str]:
    from audit.pii import column_name_hint, luhn_valid

    out = []
    for c in ds.frame.columns:
        s = ds.frame[c]
        if c in ds.roles.text or pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
            continue
        if column_name_hint(str(c)) in ("CREDIT_CARD", "CN_BANK_CARD"):
            out.append(str(c))
            continue
        sample = _compact(_sample(s, sample_size, seed))
        if not len(sample):
            continue
        shaped = sample.str.fullmatch(_CARD_SHAPE.pattern).fillna(False)
        if shaped.mean() >= 0.8 and sample[shaped].map(luhn_valid).mean() >= 0.5:
            out.append(str(c))
    return out


def _mobile_columns(ds: Dataset, sample_size: int, seed: int) -> list[str]:
    from audit.pii import column_name_hint

    out = []
    for c in ds.frame.columns:
        s = ds.frame[c]
        if c in ds.roles.text or pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
            continue
        if column_name_hint(str(c)) in ("PHONE_NUMBER", "CN_MOBILE"):
            out.append(str(c))
            continue
        sample = _compact(_sample(s, sample_size, seed))
        if len(sample) and sample.str.fullmatch(_CN_MOBILE_SHAPE.pattern).fillna(False).mean() >= 0.5:
            out.append(str(c))
    return out


def age_at(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --------------------------------------------------------------------------- dq.validity
class ValidityParams(CheckParams):
    min_valid_rate: float = Field(
        0.99, ge=0, le=1, description="Smallest acceptable share of valid values per rule and column."
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"age": (0.0, 120.0)},
        description="Allowed [min, max] per column name; a key also matches columns whose name ends with it (customer_age).",
    )
    as_of: date | None = Field(
        None,
        description="Dates after this day are in the future; default: today (the demo's snapshot date for the demo).",
    )
    id_columns: list[str] | None = Field(
        None, description="Resident-ID columns; default: detected by name and value shape."
    )
    card_columns: list[str] | None = Field(
        None, description="Card-number columns; default: detected by name, shape and Luhn."
    )
    phone_columns: list[str] | None = Field(
        None, description="Phone columns whose Chinese mobile numbers are checked; default: detected."
    )
    sample_size: int = Field(200, ge=10, description="Values sampled to detect identifier columns.")
    max_ids: int = Field(50, ge=0, description="Row ids of invalid values listed per rule.")


@register
class Validity(Check):
    meta = CheckMeta(
        id="dq.validity",
        title="Valid values: ranges, no future dates, identifier checksums",
        category=Category.DATA_QUALITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(d)", "EU AI Act Art. 10(3)"),
        provenance=Provenance.TOOL,
        formula="per column and rule, valid values / non-empty values: numbers within the declared range (age 0-120); "
        "dates parseable and not after the as-of date; resident IDs passing GB 11643 (ISO 7064 MOD 11-2 and a real "
        "birth date; 15-digit 1989-format numbers, which have no check character, on the date alone, counted apart); card numbers passing Luhn; Chinese mobile numbers with an allocated carrier prefix",
        default_threshold=">= 99% valid per rule",
        help="Impossible ages, future dates and identifiers that fail their own checksum are inaccurate personal "
        "data and corrupt any model trained on them.",
    )
    Params = ValidityParams

    def evaluate(self, subject: Subject, params: ValidityParams, ctx: AuditContext) -> Iterable[Outcome]:
        from audit.pii import cn_mobile_prefix_valid, luhn_valid, ric_valid

        ds = subject.dataset
        assert ds is not None
        df = ds.frame
        produced = False

        def rate(col: str, rule: str, valid: pd.Series, filled: pd.Series, what: str, extra: dict[str, Any]) -> Outcome:
            n = int(filled.sum())
            bad = filled & ~valid
            evidence = {
                "rule": rule,
                "values_checked": n,
                "invalid": int(bad.sum()),
                "invalid_row_ids": ids_where(ds, bad, params.max_ids),
                **extra,
            }
            return self.judge(
                f"{subject.label}/column:{col}/{rule}",
                (n - int(bad.sum())) / n,
                threshold=params.min_valid_rate,
                op=">=",
                what=what,
                evidence=evidence,
                note=f"{int(bad.sum())} of {n} values invalid",
            )

        # ranges
        for key, (lo, hi) in params.ranges.items():
            for col in [
                str(c) for c in df.columns if str(c).lower() == key.lower() or (name_tokens(c)[-1:] == [key.lower()])
            ]:
                s = df[col]
                filled = nonempty(s)
                if not filled.any() or pd.api.types.is_bool_dtype(s):
                    continue
                num = _numeric(s)
                valid = num.between(lo, hi) & num.notna()
                produced = True
                yield rate(
                    col,
                    "range",
                    valid,
                    filled,
                    f"share of {col} values within {lo:g}-{hi:g}",
                    {"range": [lo, hi], "not_numeric": int((filled & num.isna()).sum())},
                )

        # dates
        as_of = as_of_date(ctx, params.as_of)
        limit = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        for col in dict.fromkeys([*timestamp_columns(ds), *birth_date_columns(ds)]):
            s = df[col]
            filled = nonempty(s)
            if not filled.any() or pd.api.types.is_numeric_dtype(s):
                continue
            parsed = parse_dates(s)
            future = parsed >= limit
            valid = parsed.notna() & ~future
            produced = True
            yield rate(
                col,
                "future_dates",
                valid,
                filled,
                f"share of {col} dates parseable and not after {as_of}",
                {
                    "as_of": as_of.isoformat(),
                    "future": int((filled & future).sum()),
                    "unparseable": int((filled & parsed.isna()).sum()),
                },
            )

        # checksums
        id_cols = (
            params.id_columns
            if params.id_columns is not None
            else resident_id_columns(ds, params.sample_size, ctx.seed)
        )
        for col in [c for c in id_cols if c in df.columns]:
            filled = nonempty(df[col])
            if not filled.any():
                continue
            valid = df[col].map(lambda v: bool(ric_valid(str(v), legacy=True))).astype(bool)
            legacy = valid & df[col].map(lambda v: len(str(v).strip()) == 15).astype(bool)
            produced = True
            yield rate(
                col,
                "checksum",
                valid,
                filled,
                f"share of {col} values that are valid resident IDs (GB 11643)",
                {
                    "standard": "GB 11643-1999; 15-digit GB 11643-1989 numbers accepted on date and region alone (they carry no check character)",
                    "legacy_15_digit": int(legacy.sum()),
                },
            )
        card_cols = (
            params.card_columns if params.card_columns is not None else _card_columns(ds, params.sample_size, ctx.seed)
        )
        for col in [c for c in card_cols if c in df.columns and c not in id_cols]:
            filled = nonempty(df[col])
            if not filled.any():
                continue
            valid = df[col].map(lambda v: bool(luhn_valid(str(v)))).astype(bool)
            produced = True
            yield rate(
                col,
                "checksum",
                valid,
                filled,
                f"share of {col} values passing the Luhn check",
                {"standard": "Luhn (ISO/IEC 7812-1)"},
            )
        phone_cols = (
            params.phone_columns
            if params.phone_columns is not None
            else _mobile_columns(ds, params.sample_size, ctx.seed)
        )
        for col in [c for c in phone_cols if c in df.columns and c not in id_cols and c not in card_cols]:
            compact = _compact(df[col])
            shaped = nonempty(df[col]) & compact.str.fullmatch(_CN_MOBILE_SHAPE.pattern).fillna(False).astype(bool)
            if not shaped.any():
                continue
            valid = df[col].map(lambda v: bool(cn_mobile_prefix_valid(str(v)))).astype(bool)
            produced = True
            yield rate(
                col,
                "cn_mobile_prefix",
                valid,
                shaped,
                f"share of Chinese mobile numbers in {col} with an allocated carrier prefix",
                {
                    "standard": "carrier prefix table (MIIT allocations; changes over time)",
                    "values_not_cn_mobile": int((nonempty(df[col]) & ~shaped).sum()),
                },
            )
        if not produced:
            yield self.skip(
                subject.label,
                "no age, date or identifier column to validate (declare ranges or id/card/phone columns in the policy)",
            )


# --------------------------------------------------------------------------- dq.cn_id_consistency
class CnIdConsistencyParams(CheckParams):
    max_mismatch_rate: float = Field(
        0.005,
        ge=0,
        le=1,
        description="Largest acceptable share of rows whose resident ID contradicts the recorded birth date, age or sex.",
    )
    age_tolerance: int = Field(
        1, ge=0, description="Years a recorded age may differ from the age derived from the ID (ages go stale)."
    )
    as_of: date | None = Field(
        None, description="Day ages are computed on; default: today (the demo's snapshot date for the demo)."
    )
    id_columns: list[str] | None = Field(
        None, description="Resident-ID columns; default: detected by name and value shape."
    )
    birth_date_column: str | None = Field(
        None, description="Recorded birth date; default: detected by name (birth, dob, 出生)."
    )
    age_column: str | None = Field(None, description="Recorded age in years; default: detected by name (age, 年龄).")
    gender_column: str | None = Field(None, description="Recorded sex; default: detected by name (gender, sex, 性别).")
    sample_size: int = Field(200, ge=10)
    max_ids: int = Field(50, ge=0, description="Row ids of mismatching rows listed.")


@register
class CnIdConsistency(Check):
    meta = CheckMeta(
        id="dq.cn_id_consistency",
        title="Resident ID agrees with the recorded birth date and sex",
        category=Category.DATA_QUALITY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(d)",),
        provenance=Provenance.TOOL,
        formula="over rows with a valid GB 11643 resident ID and a recorded birth date, age or sex: share whose "
        "ID-encoded birth date (digits 7-14) differs from the birth date, or whose derived age differs from the "
        "recorded age by more than age_tolerance years, or whose 17th digit (odd = male) contradicts the recorded sex",
        default_threshold="<= 0.5% of compared rows",
        help="An ID that contradicts the customer's own record means one of the two is wrong, or the ID belongs to someone else.",
    )
    Params = CnIdConsistencyParams

    def evaluate(self, subject: Subject, params: CnIdConsistencyParams, ctx: AuditContext) -> Iterable[Outcome]:
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
        birth = params.birth_date_column or next(iter(birth_date_columns(ds)), None)
        age = params.age_column or next(iter(age_columns(ds)), None)
        gender = params.gender_column or next(iter(gender_columns(ds)), None)
        birth, age, gender = (c if c in df.columns else None for c in (birth, age, gender))
        if not id_cols:
            yield self.skip(
                subject.label,
                "no resident-ID column (named like id_card/resident_id/身份证 or holding 18-character IDs)",
            )
            return
        if not (birth or age or gender):
            yield self.skip(
                subject.label, "no recorded birth date, age or gender column to compare the resident ID with"
            )
            return
        as_of = as_of_date(ctx, params.as_of)
        born_rec = parse_dates(df[birth]).dt.date if birth else None
        age_rec = _numeric(df[age]) if age else None
        sex_rec = df[gender].map(normalise_gender) if gender else None
        n_rows = len(df)
        births: list[Any] = born_rec.tolist() if born_rec is not None else [None] * n_rows
        recorded_ages: list[Any] = age_rec.tolist() if age_rec is not None else [None] * n_rows
        sexes: list[Any] = sex_rec.tolist() if sex_rec is not None else [None] * n_rows
        for col in id_cols:
            info: list[tuple[date, str] | None] = [
                None if is_missing(v) else cn_resident_id_info(str(v)) for v in df[col].tolist()
            ]
            flags = {k: [False] * n_rows for k in ("compared", "birth", "age", "sex")}
            for i, parsed in enumerate(info):
                if parsed is None:
                    continue
                born, sex = parsed
                if not is_missing(births[i]):
                    flags["compared"][i] = True
                    flags["birth"][i] = births[i] != born
                elif not is_missing(recorded_ages[i]):
                    flags["compared"][i] = True
                    flags["age"][i] = abs(age_at(born, as_of) - float(recorded_ages[i])) > params.age_tolerance
                if not is_missing(sexes[i]):
                    flags["compared"][i] = True
                    flags["sex"][i] = sexes[i] != sex
            has_id = pd.Series([p is not None for p in info], index=df.index)
            compared, bad_birth, bad_age, bad_sex = (
                pd.Series(flags[k], index=df.index) for k in ("compared", "birth", "age", "sex")
            )
            bad = bad_birth | bad_age | bad_sex
            n = int(compared.sum())
            label = f"{subject.label}/column:{col}"
            evidence = {
                "id_column": col,
                "compared_with": {"birth_date": birth, "age": age, "gender": gender},
                "valid_ids": int(has_id.sum()),
                "invalid_or_empty_ids": int((~has_id).sum()),
                "rows_compared": n,
                "birth_date_mismatches": int(bad_birth.sum()),
                "age_mismatches": int(bad_age.sum()),
                "sex_mismatches": int(bad_sex.sum()),
                "mismatch_row_ids": ids_where(ds, bad, params.max_ids),
                "as_of": as_of.isoformat(),
                "age_tolerance": params.age_tolerance,
            }
            if n == 0:
                yield self.skip(
                    label, "no row has both a valid resident ID and a recorded birth date, age or sex", evidence
                )
                continue
            yield self.judge(
                label,
                int(bad.sum()) / n,
                threshold=params.max_mismatch_rate,
                op="<=",
                what="share of rows whose resident ID contradicts the record",
                evidence=evidence,
                note=f"{int(bad.sum())} of {n} rows ({int(bad_birth.sum())} birth date, {int(bad_age.sum())} age, {int(bad_sex.sum())} sex)",
            )
