"""`crm-audit init --data FILE`: a starter audit.yaml whose every guess says why it was made.

The guesses come from column names (English and Chinese) and from the values themselves;
nothing here is trusted without review, so each line of the written file carries its reason
and a target whose positive class is not obvious is left for the user to name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from audit.config.labels import is_yes_no, value_counts_text
from audit.config.reading import DEFAULT_NA_VALUES, ReadError, apply_na_values, is_text, read_csv_file, show, strip_whitespace
from audit.core.errors import AuditInputError, ErrorItem
from audit.reporters.atomic import write_atomic

SAMPLE_ROWS = 20_000
AGE_BANDS = [18, 25, 35, 45, 55, 65]

#: Protected attributes by name: (pattern, what it is). Chinese names match anywhere in the column name.
PROTECTED_NAMES: tuple[tuple[str, str], ...] = (
    (r"(^|_)(age|ages|birth_?year|year_of_birth)($|_)|年龄|年齡|出生年", "age"),
    (r"(^|_)(gender|sex)($|_)|性别|性別", "sex or gender"),
    (r"(^|_)(race|racial)($|_)|种族|種族", "race"),
    (r"(^|_)(ethnic\w*)($|_)|民族|族群", "ethnicity"),
    (r"(^|_)(marital\w*|marriage|personal_status)($|_)|婚姻", "marital status"),
    (r"(^|_)(religio\w*|faith)($|_)|宗教|信仰", "religion"),
    (r"(^|_)(nationality|citizenship|national_origin|country_of_birth)($|_)|国籍|國籍", "nationality"),
    (r"(^|_)(disab\w*|handicap\w*)($|_)|残疾|殘疾|残障", "disability"),
    (r"(^|_)(pregnan\w*|maternity)($|_)|怀孕|孕", "pregnancy"),
    (r"(^|_)(senior\w*)($|_)", "age (senior flag)"),
    (r"(^|_)(sexual_orientation|orientation)($|_)|性取向", "sexual orientation"),
    (r"(^|_)(health|medical)\w*|健康", "health"),
    (r"(^|_)(union\w*|political\w*|party)($|_)|政治|党派", "political opinion or union membership"),
)
TARGET_NAMES = re.compile(r"^(churn\w*|churned|target|label|class|y|outcome|converted|purchased?|default\w*|response|approved|credit_risk|risk|income|fraud|is_fraud|attrition|exited)$|流失|标签|是否", re.I)
ID_NAMES = re.compile(r"(^id$|_id$|id$|^key$|number$|_no$|编号|编码|账号|客户号|ID$)", re.I)
TIME_NAMES = re.compile(r"(date|time|_at$|_on$|timestamp|^ts$|日期|时间|時間)", re.I)
QI_NAMES = re.compile(r"(zip|postcode|postal|city|region|province|state|birth|dob|age|gender|sex|邮编|城市|省|地区|出生|年龄|性别)", re.I)
DIRECT_NAMES = re.compile(r"(name|email|e_mail|phone|mobile|tel|address|ssn|passport|id_?card|resident|姓名|电话|手机|邮箱|地址|身份证)", re.I)
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Guess:
    """A proposed value with the reason shown beside it in the written file."""

    value: Any
    why: str


@dataclass
class Proposal:
    options: dict[str, str] = field(default_factory=dict)
    options_why: list[str] = field(default_factory=list)
    id: Guess | None = None
    target: Guess | None = None
    positive: Guess | None = None  # None: not needed; value None: the user must name it
    label_map_hint: str = ""
    protected: list[Guess] = field(default_factory=list)
    text: list[Guess] = field(default_factory=list)
    timestamps: list[Guess] = field(default_factory=list)
    quasi_identifiers: list[Guess] = field(default_factory=list)
    bands: dict[str, Guess] = field(default_factory=dict)
    direct: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def _distinct_share(s: pd.Series) -> float:
    n = int(s.notna().sum())
    return float(s.nunique(dropna=True)) / n if n else 0.0


def _protected_reason(name: str) -> str | None:
    for pattern, what in PROTECTED_NAMES:
        m = re.search(pattern, name, re.I)
        if m:
            return f"name matches {m.group(0).strip('_')!r} ({what})"
    return None


def _looks_like_text(s: pd.Series) -> str | None:
    """Free text by content, whatever the dtype: long, varied strings with spaces or CJK characters."""
    values = s.dropna().map(str)
    if values.empty:
        return None
    sample = values.head(2000)
    length = float(sample.str.len().mean())
    distinct = _distinct_share(sample)
    wordy = float(sample.map(lambda v: " " in v.strip() or bool(CJK.search(v))).mean())
    cjk = bool(sample.map(lambda v: bool(CJK.search(v))).mean() > 0.5)
    min_len = 8 if cjk else 25
    if length >= min_len and distinct >= 0.5 and wordy >= 0.6:
        return f"free text by content: mean {length:.0f} characters, {distinct:.0%} distinct" + (", Chinese" if cjk else "")
    return None


def _looks_like_time(name: str, s: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "stored as dates"
    if is_text(s):
        values = s.dropna().map(str).head(500)
        if values.empty or not values.str.contains(r"\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|年").mean() > 0.8:
            return None
        parsed = pd.to_datetime(values.str.replace("年", "-").str.replace("月", "-").str.replace("日", ""), errors="coerce", format="mixed")
        share = float(parsed.notna().mean())
        if share >= 0.9:
            return f"{share:.0%} of the values parse as dates"
    if TIME_NAMES.search(name) and pd.api.types.is_numeric_dtype(s.dtype) and s.dropna().between(946_684_800, 4_102_444_800).mean() > 0.9:
        return "name suggests a time and the numbers are Unix seconds"
    return None


def propose(frame: pd.DataFrame) -> Proposal:
    """Guesses for every role, each with its reason."""
    p = Proposal()
    cols = [str(c) for c in frame.columns]
    for c in cols:
        s = frame[c]
        share = _distinct_share(s)
        if p.id is None and ID_NAMES.search(c) and share >= 0.95 and s.notna().mean() > 0.99:
            dupes = int(s.duplicated().sum())
            p.id = Guess(c, f"name looks like an identifier and {share:.0%} of the values are distinct" + (f"; {dupes} repeat (see dq.duplicates)" if dupes else ""))
    if p.id is None:
        unique = [c for c in cols if _distinct_share(frame[c]) == 1.0 and frame[c].notna().all() and not pd.api.types.is_float_dtype(frame[c].dtype)]
        if unique:
            p.id = Guess(unique[0], "every value is distinct (no column is named like an identifier: check)")
        else:
            p.review.append("no id column found: set roles.id so findings can name rows and predictions can be joined")
    for c in cols:
        if c == (p.id.value if p.id else None):
            continue
        why = _looks_like_time(c, frame[c])
        if why:
            p.timestamps.append(Guess(c, why))
    time_cols = {g.value for g in p.timestamps}
    text_cols: set[str] = set()
    for c in cols:
        why = _looks_like_text(frame[c]) if c != (p.id.value if p.id else None) and c not in time_cols else None
        if why:
            p.text.append(Guess(c, why))
            text_cols.add(c)
    for c in cols:
        if c in text_cols or c in time_cols:
            continue
        why = _protected_reason(c)
        if why:
            p.protected.append(Guess(c, why))
            s = frame[c]
            if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) and s.nunique() > 20:
                edges = AGE_BANDS if "age" in why else None
                if edges:
                    p.bands[c] = Guess(edges, "numeric age: bands so groups are comparable (edit them to the ones your policy uses)")
                else:
                    p.review.append(f"protected attribute {c!r} is numeric with {s.nunique()} values: declare bands for it")
    taken = {p.id.value if p.id else None, *text_cols, *(g.value for g in p.timestamps)}
    for c in cols:
        if c in taken or not TARGET_NAMES.search(c):
            continue
        values = frame[c]
        k = int(values.nunique(dropna=True))
        if k < 2 or k > 10:
            continue
        p.target = Guess(c, f"name matches an outcome word; {k} values: {value_counts_text(values)}")
        present = list(pd.unique(values.dropna()))
        if k == 2 and is_yes_no(present):
            p.positive = None
        elif k == 2:
            counts = values.value_counts()
            rare = counts.idxmin()
            p.positive = Guess(None, f"which value is the positive class (the outcome the model predicts)? The rarer one is {show(rare)} ({counts.min() / counts.sum():.0%})")
            p.review.append(f"name the positive class of {c!r} in positive_labels (the run refuses to guess)")
        else:
            p.positive = Guess(None, f"{k} values: merge them into two classes with label_map, then name the positive class")
            p.review.append(f"target {c!r} has {k} values: map them to two with label_map")
        break
    if p.target is None:
        p.review.append("no target found: set roles.target (and positive_labels) to audit a classifier")
    p.quasi_identifiers = [Guess(c, "name suggests a location, birth date, age or sex: it can single people out in combination") for c in cols if QI_NAMES.search(c) and c not in taken]
    p.direct = [c for c in cols if DIRECT_NAMES.search(c) and _distinct_share(frame[c]) > 0.5 and c not in text_cols]
    if p.direct:
        p.review.append(f"columns that look like direct identifiers (kept out of model features): {p.direct}")
    p.review.append(f"protected attributes guessed from names: {[g.value for g in p.protected] or 'none'}; add any others (they drive every fairness check)")
    return p


def _q(value: Any) -> str:
    """A YAML scalar (JSON is valid YAML; keeps Chinese readable)."""
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return "  # " + " ".join(text.split())


def render(p: Proposal, *, name: str, path: str, frame: pd.DataFrame, data_file: str) -> str:
    lines = [
        f"# Starter audit.yaml written by `crm-audit init --data {data_file}`.",
        "# Every guess below says why it was made. REVIEW each one before relying on the audit.",
        "project:",
        f"  name: {_q(name + ' CRM')}",
        "  owner: \"\"",
        "datasets:",
        f"  {_q(name)}:",
        "    source:",
        f"      path: {_q(path)}",
    ]
    if p.options:
        opts = ", ".join(f"{k}: {_q(v)}" for k, v in p.options.items())
        lines.append(f"      options: {{{opts}}}" + _comment("; ".join(p.options_why)))
    lines.append("    roles:")
    if p.id:
        lines.append(f"      id: {_q(p.id.value)}" + _comment(p.id.why))
    if p.target:
        lines.append(f"      target: {_q(p.target.value)}" + _comment(p.target.why))
    for role, guesses in (("protected", p.protected), ("text", p.text), ("timestamps", p.timestamps), ("quasi_identifiers", p.quasi_identifiers)):
        if guesses:
            lines.append(f"      {role}:")
            lines.extend(f"        - {_q(g.value)}" + _comment(g.why) for g in guesses)
        else:
            what = {"protected": "protected attributes", "text": "free-text columns", "timestamps": "date or time columns", "quasi_identifiers": "quasi-identifiers"}[role]
            lines.append(f"      {role}: []" + _comment(f"none found: add any {what}"))
    if p.bands:
        lines.append("    bands:")
        lines.extend(f"      {_q(c)}: {_q(g.value)}" + _comment(g.why) for c, g in p.bands.items())
    if p.target is not None:
        if p.positive is None:
            lines.append("    # positive_labels: not needed, the target reads as yes/no (the yes/true value is positive)")
        else:
            lines.append("    positive_labels: []" + _comment("REVIEW: " + p.positive.why))
            if "label_map" in p.positive.why:
                lines.append("    # label_map: {\"<value>\": \"<class>\"}")
    lines.append("policies: [default]")
    if p.target is not None:
        excluded = {p.id.value if p.id else None, p.target.value, *(g.value for g in p.text), *(g.value for g in p.timestamps), *p.direct, *(g.value for g in p.protected)}
        feats = [c for c in map(str, frame.columns) if c not in excluded]
        lines += [
            "models:",
            f"  - name: {_q(name + '_lr')}",
            "    kind: classifier",
            "    source: train" + _comment("a logistic regression trained here, as a baseline; use source: skops or predictions to audit your own model"),
            "    algorithm: logistic_regression",
            f"    dataset: {_q(name)}",
            f"    target: {_q(p.target.value)}",
            f"    features: {_q(feats)}" + _comment("every column except the id, target, text, timestamps, direct identifiers and protected attributes"),
            "    purpose: \"describe what the model decides and for whom\"",
        ]
    return "\n".join(lines) + "\n"


def write_starter(data: str, out: str, *, force: bool = False) -> tuple[Path, list[str]]:
    src = Path(data)
    if not src.exists():
        raise AuditInputError(ErrorItem(file=data, message="data file not found", hint="give the path of a CSV file"))
    target = Path(out)
    if target.exists() and not force:
        raise AuditInputError(ErrorItem(file=out, message="file exists", hint="use --force to overwrite, or --out another path"))
    try:
        frame, record = read_csv_file(src, {}, nrows=SAMPLE_ROWS)
    except ReadError as exc:
        raise AuditInputError(ErrorItem(file=data, message=f"cannot read as CSV: {exc}", hint=exc.hint.replace("source.options.", "in audit.yaml, source.options."))) from None
    except Exception as exc:
        raise AuditInputError(ErrorItem(file=data, message=f"cannot read as CSV: {type(exc).__name__}: {exc}")) from None
    if frame.empty:
        raise AuditInputError(ErrorItem(file=data, message="the CSV has no rows", hint="give a file with a header line and data rows"))
    strip_whitespace(frame)
    apply_na_values(frame, DEFAULT_NA_VALUES)
    p = propose(frame)
    if record.sep != ",":
        p.options["sep"] = str(record.sep)
        p.options_why.append(f"separator {record.sep!r} sniffed: the header and first lines split into {frame.shape[1]} fields on it")
    if record.encoding not in ("utf-8", None):
        p.options["encoding"] = str(record.encoding)
        why = {"BOM": "the file starts with its byte-order mark", "fallback": "the file is not valid UTF-8; latin-1 reads any bytes, but check: it may be cp1252 or gb18030"}
        p.options_why.append(f"encoding {record.encoding}: " + why.get(record.encoding_source, "sniffed"))
    rel = src.resolve()
    try:
        rel = rel.relative_to(target.resolve().parent)
    except ValueError:
        pass
    name = re.sub(r"\W+", "_", src.stem).strip("_") or "data"
    text = render(p, name=name, path=str(rel), frame=frame, data_file=data)
    write_atomic(target, text)
    review = [f"{k} guessed as {g.value!r}: {g.why}" for k, g in (("id", p.id), ("target", p.target)) if g is not None] + p.review
    return target, review


def guess_roles(frame: pd.DataFrame) -> tuple[dict[str, object], list[str], list[str]]:
    """Roles as a mapping (kept for callers that want the guesses without the file)."""
    p = propose(frame)
    roles: dict[str, object] = {
        "id": p.id.value if p.id else None,
        "target": p.target.value if p.target else None,
        "protected": [g.value for g in p.protected],
        "text": [g.value for g in p.text],
        "timestamps": [g.value for g in p.timestamps],
        "quasi_identifiers": [g.value for g in p.quasi_identifiers],
    }
    return {k: v for k, v in roles.items() if v is not None}, p.review, p.direct


__all__ = ["guess_roles", "propose", "render", "write_starter"]
