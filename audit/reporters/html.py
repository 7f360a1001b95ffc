"""report.html: the self-contained audit report rendered from the Jinja templates.

The templates receive ``r`` (exactly ``AuditResult.to_dict()``) and ``v``, a view
model derived from it here: findings grouped per regulation, dataset and model,
charts as inline SVG, and the fixed vocabulary of statuses and provenances. Nothing
else is read: no dataset row, no model object, no network resource.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from audit.core.result import AuditResult
from audit.core.types import Provenance, Severity
from audit.reporters import charts
from audit.reporters.dataset_facts import dataset_facts
from audit.resources import templates_dir

FILENAME = "report.html"
TEMPLATE = "report.html.j2"

STATUS_ORDER = ("error", "fail", "waived", "skipped", "pass")
NOT_RUN = "not run"
SEVERITY_ORDER = tuple(s.value for s in sorted(Severity, key=lambda s: s.rank, reverse=True))
STATUS_LABELS = {
    "error": "check error",
    "fail": "fail",
    "waived": "waived",
    "skipped": "not assessed",
    "pass": "pass",
    NOT_RUN: "not run",
}

# Regulation references name their instrument first; the first rule that matches wins.
INSTRUMENTS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("EU AI Act", "Regulation (EU) 2024/1689, the Artificial Intelligence Act", re.compile(r"^\s*(EU\s+)?AI\s*Act\b|^\s*AIA\b", re.IGNORECASE)),
    ("GDPR", "Regulation (EU) 2016/679, the General Data Protection Regulation", re.compile(r"^\s*(EU\s+|UK\s+)?GDPR\b|2016/679", re.IGNORECASE)),
    ("PIPL", "Personal Information Protection Law of the People's Republic of China", re.compile(r"^\s*(China\s+|PRC\s+)?PIPL\b|Personal Information Protection Law", re.IGNORECASE)),
    ("CCPA", "California Consumer Privacy Act, Cal. Civ. Code § 1798.100 et seq., as amended by the CPRA", re.compile(r"^\s*(CCPA|CPRA)\b|^\s*Cal(\.|ifornia)?\s*Civ(\.|il)?\s*Code|^\s*CCPA Regs?\b", re.IGNORECASE)),
    ("ECOA", "Equal Credit Opportunity Act, 15 U.S.C. § 1691 et seq., and Regulation B, 12 CFR Part 1002", re.compile(r"^\s*ECOA\b|^\s*Reg(ulation|\.)?\s*B\b|12\s*CFR\s*(Part\s*)?1002|^\s*1002\.\d", re.IGNORECASE)),
    ("US EEOC", "Uniform Guidelines on Employee Selection Procedures, 29 CFR Part 1607 (EEOC)", re.compile(r"29\s*CFR\s*(Part\s*)?1607|^\s*EEOC\b|Uniform Guidelines", re.IGNORECASE)),
)
_INSTRUMENT_RANK = {name: i for i, (name, _t, _p) in enumerate(INSTRUMENTS)}
_GENERIC_PREFIX = re.compile(r"^\s*(.+?)(?=\s+(?:Art(?:icle)?\.?|Recital|§|Sec(?:tion|\.)?|Annex|Ch(?:apter|\.)?|Para(?:graph)?\.?)\b|\s+\d|\s*$)", re.IGNORECASE)

# evidence keys the finding card lays out itself; every other key is listed as further evidence
EVIDENCE_HANDLED = {"by_group", "ci", "p_value", "worst_group", "best_group", "statistically_clear", "masked_examples", "group_threshold", "metric"}
MAX_LIST_ITEMS = 25
MAX_TEXT = 400
TOP_FAILING = 10


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=lambda name: name is None or not name.endswith(".css"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["plain"] = _plain
    env.filters["status_label"] = lambda s: STATUS_LABELS.get(str(s), str(s))
    env.filters["provenance"] = provenance_phrase
    env.filters["subject_phrase"] = subject_phrase
    env.filters["kv"] = _kv
    env.filters["group_tables"] = group_tables
    env.filters["qualifier"] = subject_qualifier
    env.filters["dataset_facts"] = dataset_facts
    return env


# ---------------------------------------------------------------------------
# formatting filters


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}" if abs(value) >= 1e5 else str(int(value))
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1e5 else str(value)
    return str(value)


def _pct(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def _plain(value: Any, limit: int = MAX_TEXT) -> str:
    """Any evidence value as short readable text (never a raw dump of a large structure)."""
    if isinstance(value, (int, float)) or value is None:
        return _num(value)
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, (Mapping, list, tuple)) and not value:
        return "none"
    if isinstance(value, Mapping):
        parts = [f"{k}: {_plain(v, 80)}" for k, v in list(value.items())[:MAX_LIST_ITEMS]]
        more = len(value) - MAX_LIST_ITEMS
        text = "; ".join(parts) + (f"; … {more} more" if more > 0 else "")
    elif isinstance(value, (list, tuple)):
        parts = [_plain(v, 80) for v in value[:MAX_LIST_ITEMS]]
        more = len(value) - MAX_LIST_ITEMS
        text = ", ".join(parts) + (f", … {more} more" if more > 0 else "")
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kv(mapping: Any) -> str:
    if not isinstance(mapping, Mapping) or not mapping:
        return "–"
    return ", ".join(f"{k}={_plain(v, 60)}" for k, v in mapping.items())


def provenance_phrase(value: Any) -> str:
    try:
        return Provenance(value).phrase
    except ValueError:
        return "no regulatory threshold"


def subject_phrase(subject: str) -> str:
    """'dataset:crm/column:notes' -> 'column “notes” of dataset “crm”'."""
    if not subject or subject == "-":
        return "no subject (nothing of this kind was audited)"
    if subject == "system":
        return "the system as a whole"
    parts = dict(p.split(":", 1) for p in subject.split("/") if ":" in p)
    if "column" in parts and "dataset" in parts:
        return f"column “{parts['column']}” of dataset “{parts['dataset']}”"
    if "dataset" in parts:
        return f"dataset “{parts['dataset']}”"
    if "model" in parts:
        rest = [f"{k} “{v}”" for k, v in parts.items() if k != "model"]
        return f"model “{parts['model']}”" + (" (" + ", ".join(rest) + ")" if rest else "")
    return subject


# ---------------------------------------------------------------------------
# regulations


def instrument_of(reference: str) -> str:
    """The instrument a reference belongs to: 'Reg B 1002.9(b)(2)' -> 'ECOA'."""
    for name, _title, pattern in INSTRUMENTS:
        if pattern.search(reference):
            return name
    m = _GENERIC_PREFIX.match(reference)
    prefix = (m.group(1) if m else reference).strip()
    return prefix or "Other"


def instrument_title(name: str) -> str:
    for n, title, _p in INSTRUMENTS:
        if n == name:
            return title
    return name


def _natural_key(text: str) -> list[Any]:
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", text) if t]


def worst_status(statuses: Iterable[str]) -> str:
    present = set(statuses)
    for s in STATUS_ORDER:
        if s in present:
            return s
    return NOT_RUN


def _regulation_view(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    for c in r["checks"]:
        checks[c["id"]] = {"id": c["id"], "title": c.get("title", c["id"]), "severity": c.get("severity"), "regulations": set(c.get("regulations") or ()), "statuses": []}
    for f in r["findings"]:
        entry = checks.setdefault(f["check_id"], {"id": f["check_id"], "title": f.get("title", f["check_id"]), "severity": f.get("severity"), "regulations": set(), "statuses": []})
        entry["regulations"].update(f.get("regulations") or ())
        entry["statuses"].append(f["status"])
    articles: dict[str, dict[str, Any]] = {}

    def article(ref: str) -> dict[str, Any]:
        return articles.setdefault(ref, {"reference": ref, "checks": [], "attestations": []})

    for c in checks.values():
        counts = Counter(c["statuses"])
        row = {
            "id": c["id"],
            "title": c["title"],
            "severity": c["severity"],
            "status": worst_status(c["statuses"]),
            "counts": {s: counts[s] for s in STATUS_ORDER if counts[s]},
        }
        for ref in c["regulations"]:
            article(ref)["checks"].append(row)
    for a in r["attestations"]:
        for ref in a.get("regulations") or ():
            article(ref)["attestations"].append(a)
    instruments: dict[str, dict[str, Any]] = {}
    for ref, art in articles.items():
        name = instrument_of(ref)
        inst = instruments.setdefault(name, {"name": name, "title": instrument_title(name), "articles": []})
        art["checks"].sort(key=lambda c: (STATUS_ORDER.index(c["status"]) if c["status"] in STATUS_ORDER else 9, c["id"]))
        art["status"] = worst_status(c["status"] for c in art["checks"])
        art["open_attestations"] = sum(1 for a in art["attestations"] if a.get("state") != "answered")
        inst["articles"].append(art)
    # instruments a pack names without mapping any article to them
    for p in r["policies"]:
        for reg in p.get("regulations") or ():
            name = instrument_of(reg)
            instruments.setdefault(name, {"name": name, "title": instrument_title(name), "articles": []})
    out = []
    for inst in instruments.values():
        inst["articles"].sort(key=lambda a: _natural_key(a["reference"]))
        statuses = [c["status"] for a in inst["articles"] for c in a["checks"]]
        inst["status"] = worst_status(statuses)
        inst["n_checks"] = len({c["id"] for a in inst["articles"] for c in a["checks"]})
        inst["n_attestations"] = len({a["id"] for art in inst["articles"] for a in art["attestations"]})
        inst["open_attestations"] = len({a["id"] for art in inst["articles"] for a in art["attestations"] if a.get("state") != "answered"})
        inst["anchor"] = "reg-" + re.sub(r"[^a-z0-9]+", "-", inst["name"].lower()).strip("-")
        out.append(inst)
    out.sort(key=lambda i: (_INSTRUMENT_RANK.get(i["name"], len(INSTRUMENTS)), i["name"].lower()))
    return out


# ---------------------------------------------------------------------------
# findings


def _subject_parts(subject: str) -> dict[str, str]:
    return dict(p.split(":", 1) for p in (subject or "").split("/") if ":" in p)


def subject_qualifier(subject: str) -> str:
    """What a subject adds to its dataset or model: "by age_band, metric auc" or ""."""
    parts = [p.split(":", 1) for p in (subject or "").split("/")[1:] if ":" in p]
    return ", ".join(f"{k} {v}" for k, v in parts)


def _finding_view(f: Mapping[str, Any], idx: int, blocking: set[str], *, for_pdf: bool) -> dict[str, Any]:
    ev = f.get("evidence") or {}
    if not isinstance(ev, Mapping):
        ev = {"evidence": ev}
    key = f"{f['check_id']}::{f['subject']}"
    view: dict[str, Any] = {
        "f": f,
        "key": key,
        "anchor": f"finding-{idx}",
        "blocking": key in blocking,
        "by_group": [],
        "chart": None,
        "chart_args": None,
        "print": for_pdf,
        "owned": False,
        "ci": None,
        "other_evidence": {},
    }
    by_group = ev.get("by_group")
    if isinstance(by_group, list):
        view["by_group"] = [
            {"group": g.get("group", "?"), "n": g.get("n"), "value": g.get("value"), "ci_low": g.get("ci_low"), "ci_high": g.get("ci_high"), "eligible": g.get("eligible", True) is not False}
            for g in by_group
            if isinstance(g, Mapping)
        ]
        line, label = _group_threshold(f, ev)
        metric = str(ev.get("metric") or "group value")
        view["chart_line"] = (label, line) if line is not None else None
        if f["status"] in ("fail", "error", "waived"):  # passing results keep their table, without a chart
            view["chart_args"] = (
                f"Group rates with confidence intervals for {f['check_id']} on {f['subject']}",
                charts.group_rates, view["by_group"], {"metric": metric, "threshold": line, "threshold_label": label},
            )
    # failures, errors and waivers get a full card (with a chart); passes and skips a table row
    view["notable"] = f["status"] in ("fail", "error", "waived") or bool(f.get("waiver"))
    ci = ev.get("ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        view["ci"] = ci
    for k, v in ev.items():
        if k not in EVIDENCE_HANDLED:
            view["other_evidence"][k] = row_references_as_counts(k, v)
    return view


def _charted(fviews: list[dict[str, Any]], *, for_pdf: bool) -> list[dict[str, Any]]:
    """The findings whose group chart is drawn.

    In HTML every failing, erroring or waived finding with group values has its chart.
    The PDF is the document that is signed and printed: it keeps every group table but
    draws the chart of one finding per dataset or model (the one that weighs most on the
    gate), and points to report.html for the others.
    """
    candidates = [fv for fv in fviews if fv["chart_args"] is not None]
    if not for_pdf:
        return candidates
    best: dict[str, dict[str, Any]] = {}
    for fv in candidates:
        f = fv["f"]
        owner = (f["subject"] or "").split("/", 1)[0]
        rank = (fv["blocking"], f["status"] == "error", Severity(f["severity"]).rank)
        held = best.get(owner)
        if held is None or rank > (held["blocking"], held["f"]["status"] == "error", Severity(held["f"]["severity"]).rank):
            best[owner] = fv
    return [fv for fv in candidates if any(fv is b for b in best.values())]


_ROW_REFERENCE_KEY = re.compile(r"(^|_)rows?_(ids?|indices|positions|by_)|row_(ids?|indices|positions)$|^rows_by_")


def row_references_as_counts(key: str, value: Any) -> Any:
    """Row identifiers point at people: the report gives their number, findings.json the list.

    ``rows_by_entity: {"EMAIL": ["C0001", ...]}`` becomes ``{"EMAIL": "2 rows"}``.
    """
    if not _ROW_REFERENCE_KEY.search(key):
        return value
    if isinstance(value, (list, tuple)):
        return f"{len(value)} row(s); identifiers listed in findings.json" if value else "none"
    if isinstance(value, Mapping) and any(isinstance(v, (list, tuple)) for v in value.values()):
        return {k: (f"{len(v)} row(s)" if isinstance(v, (list, tuple)) else v) for k, v in value.items()}
    return value


def _group_threshold(f: Mapping[str, Any], ev: Mapping[str, Any]) -> tuple[float | None, str]:
    """The line drawn on a group chart, on the scale of the group values.

    ``group_threshold`` in the evidence is used when a check states it; otherwise the
    best group's value is shown as the reference the others are compared with; a
    finding threshold is drawn only when neither is available.
    """
    explicit = charts.as_number(ev.get("group_threshold"))
    if explicit is not None:
        return explicit, "threshold"
    best = ev.get("best_group")
    if best is not None:
        for g in ev.get("by_group") or ():
            if isinstance(g, Mapping) and str(g.get("group")) == str(best):
                value = charts.as_number(g.get("value"))
                if value is not None:
                    return value, f"reference: best group {best}"
    t = charts.as_number(f.get("threshold"))
    return (t, "policy threshold") if t is not None else (None, "")


def _plain_language(f: Mapping[str, Any]) -> str:
    regs = ", ".join(f.get("regulations") or ())
    sentence = f"{f.get('title') or f['check_id']}, for {subject_phrase(f['subject'])}: {f.get('message', '').rstrip('.')}."
    if regs:
        sentence += f" Relevant provisions: {regs}."
    return sentence


# ---------------------------------------------------------------------------
# datasets and models


def group_tables(fvs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One table per protected attribute: a row per group, a column per result.

    The PDF shows the per-group values of all failing, erroring or waived findings of a
    dataset or model this way, instead of one table per finding, and the per-group
    evaluation (performance results) whatever its status. Columns with the same
    metric and the same values (demographic parity and the impact ratio read the same
    selection rates) are merged, naming every check they serve.
    """
    by_attr: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for fv in fvs:
        if fv["by_group"] and (fv["notable"] or fv["f"].get("category") == "performance"):
            ev = fv["f"].get("evidence") if isinstance(fv["f"].get("evidence"), Mapping) else {}
            attr = _subject_parts(fv["f"]["subject"]).get("by") or str(ev.get("attribute") or "group")
            by_attr[attr].append(fv)
    tables = []
    for attr, members in by_attr.items():
        columns: list[dict[str, Any]] = []
        for fv in members:
            ev = fv["f"].get("evidence") if isinstance(fv["f"].get("evidence"), Mapping) else {}
            cells = {str(g["group"]): g for g in fv["by_group"]}
            signature = (str(ev.get("metric") or "value"), tuple(sorted((k, repr(g["value"]), repr(g["ci_low"]), repr(g["ci_high"])) for k, g in cells.items())))
            for col in columns:
                if col["signature"] == signature:
                    col["checks"].append(fv)
                    break
            else:
                columns.append({"signature": signature, "metric": signature[0], "checks": [fv], "cells": cells})
        groups: dict[str, dict[str, Any]] = {}
        for col in columns:
            for name, g in col["cells"].items():
                row = groups.setdefault(name, {"group": g["group"], "n": g["n"], "eligible": g["eligible"]})
                row["eligible"] = row["eligible"] and g["eligible"]
        rows = [{**row, "cells": [col["cells"].get(name) for col in columns]} for name, row in groups.items()]
        tables.append({"attribute": attr, "columns": [{"metric": c["metric"], "checks": c["checks"], "label": _column_label(c["checks"])} for c in columns], "rows": rows})
    return tables


