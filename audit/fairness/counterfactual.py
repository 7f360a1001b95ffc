"""Counterfactual identity swaps for text models.

Each text is rewritten with identity terms swapped (``he <-> she``,
``Christian <-> Muslim``, ``他 <-> 她`` ...) and scored again. Only texts that
contain at least one swappable term count. Results never include raw text:
examples are given as indices into the input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from audit.fairness._stats import (
    check_bootstrap_args,
    interval,
    make_rng,
    resample_weight_chunks,
)
from audit.fairness.results import Estimate

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
DEFAULT_TERMS_FILE = "identity_terms.yaml"

BAD_TERMS_FILE = "identity terms file {path}: {problem}"
UNKNOWN_LANGUAGE = "unknown language {value!r}; known: en, zh"
UNKNOWN_CATEGORY = "unknown identity category {value!r}; known: {known}"
BAD_PROBA = "predict_proba returned shape {shape}, expected ({n},) or ({n}, n_classes)"
BAD_BATCH = "batch_size must be a positive integer, got {value!r}"


@dataclass(frozen=True)
class TermList:
    """Swap pairs of one language and category, plus words never touched."""

    pairs: tuple[tuple[str, str], ...]
    keep: tuple[str, ...] = ()


IdentityTerms = dict[str, dict[str, TermList]]


def _parse(raw: Any, origin: str) -> IdentityTerms:
    if not isinstance(raw, Mapping):
        raise ValueError(BAD_TERMS_FILE.format(path=origin, problem="top level must be a mapping"))  # noqa: TRY004
    out: IdentityTerms = {}
    for lang, cats in raw.items():
        if lang not in LANGUAGES:
            raise ValueError(BAD_TERMS_FILE.format(path=origin, problem=UNKNOWN_LANGUAGE.format(value=lang)))
        if not isinstance(cats, Mapping):
            problem = f"{lang}: categories must be a mapping"
            raise ValueError(BAD_TERMS_FILE.format(path=origin, problem=problem))  # noqa: TRY004
        out[lang] = {}
        for cat, body in cats.items():
            if not isinstance(body, Mapping) or "pairs" not in body:
                raise ValueError(BAD_TERMS_FILE.format(path=origin, problem=f"{lang}.{cat}: needs 'pairs'"))
            pairs = []
            for pair in body["pairs"] or []:
                if not (
                    isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(t, str) and t for t in pair)
                ):
                    raise ValueError(BAD_TERMS_FILE.format(path=origin, problem=f"{lang}.{cat}: bad pair {pair!r}"))
                pairs.append((pair[0], pair[1]))
            keep = tuple(str(w) for w in (body.get("keep") or []))
            out[lang][str(cat)] = TermList(pairs=tuple(pairs), keep=keep)
    return out


def load_identity_terms(path: str | Path | None = None, *, extra: Iterable[str | Path] = ()) -> IdentityTerms:
    """Load identity term pairs.

    Parameters
    ----------
    path : str or Path, optional
        Terms file replacing the bundled ``data/identity_terms.yaml``.
    extra : iterable of str or Path
        Further files whose pairs and kept words are appended (new languages
        and categories are added).

    Returns
    -------
    dict
        ``language -> category -> TermList``.
    """
    if path is None:
        text = resources.files("audit.fairness").joinpath("data", DEFAULT_TERMS_FILE).read_text("utf-8")
        terms = _parse(yaml.safe_load(text), DEFAULT_TERMS_FILE)
    else:
        terms = _parse(yaml.safe_load(Path(path).read_text("utf-8")), str(path))
    for more in extra:
        added = _parse(yaml.safe_load(Path(more).read_text("utf-8")), str(more))
        for lang, cats in added.items():
            for cat, tl in cats.items():
                old = terms.setdefault(lang, {}).get(cat, TermList(pairs=()))
                terms[lang][cat] = TermList(pairs=old.pairs + tl.pairs, keep=old.keep + tl.keep)
    return terms


# a character that continues a Latin-script word (CJK characters do not, so mixed text works)
_LATIN = r"[0-9A-Za-z_\u00C0-\u024F]"


def _match_case(word: str, replacement: str) -> str:
    if len(word) > 1 and word.isupper():
        return replacement.upper()
    if word[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement.lower()


@dataclass(frozen=True)
class TermSwapper:
    """Simultaneous swapping of identity terms in one or more languages.

    English terms match whole words (no Latin letter, digit or underscore on
    either side), case-insensitively, keeping the matched word's case; Chinese terms
    match as substrings, longest first, skipping ``keep`` words.
    """

    category: str
    en_map: Mapping[str, str] = field(repr=False)
    zh_map: Mapping[str, str] = field(repr=False)
    en_pattern: re.Pattern[str] | None = field(repr=False)
    zh_pattern: re.Pattern[str] | None = field(repr=False)

    def swap(self, text: str) -> tuple[str, int]:
        """Return the swapped text and the number of terms swapped."""
        count = 0

        def en_repl(m: re.Match[str]) -> str:
            nonlocal count
            count += 1
            word = m.group(0)
            return _match_case(word, self.en_map[word.lower()])

        def zh_repl(m: re.Match[str]) -> str:
            nonlocal count
            word = m.group(0)
            new = self.zh_map.get(word)
            if new is None:
                return word
            count += 1
            return new

        if self.en_pattern is not None:
            text = self.en_pattern.sub(en_repl, text)
        if self.zh_pattern is not None:
            text = self.zh_pattern.sub(zh_repl, text)
        return text, count


def _pair_map(pairs: Iterable[tuple[str, str]], *, lower: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for a, b in pairs:
        ka, kb = (a.lower(), b.lower()) if lower else (a, b)
        out.setdefault(ka, b)
        out.setdefault(kb, a)
    return out


def make_swapper(
    category: str,
    *,
    terms: IdentityTerms | None = None,
    languages: Sequence[Language] = LANGUAGES,
) -> TermSwapper:
    """Build a :class:`TermSwapper` for one category over the given languages."""
    terms = terms if terms is not None else load_identity_terms()
    for lang in languages:
        if lang not in LANGUAGES:
            raise ValueError(UNKNOWN_LANGUAGE.format(value=lang))
    known = sorted({c for lang in languages for c in terms.get(lang, {})})
    if category not in known:
        raise ValueError(UNKNOWN_CATEGORY.format(value=category, known=known))
    en_map: dict[str, str] = {}
    zh_map: dict[str, str] = {}
    en_pattern = zh_pattern = None
    if "en" in languages and category in terms.get("en", {}):
        en_map = _pair_map(terms["en"][category].pairs, lower=True)
        if en_map:
            alternation = "|".join(re.escape(w) for w in sorted(en_map, key=len, reverse=True))
            en_pattern = re.compile(rf"(?<!{_LATIN})(?:{alternation})(?!{_LATIN})", re.IGNORECASE)
    if "zh" in languages and category in terms.get("zh", {}):
        tl = terms["zh"][category]
        zh_map = _pair_map(tl.pairs, lower=False)
        words = set(zh_map) | set(tl.keep)
        if zh_map:
            alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            zh_pattern = re.compile(alternation)
        for w in tl.keep:
            zh_map.pop(w, None)
    return TermSwapper(category=category, en_map=en_map, zh_map=zh_map, en_pattern=en_pattern, zh_pattern=zh_pattern)


def swap_identity_terms(
    text: str,
    *,
    category: str,
    terms: IdentityTerms | None = None,
    languages: Sequence[Language] = LANGUAGES,
) -> str:
    """Swap one category's identity terms in ``text`` (convenience wrapper)."""
    return make_swapper(category, terms=terms, languages=languages).swap(text)[0]


