"""Reading a user's table: separator and encoding, missing-value tokens, whitespace, coded values.

Real exports differ from the demo in ways that change every figure when they are read
wrongly: ';' or tab separators, Windows or UTF-16 encodings, "?" for unknown, a leading
space before each value, duplicate headers, attributes coded as A93 or 1/2. This module
reads a file once, records every decision it took (the ``reading`` and ``preprocessing``
records shown in the manifest and the report), and refuses what it cannot read without
guessing.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Cell values read as missing unless ``source.options.na_values`` says otherwise.
DEFAULT_NA_VALUES: tuple[str, ...] = ("", "?", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "#N/A", "<NA>")
#: Separators tried, in order of preference on a tie.
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
MIN_ROWS = 2

_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class ReadError(Exception):
    """A reading problem; ``key`` is the config key (under ``source``) that fixes it."""

    def __init__(self, message: str, *, key: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint


@dataclass
class ReadRecord:
    """How a file was read: shown in the manifest and the dataset section of the report."""

    format: str
    sep: str | None = None
    sep_source: str = ""  # "sniffed" | "declared"
    encoding: str | None = None
    encoding_source: str = ""  # "BOM" | "sniffed" | "fallback" | "declared"
    na_values: list[str] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": self.format}
        if self.format == "csv":
            out.update(
                sep=self.sep, sep_name=_SEP_NAMES.get(self.sep or "", repr(self.sep)), sep_source=self.sep_source,
                encoding=self.encoding, encoding_source=self.encoding_source, decimal=self.decimal,
            )
            if self.thousands:
                out["thousands"] = self.thousands
        out["na_values"] = list(self.na_values)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def show(value: Any) -> str:
    """A value as a message shows it: strings quoted so whitespace is visible, numbers plain.

    Never a numpy repr such as ``np.int64(2)``.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    return repr(value) if isinstance(value, str) else str(value)


def value_key(value: Any) -> str:
    """The text form used to match a data value against a key written in YAML (1, 1.0 and '1' agree)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------
# encoding and separator


def sniff_encoding(head: bytes) -> tuple[str, str]:
    """(encoding, how it was decided) from the first bytes; UTF-8 unless a BOM says otherwise."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "BOM"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", "BOM"
    if head[:200].count(b"\x00") > 10:
        raise ReadError(
            "the file looks like UTF-16 without a byte-order mark (many NUL bytes)",
            key="options.encoding",
            hint="set source.options.encoding to utf-16-le or utf-16-be",
        )
    return "utf-8", "sniffed"


def _fields(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep))
    except (csv.Error, StopIteration):
        return []


def sniff_separator(text: str) -> str:
    """The separator that splits the header and the following lines into the same, largest number of fields."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    if len(lines) > 2:
        lines = lines[:-1]  # the sample may end mid-line
    best, best_score = ",", (0, 0)
    for sep in SEPARATORS:
        counts = [len(_fields(ln, sep)) for ln in lines]
        width = counts[0]
        if width < 2:
            continue
        consistent = sum(1 for c in counts if c == width) / len(counts)
        score = (int(consistent >= 0.9), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def header_fields(text: str, sep: str) -> list[str]:
    """The header's fields exactly as written (pandas renames duplicates to ``x.1``)."""
    try:
        return next(csv.reader(io.StringIO(text), delimiter=sep))
    except (csv.Error, StopIteration):
        return []