def _column_label(fvs: Iterable[Mapping[str, Any]]) -> str:
    """The checks a group-table column serves, in words: "demographic parity difference; ..."."""
    names = []
    for fv in fvs:
        f = fv["f"]
        names.append("evaluation per group" if f.get("category") == "performance" else f["check_id"].split(".", 1)[-1].replace("_", " "))
    return "; ".join(dict.fromkeys(names))


def _pii_rows(fv: Mapping[str, Any]) -> list[dict[str, Any]]:
    f = fv["f"]
    ev = f.get("evidence") or {}
    counts = ev.get("entity_counts")
    examples = ev.get("masked_examples")
    raw_rows, raw_truncated = ev.get("rows_by_entity"), ev.get("rows_by_entity_truncated")
    rows_by: Mapping[str, Any] = raw_rows if isinstance(raw_rows, Mapping) else {}
    truncated: Mapping[str, Any] = raw_truncated if isinstance(raw_truncated, Mapping) else {}
    column = _subject_parts(f["subject"]).get("column") or ev.get("column") or "–"
    out: list[dict[str, Any]] = []

    def examples_for(entity: str | None, col: str) -> list[str]:
        if isinstance(examples, Mapping):
            pick = examples.get(entity) if entity in examples else examples.get(col)
            if isinstance(pick, Mapping):
                pick = pick.get(entity)
            return [str(x) for x in (pick or [])][:5] if isinstance(pick, (list, tuple)) else []
        return []

    if isinstance(counts, Mapping):
        nested = counts and all(isinstance(v, Mapping) for v in counts.values())
        items = [(str(col), str(ent), n) for col, sub in counts.items() for ent, n in sub.items()] if nested else [(str(column), str(ent), n) for ent, n in counts.items()]
        for col, ent, n in items:
            rows = rows_by.get(ent)
            if isinstance(rows, Mapping):
                rows = rows.get(col)
            if isinstance(rows, (list, tuple)):  # row identifiers: report how many, never which
                rows = truncated.get(ent, len(rows)) if isinstance(truncated.get(ent), int) else len(rows)
            out.append({"column": col, "entity": ent, "count": n, "rows": rows, "examples": examples_for(ent, col)})
    if isinstance(examples, (list, tuple)) and examples:
        if out:
            out[0]["examples"] = [str(x) for x in examples][:8]
            out[0]["examples_all_entities"] = len(out) > 1
        else:
            out.append({"column": str(column), "entity": "–", "count": None, "rows": None, "examples": [str(x) for x in examples][:8]})
    return out


