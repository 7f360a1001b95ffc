"""Decide whether a structured column holds direct identifiers.

Evidence comes from two sources: hits of the scanner on a random sample of
the column's values, and hints in the column name (``audit/pii/data/
column_hints.yaml``, English tokens and Chinese substrings).
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

import yaml

__all__ = ["column_name_hint", "column_verdict", "load_column_hints", "sample_values"]

_DATA = Path(__file__).with_name("data")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")


@cache
def load_column_hints(path: str | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """Read the column-name hint file (default: the packaged one)."""
    file = Path(path) if path else _DATA / "column_hints.yaml"
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {
        ent: {lang: tuple(str(t).lower() for t in (terms or [])) for lang, terms in langs.items()}
        for ent, langs in raw.items()
    }


def _name_tokens(name: str) -> list[str]:
    parts = [p for p in _SPLIT.split(_CAMEL.sub("_", name)) if p]
    return [p.lower() for p in parts]


def column_name_hint(name: str | None, hints: dict | None = None) -> str | None:
    """Entity type suggested by a column name, or None.

    English hints match a run of whole tokens (``customer_email`` matches
    ``email``; ``emailed_at`` does not); Chinese hints match as substrings.
    Longer hints win over shorter ones.
    """
    if not name:
        return None
    hints = hints or load_column_hints()
    tokens = _name_tokens(str(name))
    joined = "_" + "_".join(tokens) + "_"
    best: tuple[int, str | None] = (0, None)
    for ent, langs in hints.items():
        for term in langs.get("en", ()):
            if f"_{term}_" in joined and len(term) > best[0]:
                best = (len(term), ent)
        for term in langs.get("zh", ()):
            if term and term in str(name).lower() and len(term) * 2 > best[0]:
                best = (len(term) * 2, ent)
    return best[1]


def sample_values(series, sample_size: int, seed: int) -> list[str]:
    """Non-empty values of ``series`` as strings, randomly sampled (reproducible)."""
    try:
        values = series.dropna()  # pandas Series
        values = values[values.astype(str).str.strip() != ""]
        if len(values) > sample_size:
            values = values.sample(n=sample_size, random_state=seed)
        return [str(v) for v in values.tolist()]
    except AttributeError:
        vals = [str(v) for v in series if v is not None and str(v).strip() and str(v) != "nan"]
        if len(vals) > sample_size:
            vals = random.Random(seed).sample(vals, sample_size)
        return vals


def column_verdict(scanner, series, column_name, sample_size: int = 200, seed: int = 0, language: str = "auto"):
    from .engine import DIRECT_IDENTIFIER_ENTITIES, NER_ENTITIES, ColumnVerdict

    name = str(column_name) if column_name is not None else str(getattr(series, "name", "") or "")
    hint = column_name_hint(name)
    values = sample_values(series, sample_size, seed)
    n = len(values)
    reasons: list[str] = []
    if hint:
        reasons.append(f"column name '{name}' suggests {hint}")
    if n == 0:
        return ColumnVerdict(name, False, hint, 0.0, 0.0, 0, hint, {}, tuple(reasons + ["no non-empty values"]))

    hit_rows: dict[str, set] = {}
    for h in scanner.scan_texts(values, language=language):
        hit_rows.setdefault(h.entity_type, set()).add(h.row_id)
    # Names alone in a cell are hard for NER; retry PERSON-hinted columns in a carrier sentence.
    if hint == "PERSON" and getattr(scanner, "ner_enabled", False):
        prefix = "My name is "
        carried = [prefix + v + "." for v in values]
        langs = ["zh" if _is_zh(v) else "en" for v in values]
        en_idx = [i for i, lg in enumerate(langs) if lg == "en"]
        for h in scanner.scan_texts([carried[i] for i in en_idx], language="en", ids=en_idx):
            if h.entity_type == "PERSON" and h.end > len(prefix):
                hit_rows.setdefault("PERSON", set()).add(h.row_id)
    shares = {e: len(r) / n for e, r in hit_rows.items()}
    # A category column (status, channel, region, product) repeats a few labels; a name model
    # tagging one of them ("Open", "Victoria") does not make the column personal.
    distinct = len(set(values))
    if n >= 20 and distinct <= max(20, n // 20) and distinct / n <= 0.2:
        dropped = sorted(e for e in shares if e in NER_ENTITIES and e != hint)
        for e in dropped:
            del shares[e]
        if dropped:
            reasons.append(
                f"{distinct} distinct values in {n} sampled: a category column, "
                f"so {', '.join(dropped)} hits in its labels are not personal data"
            )

    best = max(shares, key=lambda e: (shares[e], e == hint)) if shares else None
    best_share = shares.get(best, 0.0) if best else 0.0
    hint_share = shares.get(hint, 0.0) if hint else 0.0
    values_checked = not (hint in NER_ENTITIES and not getattr(scanner, "ner_enabled", False))

    if best and best_share >= 0.5:
        entity, share = best, best_share
        conf = 0.5 + 0.5 * share + (0.1 if hint == best else 0.0)
        reasons.append(f"{share:.0%} of {n} sampled values contain {best}")
    elif hint and hint_share >= 0.2:
        entity, share = hint, hint_share
        conf = 0.6 + 0.4 * share
        reasons.append(f"{share:.0%} of {n} sampled values contain {hint}, matching the column name")
    elif hint and not values_checked:
        entity, share = hint, hint_share
        conf = 0.5
        reasons.append(f"values not checked for {hint} (no NER model); decided on the column name")
    elif hint:
        entity, share = hint, hint_share
        conf = 0.3
        reasons.append(f"only {share:.0%} of sampled values look like {hint}: values may be hashed, coded or empty")
        return ColumnVerdict(name, False, entity, round(conf, 3), share, n, hint, shares, tuple(reasons))
    elif best:
        entity, share = best, best_share
        conf = 0.3 + 0.4 * share
        reasons.append(f"{share:.0%} of {n} sampled values contain {best} (free text with some personal data?)")
        return ColumnVerdict(name, False, entity, round(conf, 3), share, n, hint, shares, tuple(reasons))
    else:
        reasons.append(f"no personal data found in {n} sampled values")
        return ColumnVerdict(name, False, None, 0.9 if n >= 20 else 0.6, 0.0, n, hint, shares, tuple(reasons))

    direct = entity in DIRECT_IDENTIFIER_ENTITIES
    if not direct:
        reasons.append(f"{entity} is not a direct identifier of a person")
    return ColumnVerdict(name, direct, entity, round(min(conf, 1.0), 3), share, n, hint, shares, tuple(reasons))


def _is_zh(text: str) -> bool:
    from .engine import detect_language

    return detect_language(text) == "zh"