@dataclass(frozen=True)
class CounterfactualResult:
    """Effect of swapping one category of identity terms.

    Attributes
    ----------
    category : str
        Identity category swapped.
    n_texts : int
        Texts given.
    n_swappable : int
        Texts containing at least one term of the category.
    n_swapped_terms : int
        Terms swapped over all texts.
    n_flipped : int
        Swappable texts whose predicted label changed.
    flip_rate : Estimate
        ``n_flipped / n_swappable`` with a bootstrap interval over texts.
    mean_abs_change : Estimate
        Mean over swappable texts of the score change: ``|p' - p|`` for a 1-D
        score, else half the L1 distance between the class probability vectors
        (equal to ``|p1' - p1|`` for two classes).
    flipped_indices : tuple of int
        Indices (into the input) of flipped texts, at most ``max_examples``.
    largest_change_indices : tuple of int
        Indices of the texts with the largest score change, at most ``max_examples``.
    """

    category: str
    n_texts: int
    n_swappable: int
    n_swapped_terms: int
    n_flipped: int
    flip_rate: Estimate
    mean_abs_change: Estimate
    flipped_indices: tuple[int, ...]
    largest_change_indices: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "category": self.category,
            "n_texts": self.n_texts,
            "n_swappable": self.n_swappable,
            "n_swapped_terms": self.n_swapped_terms,
            "n_flipped": self.n_flipped,
            "flip_rate": self.flip_rate.to_dict(),
            "mean_abs_change": self.mean_abs_change.to_dict(),
            "flipped_indices": list(self.flipped_indices),
            "largest_change_indices": list(self.largest_change_indices),
        }