def _is_pii(f: Mapping[str, Any]) -> bool:
    ev = f.get("evidence") or {}
    return f["check_id"].startswith("pii.") or any(k in ev for k in ("entity_counts", "rows_by_entity", "masked_examples"))


def _dataset_bucket(f: Mapping[str, Any]) -> str:
    cid = f["check_id"]
    if _is_pii(f):
        return "pii"
    if "proxy" in cid or "proxies" in cid:
        return "proxies"
    if cid.startswith("privacy.") or "anonym" in cid:
        return "anonymity"
    if f.get("category") == "data_quality" or cid.startswith("dq."):
        return "quality"
    return "other"


DATASET_BUCKETS = (
    ("pii", "Personal data found"),
    ("quality", "Data quality"),
    ("anonymity", "Re-identification risk (k-anonymity, l-diversity, uniqueness)"),
    ("proxies", "Proxies for protected attributes"),
    ("other", "Other findings on this dataset"),
)


def _owner(subject: str) -> tuple[str, str] | None:
    parts = (subject or "").split("/", 1)[0]
    if ":" not in parts:
        return None
    kind, name = parts.split(":", 1)
    return (kind, name) if kind in ("dataset", "model", "decision_log") else None


def _extras_for(extras: Mapping[str, Any], key: str, model: str) -> Any:
    block = extras.get(key)
    return block.get(model) if isinstance(block, Mapping) else None


