"""Special categories of personal data (GDPR Art. 9/10, PIPL Art. 28) by lexicon.

The lexicons live in ``audit/pii/data/special_categories.yaml``; users can
extend them by passing more YAML files of the same shape. Matching is a
lexicon lookup, not a classifier: it flags columns and texts for a human to
review. A hit means the text *mentions* a term of the category, which may or
may not concern the data subject.

Term syntax: English terms match whole words, case-insensitively; a trailing
``*`` allows any word ending (``diagnos*`` matches "diagnosed"). Chinese terms
match as substrings. Column names are split on punctuation, underscores and
camelCase before English column terms are compared as whole tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "SpecialCategoryScanner",
    "SpecialHit",
    "load_lexicon",
    "special_categories_in_column",
    "special_categories_in_text",
]

DEFAULT_LEXICON_PATH = Path(__file__).with_name("data") / "special_categories.yaml"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9A-Za-z]+")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class SpecialHit:
    category: str
    start: int
    end: int
    term: str


def load_lexicon(paths: Iterable[str | Path] = ()) -> dict[str, dict]:
    """Merge the packaged lexicon with extra YAML files (terms are added, not replaced)."""
    merged: dict[str, dict] = {}
    for path in [DEFAULT_LEXICON_PATH, *paths]:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for cat, spec in data.items():
            tgt = merged.setdefault(
                cat,
                {"legal": [], "column": {"en": [], "zh": []}, "text": {"en": [], "zh": []}, "text_exclude": {"en": [], "zh": []}},
            )
            tgt["legal"] += [x for x in (spec or {}).get("legal", []) if x not in tgt["legal"]]
            for part in ("column", "text", "text_exclude"):
                for lang in ("en", "zh"):
                    for term in ((spec or {}).get(part) or {}).get(lang) or []:
                        term = str(term)
                        if term not in tgt[part][lang]:
                            tgt[part][lang].append(term)
    return merged


def _en_regex(terms: Sequence[str]) -> re.Pattern | None:
    alts = []
    for t in sorted(set(terms), key=len, reverse=True):
        t = t.strip().lower()
        if not t:
            continue
        if t.endswith("*"):
            alts.append(re.escape(t[:-1]) + r"\w*")
        else:
            alts.append(re.escape(t))
    if not alts:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])", re.IGNORECASE)


#: A term followed by one of these words names software or a design, not a person's trait
#: ("the democrat theme", "a minor version").
_SOFTWARE_AFTER = re.compile(
    r"^\s+(?:theme|themes|plugin|plugins|template|templates|font|fonts|skin|skins|module|modules|package|"
    r"packages|widget|widgets|version|versions|release|releases|update|updates|mode|layout|icon|icons|emoji|"
    r"filter|preset|branch|tag|label|field|column|setting|settings)\b",
    re.IGNORECASE,
)


class SpecialCategoryScanner:
    """Look up special-category terms in texts and column names."""

    def __init__(self, extra_lexicons: Iterable[str | Path] = ()):
        self.lexicon = load_lexicon(extra_lexicons)
        self._text_en = {c: _en_regex(s["text"]["en"]) for c, s in self.lexicon.items()}
        self._text_zh = {c: tuple(sorted(set(s["text"]["zh"]), key=len, reverse=True)) for c, s in self.lexicon.items()}
        self._excl_en = {c: _en_regex(s["text_exclude"]["en"]) for c, s in self.lexicon.items()}
        self._excl_zh = {c: tuple(s["text_exclude"]["zh"]) for c, s in self.lexicon.items()}
        self._col_en = {c: [t.lower() for t in s["column"]["en"]] for c, s in self.lexicon.items()}
        self._col_zh = {c: tuple(s["column"]["zh"]) for c, s in self.lexicon.items()}

    @property
    def categories(self) -> list[str]:
        return list(self.lexicon)

    def legal_basis(self, category: str) -> list[str]:
        return list(self.lexicon[category]["legal"])

    def scan_text(self, text: str) -> dict[str, list[SpecialHit]]:
        """Hits per category (categories without hits are left out)."""
        out: dict[str, list[SpecialHit]] = {}
        if not text:
            return out
        has_cjk = bool(_HAS_CJK.search(text))
        for cat in self.lexicon:
            hits: list[SpecialHit] = []
            rx = self._text_en[cat]
            if rx is not None:
                hits += [SpecialHit(cat, m.start(), m.end(), m.group()) for m in rx.finditer(text)]
            if has_cjk:
                taken: list[tuple[int, int]] = []
                for term in self._text_zh[cat]:
                    for m in re.finditer(re.escape(term), text):
                        if any(m.start() < e and s < m.end() for s, e in taken):
                            continue
                        taken.append(m.span())
                        hits.append(SpecialHit(cat, m.start(), m.end(), term))
            if hits:
                hits = self._drop_excluded(cat, text, hits)
            if hits:
                out[cat] = sorted(hits, key=lambda h: (h.start, h.end))
        return out

    def _drop_excluded(self, cat: str, text: str, hits: list[SpecialHit]) -> list[SpecialHit]:
        """Hits not inside an excluded phrase of the category and not naming software."""
        spans: list[tuple[int, int]] = []
        rx = self._excl_en[cat]
        if rx is not None:
            spans += [m.span() for m in rx.finditer(text)]
        for term in self._excl_zh[cat]:
            spans += [m.span() for m in re.finditer(re.escape(term), text)]
        kept = []
        for h in hits:
            if any(s <= h.start and h.end <= e for s, e in spans):
                continue
            if not _HAS_CJK.match(h.term[:1] or " ") and _SOFTWARE_AFTER.match(text[h.end : h.end + 24]):
                continue
            kept.append(h)
        return kept

    def scan_texts(self, texts: Iterable[str]) -> dict[str, int]:
        """Number of texts with at least one hit, per category."""
        counts: dict[str, int] = {}
        for t in texts:
            for cat in self.scan_text("" if t is None else str(t)):
                counts[cat] = counts.get(cat, 0) + 1
        return counts

    def scan_column_name(self, name: str) -> list[str]:
        """Categories suggested by a column name."""
        if not name:
            return []
        tokens = [p.lower() for p in _SPLIT.split(_CAMEL.sub("_", str(name))) if p]
        joined = "_" + "_".join(tokens) + "_"
        found = []
        for cat in self.lexicon:
            hit = False
            for term in self._col_en[cat]:
                if term.endswith("*"):
                    stem = term[:-1]
                    hit = any(tok.startswith(stem) for tok in tokens)
                else:
                    hit = f"_{term}_" in joined
                if hit:
                    break
            if not hit:
                hit = any(term and term.lower() in str(name).lower() for term in self._col_zh[cat])
            if hit:
                found.append(cat)
        return found


_DEFAULT: SpecialCategoryScanner | None = None


def _default() -> SpecialCategoryScanner:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SpecialCategoryScanner()
    return _DEFAULT


def special_categories_in_text(text: str) -> dict[str, list[SpecialHit]]:
    """Hits per special category in ``text`` using the packaged lexicon."""
    return _default().scan_text(text)


def special_categories_in_column(name: str) -> list[str]:
    """Special categories suggested by a column name using the packaged lexicon."""
    return _default().scan_column_name(name)