def duplicate_names(names: Sequence[Any]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for n in map(str, names):
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


# ---------------------------------------------------------------------------
# reading


def read_csv_file(path: Path, options: Mapping[str, Any], *, nrows: int | None = None) -> tuple[pd.DataFrame, ReadRecord]:
    """Read a delimited text file, sniffing what the options leave open."""
    rec = ReadRecord(format="csv")
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    declared_enc = options.get("encoding")
    if declared_enc:
        try:
            codecs.lookup(declared_enc)
        except LookupError:
            raise ReadError(f"unknown encoding {declared_enc!r}", key="options.encoding", hint="use a Python codec name such as utf-8, latin-1, cp1252, gb18030, utf-16") from None
        enc, rec.encoding_source = declared_enc, "declared"
    else:
        enc, rec.encoding_source = sniff_encoding(head)
    try:
        head_text = head.decode(enc, errors="strict" if declared_enc else "ignore")
    except UnicodeDecodeError as exc:
        raise ReadError(f"the file is not valid {enc} (byte {exc.start} of the first block)", key="options.encoding", hint="set source.options.encoding to the file's encoding (e.g. latin-1, cp1252, gb18030)") from None
    if not declared_enc and rec.encoding_source == "sniffed":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
                enc, rec.encoding_source = "latin-1", "fallback"
                head_text = head.decode("latin-1")
    declared_sep = options.get("sep")
    if declared_sep:
        sep, rec.sep_source = declared_sep, "declared"
    else:
        sep, rec.sep_source = sniff_separator(head_text), "sniffed"
    rec.sep = sep
    header = header_fields(head_text, sep)
    dup = duplicate_names(header)
    if dup:
        raise ReadError(
            f"duplicate column name(s) in the header: {', '.join(map(repr, dup))}",
            hint="rename the repeated columns in the file (each column needs a unique name)",
        )
    na = list(options["na_values"]) if options.get("na_values") is not None else list(DEFAULT_NA_VALUES)
    rec.na_values = na
    rec.decimal = options.get("decimal") or "."
    rec.thousands = options.get("thousands")
    kwargs: dict[str, Any] = {
        "sep": sep, "encoding": enc, "keep_default_na": False, "na_values": sorted({"", *na}),
        "decimal": rec.decimal, "skipinitialspace": bool(options.get("skipinitialspace", False)),
    }
    if rec.thousands:
        kwargs["thousands"] = rec.thousands
    if nrows is not None:
        kwargs["nrows"] = nrows
    try:
        frame = pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as exc:
        if rec.encoding_source in ("declared", "BOM"):
            raise ReadError(f"the file is not valid {enc} ({exc.reason} at byte {exc.start})", key="options.encoding", hint="set source.options.encoding to the file's encoding (e.g. latin-1, cp1252, gb18030)") from None
        enc, rec.encoding_source = "latin-1", "fallback"
        kwargs["encoding"] = enc
        frame = pd.read_csv(path, **kwargs)
    rec.encoding = enc
    if rec.encoding_source == "fallback":
        rec.notes.append("the file is not valid UTF-8 and was read as latin-1; set source.options.encoding if it is another code page (cp1252, gb18030)")
    if frame.shape[1] == 1:
        name = str(frame.columns[0])
        others = [s for s in SEPARATORS if s != sep and s in name]
        if others:
            raise ReadError(
                f"read as one column named {name[:60]!r}, but the header contains {_SEP_NAMES[others[0]]} characters",
                key="options.sep",
                hint=f"set source.options.sep to {others[0]!r}" + ("" if rec.sep_source == "sniffed" else f" (it is {sep!r})"),
            )
    return frame, rec


def apply_na_values(frame: pd.DataFrame, na_values: Sequence[str]) -> dict[str, int]:
    """Read missing-value tokens (after trimming spaces) in text columns as missing; count per column."""
    tokens = {"", *(t.strip() for t in na_values)}
    counts: dict[str, int] = {}
    for col in frame.columns:
        s = frame[col]
        if not is_text(s):
            continue
        stripped = s.astype("string").str.strip()
        hit = stripped.isin(tokens).fillna(False).to_numpy(dtype=bool) & s.notna().to_numpy(dtype=bool)
        n = int(hit.sum())
        if n:
            frame[col] = s.mask(hit)
            counts[str(col)] = n
    return counts


def is_text(series: pd.Series) -> bool:
    """Object or pandas string dtype (pandas 3 reads text as ``str`` by default)."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def strip_whitespace(frame: pd.DataFrame, skip: Sequence[str] = ()) -> dict[str, int]:
    """Trim surrounding whitespace of text values (not of free-text columns); cells changed per column."""
    counts: dict[str, int] = {}
    for col in frame.columns:
        if str(col) in skip or not is_text(frame[col]):
            continue
        s = frame[col]
        new = s.map(_strip)
        changed = (s.notna() & (new.astype(object) != s.astype(object))).to_numpy(dtype=bool)
        n = int(changed.sum())
        if n:
            frame[col] = new
            counts[str(col)] = n
    return counts


def apply_value_labels(frame: pd.DataFrame, value_labels: Mapping[str, Mapping[Any, Any]]) -> dict[str, dict[str, Any]]:
    """Replace codes by words (``A93`` -> ``male, divorced``); the column becomes text.

    Returns, per column, the cells mapped and the codes found in the data that the
    mapping does not name (kept as they are, as text).
    """
    out: dict[str, dict[str, Any]] = {}
    for col, mapping in value_labels.items():
        lookup = {value_key(k): str(v) for k, v in mapping.items()}
        s = frame[col]
        keys = [None if pd.isna(v) else value_key(v) for v in s.tolist()]
        values = [np.nan if k is None else lookup.get(k, k) for k in keys]
        frame[col] = pd.Series(values, index=s.index, dtype=object)
        unmapped = sorted({k for k in keys if k is not None and k not in lookup})
        out[str(col)] = {"cells_mapped": sum(1 for k in keys if k is not None and k in lookup), "codes_without_label": unmapped[:20]}
    return out