def _model_view(m: Mapping[str, Any], findings: list[dict[str, Any]], extras: Mapping[str, Any], chart_set: charts.ChartSet) -> dict[str, Any]:
    name = str(m.get("name"))
    view: dict[str, Any] = {"m": m, "name": name, "findings": findings, "fairness": [], "others": []}
    for fv in findings:
        (view["fairness"] if fv["by_group"] or fv["f"].get("category") == "fairness" else view["others"]).append(fv)
    expl = _extras_for(extras, "explanations", name)
    view["shap_global"] = None
    view["shap_bar"] = view["beeswarm"] = None
    if isinstance(expl, Mapping):
        glob = expl.get("global")
        if isinstance(glob, Mapping) and glob:
            view["shap_global"] = sorted(((str(k), charts.as_number(v)) for k, v in glob.items()), key=lambda kv: -(abs(kv[1]) if kv[1] is not None else -1))
        view["shap_bar"] = chart_set.draw(f"Mean absolute SHAP value per feature, model {name}", charts.shap_bar, glob or {})
        view["beeswarm"] = chart_set.draw(f"SHAP values per customer and feature (beeswarm), model {name}", charts.shap_beeswarm, expl.get("sample") or {})
        sample = expl.get("sample")
        view["beeswarm_n"] = len(sample.get("shap") or []) if isinstance(sample, Mapping) and isinstance(sample.get("shap"), list) else None
    seg = _extras_for(extras, "segments", name)
    view["composition"] = seg.get("composition") if isinstance(seg, Mapping) and isinstance(seg.get("composition"), Mapping) else None
    view["composition_chart"] = chart_set.draw(f"Protected-group composition of each segment, model {name}", charts.segment_composition, view["composition"] or {})
    view["composition_groups"] = sorted({str(g) for shares in (view["composition"] or {}).values() if isinstance(shares, Mapping) for g in shares})
    exp = _extras_for(extras, "exposure", name)
    view["exposure"] = exp if isinstance(exp, Mapping) and exp else None
    view["exposure_chart"] = chart_set.draw(f"Exposure share against relevance share per group, model {name}", charts.exposure, exp or {})
    codes = _extras_for(extras, "reason_code_examples", name)
    view["reason_codes"] = [c for c in codes if isinstance(c, Mapping)] if isinstance(codes, list) else []
    return view


