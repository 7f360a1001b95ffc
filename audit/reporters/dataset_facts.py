"""Plain-language lines on how a dataset was read and cleaned, for the report's dataset section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LIMIT = 12


def _counts(mapping: Mapping[str, Any]) -> str:
    items = list(mapping.items())
    text = ", ".join(f"{k} ({v})" for k, v in items[:LIMIT])
    return text + (f", … {len(items) - LIMIT} more" if len(items) > LIMIT else "")


def read_as(reading: Mapping[str, Any]) -> str:
    """'CSV, separator ';' (semicolon, sniffed), encoding latin-1 (fallback) ...'."""
    if not reading:
        return ""
    fmt = str(reading.get("format", "")).upper()
    parts = [fmt]
    if reading.get("format") == "csv":
        parts.append(f"separator {reading.get('sep')!r} ({reading.get('sep_name')}, {reading.get('sep_source')})")
        parts.append(f"encoding {reading.get('encoding')} ({reading.get('encoding_source')})")
        if reading.get("decimal", ".") != ".":
            parts.append(f"decimal mark {reading['decimal']!r}")
        if reading.get("thousands"):
            parts.append(f"thousands separator {reading['thousands']!r}")
    na = reading.get("na_values")
    if na is not None:
        parts.append("read as missing: empty cells" + (", " + ", ".join(repr(x) for x in na if x != "") if any(x != "" for x in na) else ""))
    notes = list(reading.get("notes") or ())
    return "; ".join(parts) + ("" if not notes else ". " + " ".join(n[:1].upper() + n[1:] + "." for n in notes))


def dataset_facts(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) rows: reading, trimming, missing cells, imputation, label and value mappings."""
    rows: list[tuple[str, str]] = []
    reading = summary.get("reading") or {}
    if reading:
        rows.append(("read as", read_as(reading)))
    prep = summary.get("preprocessing") or {}
    if prep.get("whitespace_stripped"):
        rows.append(("spaces trimmed", "surrounding spaces removed from values, cells per column: " + _counts(prep["whitespace_stripped"])))
    missing = prep.get("missing_cells")
    if missing is not None:
        rows.append(("missing cells", _counts(missing) if missing else "none"))
    for model, cols in (prep.get("imputed_by_model") or {}).items():
        rows.append((f"filled in by {model}", "missing values imputed (median for numbers, most frequent value for categories) in the training rows, per column: " + _counts(cols)))
    for col, counts in (prep.get("label_map") or {}).items():
        rows.append((f"label map ({col})", ", ".join(f"{k!r} rewritten in {v} rows" for k, v in counts.items())))
    for col, info in (prep.get("value_labels") or {}).items():
        left = info.get("codes_without_label") or []
        rows.append((f"value labels ({col})", f"{info.get('cells_mapped', 0)} coded cells shown as words" + (f"; codes without a label, kept as they are: {', '.join(map(repr, left))}" if left else "")))
    for model, info in (prep.get("positive_class") or {}).items():
        rows.append((f"positive class ({model})", f"{info['positive']} of target {info['target']!r} ({info['how']}); values: {info['values']}"))
    return rows