def _predict(predict_proba: Callable[[list[str]], np.ndarray], texts: list[str], batch_size: int) -> np.ndarray:
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(np.asarray(predict_proba(texts[start : start + batch_size]), dtype=float))
    out = np.concatenate(parts, axis=0) if parts else np.zeros((0,))
    if out.shape[0] != len(texts) or out.ndim not in (1, 2):
        raise ValueError(BAD_PROBA.format(shape=out.shape, n=len(texts)))
    return out


def _labels_and_change(before: np.ndarray, after: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    if before.ndim == 1:
        flipped = (before >= threshold) != (after >= threshold)
        change = np.abs(after - before)
    else:
        flipped = before.argmax(axis=1) != after.argmax(axis=1)
        change = 0.5 * np.abs(after - before).sum(axis=1)
    return flipped, change


def counterfactual_flip_rate(
    texts: Sequence[str],
    *,
    predict_proba: Callable[[list[str]], np.ndarray],
    categories: Sequence[str] | None = None,
    languages: Sequence[Language] = LANGUAGES,
    terms: IdentityTerms | None = None,
    threshold: float = 0.5,
    batch_size: int = 256,
    max_examples: int = 20,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    ci_method: Literal["basic", "percentile"] = "percentile",
) -> dict[str, CounterfactualResult]:
    """Flip rate and score change of a text model under identity swaps.

    Parameters
    ----------
    texts : sequence of str
        Input texts (missing values are treated as empty strings).
    predict_proba : callable
        ``predict_proba(list[str]) -> ndarray`` of shape ``(n,)`` (score of
        the positive class) or ``(n, n_classes)``.
    categories : sequence of str, optional
        Identity categories to test (default: every category in ``terms``
        for the chosen languages).
    languages : sequence of {"en", "zh"}
        Languages whose terms are swapped (a text may mix both).
    terms : dict, optional
        Terms from :func:`load_identity_terms` (default: the bundled file).
    threshold : float
        Decision threshold for a 1-D score.
    batch_size : int
        Texts per ``predict_proba`` call.
    max_examples : int
        Cap on the example indices reported.
    n_boot, confidence, seed, ci_method
        Bootstrap over swappable texts.

    Returns
    -------
    dict of str to CounterfactualResult
        One entry per category.
    """
    check_bootstrap_args(n_boot=n_boot, confidence=confidence, ci_method=ci_method)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(BAD_BATCH.format(value=batch_size))
    terms = terms if terms is not None else load_identity_terms()
    if categories is None:
        categories = sorted({c for lang in languages for c in terms.get(lang, {})})
    clean = ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]
    swapped: dict[str, tuple[np.ndarray, list[str], int]] = {}
    needed: set[int] = set()
    for cat in categories:
        swapper = make_swapper(cat, terms=terms, languages=languages)
        hit_rows: list[int] = []
        new_texts: list[str] = []
        n_terms = 0
        for i, text in enumerate(clean):
            new, n = swapper.swap(text)
            if n:
                hit_rows.append(i)
                new_texts.append(new)
                n_terms += n
        swapped[cat] = (np.asarray(hit_rows, dtype=np.int64), new_texts, n_terms)
        needed.update(hit_rows)
    order = sorted(needed)
    position = {i: k for k, i in enumerate(order)}
    base = _predict(predict_proba, [clean[i] for i in order], batch_size) if order else None
    rng = make_rng(seed)
    out: dict[str, CounterfactualResult] = {}
    for cat in categories:
        idx, cf_texts, n_terms = swapped[cat]
        m = idx.shape[0]
        if m == 0 or base is None:
            undefined = {
                metric: Estimate(metric=metric, value=math.nan, ci_low=math.nan, ci_high=math.nan, confidence=confidence, n_boot=n_boot, n=0)
                for metric in ("flip_rate", "mean_abs_change")
            }
            out[cat] = CounterfactualResult(
                category=cat,
                n_texts=len(clean),
                n_swappable=0,
                n_swapped_terms=0,
                n_flipped=0,
                flip_rate=undefined["flip_rate"],
                mean_abs_change=undefined["mean_abs_change"],
                flipped_indices=(),
                largest_change_indices=(),
            )
            continue
        before = base[[position[i] for i in idx.tolist()]]
        after = _predict(predict_proba, cf_texts, batch_size)
        if after.shape != before.shape:
            raise ValueError(BAD_PROBA.format(shape=after.shape, n=m))
        flipped, change = _labels_and_change(before, after, threshold)
        flip_value = float(flipped.mean())
        change_value = float(change.mean())
        flip_ci = change_ci = (math.nan, math.nan)
        if n_boot > 0:
            values = np.column_stack([flipped.astype(float), change])
            reps = np.concatenate([w @ values for w in resample_weight_chunks(m, n_boot, rng)]) / m
            flip_ci = interval(flip_value, reps[:, 0], confidence=confidence, method=ci_method, bounds=(0.0, 1.0))
            change_ci = interval(
                change_value, reps[:, 1], confidence=confidence, method=ci_method, bounds=(0.0, math.inf)
            )
        top = np.argsort(-change, kind="stable")[:max_examples]
        out[cat] = CounterfactualResult(
            category=cat,
            n_texts=len(clean),
            n_swappable=m,
            n_swapped_terms=n_terms,
            n_flipped=int(flipped.sum()),
            flip_rate=Estimate(
                metric="flip_rate",
                value=flip_value,
                ci_low=flip_ci[0],
                ci_high=flip_ci[1],
                confidence=confidence,
                n_boot=n_boot,
                n=m,
            ),
            mean_abs_change=Estimate(
                metric="mean_abs_change",
                value=change_value,
                ci_low=change_ci[0],
                ci_high=change_ci[1],
                confidence=confidence,
                n_boot=n_boot,
                n=m,
            ),
            flipped_indices=tuple(int(i) for i in idx[flipped][:max_examples]),
            largest_change_indices=tuple(int(idx[j]) for j in top if change[j] > 0),
        )
    return out


__all__ = [
    "LANGUAGES",
    "CounterfactualResult",
    "IdentityTerms",
    "TermList",
    "TermSwapper",
    "counterfactual_flip_rate",
    "load_identity_terms",
    "make_swapper",
    "swap_identity_terms",
]