# ---------------------------------------------------------------------------
# waivers, methodology, limits

SAMPLING_KEYS = ("sample_size", "sampled_rows", "sample_rows", "n_sample", "n_boot", "bootstrap", "confidence", "sampled", "sample_fraction")


def _waiver_view(w: Mapping[str, Any], today: date | None) -> dict[str, Any]:
    state = str(w.get("state") or "")
    days_left = None
    try:
        exp = date.fromisoformat(str(w.get("expires")))
        if today is not None:
            days_left = (exp - today).days
    except ValueError:
        exp = None
    expired = state == "expired" or (days_left is not None and days_left < 0 and state != "active")
    return {"w": w, "expired": expired, "days_left": days_left, "expiring_soon": (not expired and days_left is not None and days_left <= 30)}


def _run_date(run: Mapping[str, Any]) -> date | None:
    text = str(run.get("started_at") or "")[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _library_versions(run: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("libraries", "library_versions"):
        libs = run.get(key)
        if isinstance(libs, Mapping) and libs:
            return dict(libs)
    from audit.reporters.manifest import library_versions

    return library_versions()


def _sampling(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for f in r["findings"]:
        ev = f.get("evidence") or {}
        if not isinstance(ev, Mapping):
            continue
        for k in SAMPLING_KEYS:
            if k in ev and not isinstance(ev[k], (Mapping, list)):
                rows[f["check_id"]][k].add(_plain(ev[k], 40))
    return [{"check": c, "values": {k: ", ".join(sorted(v)) for k, v in kv.items()}} for c, kv in sorted(rows.items())]


def _coverage_gaps(r: Mapping[str, Any], open_att: int, expired: int) -> list[str]:
    counts = r["counts"]["by_status"]
    gaps = []
    if counts.get("error"):
        gaps.append(f"{counts['error']} check run(s) ended in an error; what they measure is not assessed in this report.")
    if counts.get("skipped"):
        gaps.append(f"{counts['skipped']} check(s) were not assessed (skipped), for example because a required column role or model kind was absent.")
    if open_att:
        gaps.append(f"{open_att} manual attestation(s) are still open: the questions they ask have not been answered by an accountable person.")
    if expired:
        gaps.append(f"{expired} waiver(s) have expired; the findings they covered count again.")
    if counts.get("waived"):
        gaps.append(f"{counts['waived']} finding(s) are waived: they failed their threshold and were accepted by the approver named in the waiver table.")
    return gaps


# ---------------------------------------------------------------------------
# the view model


def context(result: AuditResult, *, for_pdf: bool = False, extra_limitations: Iterable[str] = ()) -> dict[str, Any]:
    r = result.to_dict()
    extras = r.get("extras") or {}
    chart_set = charts.ChartSet("pdf" if for_pdf else "c", text_as_paths=not for_pdf)
    blocking = set(r["gate"].get("blocking") or ())
    fviews = [_finding_view(f, i, blocking, for_pdf=for_pdf) for i, f in enumerate(r["findings"])]
    for fv in _charted(fviews, for_pdf=for_pdf):
        title, fn, rows, kwargs = fv["chart_args"]
        fv["chart"] = chart_set.draw(title, fn, rows, **kwargs)
    by_key = {fv["key"]: fv for fv in fviews}

    failing = [fv for fv in fviews if fv["f"]["status"] in ("fail", "error")]
    failing.sort(key=lambda fv: (not fv["blocking"], fv["f"]["status"] != "error", -Severity(fv["f"]["severity"]).rank, fv["f"].get("baseline") != "new"))
    top = [{"view": fv, "text": _plain_language(fv["f"])} for fv in failing[:TOP_FAILING]]

    matrix = {sev: {st: 0 for st in STATUS_ORDER} for sev in SEVERITY_ORDER}
    for f in r["findings"]:
        if f["severity"] in matrix and f["status"] in matrix[f["severity"]]:
            matrix[f["severity"]][f["status"]] += 1

    baseline_known = any(f.get("baseline") for f in r["findings"]) or bool(r["resolved"])
    changes = {
        "known": baseline_known,
        "new": [fv for fv in fviews if fv["f"].get("baseline") == "new"],
        "unchanged": [fv for fv in fviews if fv["f"].get("baseline") == "unchanged"],
        "resolved": list(r["resolved"]),
    }

    # datasets and models, including any named only by findings or extras
    owned: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    unowned = []
    nothing_to_run = []  # checks that found no subject of their kind: one line each, not a card
    for fv in fviews:
        owner = _owner(fv["f"]["subject"])
        if fv["f"]["subject"] in ("-", "") and fv["f"]["status"] == "skipped":
            nothing_to_run.append(fv)
        elif owner is None:
            unowned.append(fv)
        else:
            owned[owner].append(fv)
            fv["owned"] = True  # shown in its dataset's or model's section, which names the owner
    measured_ids = {fv["f"]["check_id"] for fv in fviews if fv not in nothing_to_run}
    checks_measured = [c for c in r["checks"] if c.get("id") in measured_ids]
    checks_not_run = [c for c in r["checks"] if c.get("id") not in measured_ids]
    datasets = [dict(d) for d in r["datasets"]]
    known_ds = {str(d.get("name")) for d in datasets}
    datasets += [{"name": n} for (k, n) in owned if k == "dataset" and n not in known_ds]
    dviews = []
    for i, d in enumerate(datasets):
        fs = owned.get(("dataset", str(d.get("name"))), [])
        buckets = {b: [fv for fv in fs if _dataset_bucket(fv["f"]) == b] for b, _t in DATASET_BUCKETS}
        pii_rows = [row for fv in buckets["pii"] for row in _pii_rows(fv)]
        dviews.append({"d": d, "findings": fs, "buckets": buckets, "pii_rows": pii_rows, "anchor": f"dataset-{i + 1}-{_slug(str(d.get('name')))}"})
    models = [dict(m) for m in r["models"]]
    known_m = {str(m.get("name")) for m in models}
    extra_models = [n for (k, n) in owned if k == "model"]
    for key in ("explanations", "segments", "exposure", "reason_code_examples"):
        if isinstance(extras.get(key), Mapping):
            extra_models += [str(n) for n in extras[key]]
    for n in dict.fromkeys(extra_models):
        if n not in known_m:
            models.append({"name": n})
            known_m.add(n)
    mviews = []
    for i, m in enumerate(models):
        mv = _model_view(m, owned.get(("model", str(m.get("name"))), []), extras, chart_set)
        mv["anchor"] = f"model-{i + 1}-{_slug(mv['name'])}"
        mviews.append(mv)

    from audit.reporters.monitoring_view import monitoring_view

    monitoring = monitoring_view(r["run"], owned, chart_set)
    today = _run_date(r["run"])
    waivers = [_waiver_view(w, today) for w in r["waivers"]]
    waived_findings = [fv for fv in fviews if fv["f"].get("waiver")]
    attestations = list(r["attestations"])
    open_att = sum(1 for a in attestations if a.get("state") != "answered")

    signoff = r["run"].get("signoff") or {}
    signoff_rows = [
        {"role": role, "name": signoff.get(f"{key}_by"), "date": signoff.get(f"{key}_on")}
        for key, role in (("prepared", "Prepared by"), ("reviewed", "Reviewed by"), ("approved", "Approved by"))
    ]
    limitations = list(dict.fromkeys([*r["limitations"], *extra_limitations]))
    v = {
        "for_pdf": for_pdf,
        "run_date": today.isoformat() if today else str(r["run"].get("started_at") or ""),
        "system": r["run"].get("system") or {},
        "signoff": signoff_rows,
        "matrix": matrix,
        "severities": SEVERITY_ORDER,
        "statuses": STATUS_ORDER,
        "top_failing": top,
        "n_failing": len(failing),
        "changes": changes,
        "regulations": _regulation_view(r),
        "datasets": dviews,
        "dataset_buckets": DATASET_BUCKETS,
        "models": mviews,
        "monitoring": monitoring,
        "unowned": unowned,
        "nothing_to_run": nothing_to_run,
        "checks_measured": checks_measured,
        "checks_not_run": checks_not_run,
        "findings": fviews,
        "by_key": by_key,
        "waivers": waivers,
        "expired_waivers": sum(1 for w in waivers if w["expired"]),
        "waived_findings": waived_findings,
        "attestations": attestations,
        "open_attestations": open_att,
        "libraries": _library_versions(r["run"]),
        "sampling": _sampling(r),
        "sampling_notes": r["run"].get("sampling") or extras.get("sampling"),
        "limitations": limitations,
        "coverage_gaps": _coverage_gaps(r, open_att, sum(1 for w in waivers if w["expired"])),
        "inputs_by_role": _inputs_by_role(r["inputs"]),
    }
    return {"r": r, "v": v, "for_pdf": for_pdf, "extras": extras}


def _inputs_by_role(inputs: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for i in inputs:
        groups[str(i.get("role") or "input")].append(i)
    order = {"config": 0, "policy": 1, "dataset": 2, "model": 3}
    return sorted(groups.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]+", "-", text).strip("-") or "x"


def render(result: AuditResult, *, for_pdf: bool = False, extra_limitations: Iterable[str] = (), **_: Any) -> str:
    ctx = context(result, for_pdf=for_pdf, extra_limitations=extra_limitations)
    return environment().get_template(TEMPLATE).render(**ctx)


__all__ = ["FILENAME", "TEMPLATE", "context", "environment", "instrument_of", "render", "subject_phrase", "worst_status"]
