"""Personal data in free text, in structured columns and in the texts a model learnt from.

One :class:`~audit.pii.PIIScanner` serves the whole audit (``ctx.cached``), and the hits
of every text scanned are memoised per (language, text), so a text column scanned by
``pii.free_text`` is not scanned again when a text model's training texts are checked.
Evidence never carries a detected value: only entity types, counts, row ids of the
dataset's id column and examples with every hit replaced by ``<ENTITY_TYPE>`` (and, as a
safety net for what the recognizers missed, any remaining e-mail-shaped string or run of
five or more digits masked too).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import pandas as pd
from pydantic import Field

from audit.checks.data_quality.validity import is_missing
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Dataset, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, Status, SubjectKind

__all__ = [
    "DirectIdentifiers",
    "FreeTextPII",
    "PIIInTrainingText",
    "row_ids",
    "scan_rows",
    "shared_scanner",
    "text_summary",
]

SCANNER_KEY = "pii_scanner"
TEXT_CACHE_KEY = "pii_text_hits"
_LANG_PREFIX = {"en": "en", "english": "en", "zh": "zh", "chinese": "zh", "cn": "zh", "中文": "zh", "英文": "en"}

# Safety net for examples: anything still shaped like an e-mail or a long number after masking.
_LEFTOVER_EMAIL = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,}")
_LEFTOVER_DIGITS = re.compile(r"\+?\d(?:[ \-./]?\d){4,}")
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
_REPEATED_MATCH_ROWS = 10

Hit = tuple[str, int, int, float]  # entity type, start, end, score


# --------------------------------------------------------------------------- shared scanner
def shared_scanner(ctx: AuditContext) -> Any:
    """The audit's one PII scanner, configured by ``ctx.pii_options`` (the config's ``pii:`` block).

    Building it records what the scanner cannot see in ``ctx.limitations`` and the NLP
    model's name, version and hash in the evidence manifest.
    """

    def build() -> Any:
        from audit.pii import PIIScanner

        scanner = PIIScanner(**ctx.pii_options.scanner_kwargs())
        for item in scanner.limitations:
            if item not in ctx.limitations:
                ctx.limitations.append(item)
        ctx.report.manifest["nlp_model"] = scanner.model_info()
        return scanner

    return ctx.cached(SCANNER_KEY, build)


def row_languages(values: Iterable[Any] | None, n: int, supported: Sequence[str]) -> list[str]:
    """Per-row scan language from a language column ("en", "zh-CN", "Chinese"...); "auto" when unknown."""
    if values is None:
        return ["auto"] * n
    out = []
    for v in values:
        lang = "auto"
        if isinstance(v, str) and v.strip():
            s = v.strip().lower()
            lang = _LANG_PREFIX.get(s) or _LANG_PREFIX.get(re.split(r"[-_]", s)[0], "auto")
        out.append(lang if lang in supported else "auto")
    return out


def scan_rows(ctx: AuditContext, scanner: Any, texts: Sequence[Any], languages: Sequence[str]) -> list[list[Hit]]:
    """Hits per text position, scanning each distinct (language, text) once per audit."""
    cache: dict[tuple[str, str], tuple[Hit, ...]] = ctx.cached(TEXT_CACHE_KEY, dict)
    norm = ["" if is_missing(t) else str(t) for t in texts]
    todo: dict[str, dict[str, None]] = {}
    for text, lang in zip(norm, languages):
        if text.strip() and (lang, text) not in cache:
            todo.setdefault(lang, {})[text] = None
    for lang, distinct in todo.items():
        batch = list(distinct)
        found: dict[int, list[Hit]] = {}
        for h in scanner.scan_texts(batch, language=lang, ids=range(len(batch))):
            found.setdefault(int(h.row_id), []).append((h.entity_type, int(h.start), int(h.end), float(h.score)))
        for i, text in enumerate(batch):
            cache[(lang, text)] = tuple(found.get(i, ()))
    return [list(cache.get((lang, text), ())) if text.strip() else [] for text, lang in zip(norm, languages)]


def _plain_id(v: Any) -> Hashable:
    if hasattr(v, "item"):
        v = v.item()
    return v if isinstance(v, (int, str)) else str(v)


def row_ids(ds: Dataset, positions: Iterable[int] | None = None) -> list[Hashable]:
    """Values of the dataset's id column (row index labels when it has none) at ``positions``."""
    col = ds.roles.id if ds.roles.id and ds.roles.id in ds.frame.columns else None
    source = ds.frame[col] if col else pd.Series(ds.frame.index, index=ds.frame.index)
    values = source.tolist() if positions is None else source.iloc[list(positions)].tolist()
    return [_plain_id(v) for v in values]


class _TextScanParams(CheckParams):
    max_share: float = Field(
        0.0, ge=0, le=1, description="Largest acceptable share of rows with unredacted personal data."
    )
    max_examples: int = Field(5, ge=0, le=5, description="Masked example texts in the evidence (at most 5).")
    example_chars: int = Field(120, ge=40, le=400, description="Length a masked example is cut to.")
    max_ids: int = Field(200, ge=0, description="Row ids listed per entity type.")
    allow_list: list[str] = Field(
        default_factory=list,
        description="Exact strings that are not personal data here (a chatbot persona's name, a brand); compared case-insensitively.",
    )


def _mask_example(scanner: Any, text: str, hits: list[Hit], width: int) -> str:
    from audit.pii import TextHit

    masked = scanner.mask(text, [TextHit(0, e, s, t, sc) for e, s, t, sc in hits])
    masked = _LEFTOVER_EMAIL.sub("<EMAIL_ADDRESS>", masked)
    masked = _LEFTOVER_DIGITS.sub("<NUMBER>", masked)
    if len(masked) <= width:
        return masked
    first = _PLACEHOLDER.search(masked)
    start = max(0, (first.start() if first else 0) - width // 3)
    start = min(start, len(masked) - width)
    piece = masked[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(masked) else "")


def text_summary(
    scanner: Any,
    texts: Sequence[Any],
    ids: Sequence[Hashable],
    hits_per_row: list[list[Hit]],
    params: _TextScanParams,
) -> tuple[int, dict[str, Any]]:
    """Rows with any hit and the evidence block shared by the text checks (no raw values).

    Within an entity type, rows are listed rarest match first: text repeated across many
    rows (a template, a chatbot persona's name) is more often a false alarm than a customer's
    data, so it is what the id cap and the example choice drop first.
    """
    allow = {a.strip().casefold() for a in params.allow_list if a.strip()}
    kept: list[list[Hit]] = []
    surface: list[dict[str, set[str]]] = []  # per row: entity -> matched strings (never leaves this function)
    freq: dict[tuple[str, str], int] = {}
    for pos, hits in enumerate(hits_per_row):
        text = "" if texts[pos] is None else str(texts[pos])
        if allow:
            hits = [h for h in hits if text[h[1] : h[2]].strip().casefold() not in allow]
        kept.append(hits)
        row: dict[str, set[str]] = {}
        for e, start, end, _ in hits:
            row.setdefault(e, set()).add(text[start:end].strip().casefold())
        surface.append(row)
        for e, values in row.items():
            for v in values:
                freq[(e, v)] = freq.get((e, v), 0) + 1
    rarity: dict[str, list[tuple[int, int]]] = {}  # entity -> (rarest match frequency, position)
    for pos, row in enumerate(surface):
        for e, values in row.items():
            rarity.setdefault(e, []).append((min(freq[(e, v)] for v in values), pos))
    counts = dict(sorted(((e, len(r)) for e, r in rarity.items()), key=lambda kv: (-kv[1], kv[0])))
    ordered = {e: [p for _, p in sorted(rarity[e])] for e in counts}
    repeated = {e: sum(1 for f, _ in rarity[e] if f >= _REPEATED_MATCH_ROWS) for e in counts}
    affected = [pos for pos, hits in enumerate(kept) if hits]
    # examples: the rarest-match row of each entity type, then the next rarest, at most max_examples
    chosen: list[int] = []
    queues = [list(ordered[e]) for e in counts]
    while len(chosen) < params.max_examples and any(queues):
        for q in queues:
            while q and q[0] in chosen:
                q.pop(0)
            if q and len(chosen) < params.max_examples:
                chosen.append(q.pop(0))
    examples = [_mask_example(scanner, str(texts[p]), kept[p], params.example_chars) for p in sorted(chosen)]
    n = len(texts)
    evidence: dict[str, Any] = {
        "rows_scanned": n,
        "rows_with_pii": len(affected),
        "entity_counts": counts,
        "entity_shares": {e: round(c / n, 6) for e, c in counts.items()} if n else {},
        "rows_by_entity": {e: [ids[p] for p in ordered[e][: params.max_ids]] for e in counts},
        "rows_by_entity_truncated": {e: c for e, c in counts.items() if c > params.max_ids},
        "repeated_match_rows": {e: c for e, c in repeated.items() if c},
        "masked_examples": examples,
    }
    if evidence["repeated_match_rows"]:
        evidence["repeated_match_note"] = (
            f"rows whose matched text recurs in {_REPEATED_MATCH_ROWS} or more rows: often a template or a "
            "persona name; list such strings in allow_list when they are not personal data"
        )
    if allow:
        evidence["allow_list_size"] = len(allow)
    return len(affected), evidence


def _finding_note(counts: dict[str, int], rows: int) -> str:
    if not counts:
        return "no personal data found"
    listed = ", ".join(f"{e} in {c}" for e, c in counts.items())
    return f"{listed} of {rows} rows; redact or pseudonymise before analysis"


# --------------------------------------------------------------------------- pii.free_text
@register
class FreeTextPII(Check):
    meta = CheckMeta(
        id="pii.free_text",
        title="Personal data in free-text columns",
        category=Category.PRIVACY,
        severity=Severity.MEDIUM,
        subjects=(SubjectKind.TEXT_COLUMN,),
        regulations=("GDPR Art. 5(1)(c)", "GDPR Art. 32", "PIPL Art. 51"),
        provenance=Provenance.TOOL,
        formula="every row of a declared text column scanned (Presidio + Chinese recognizers, per-row language); "
        "share of rows with at least one hit, and rows per entity type",
        default_threshold="0 rows with unredacted personal data",
        help="Names, e-mails, phone and ID numbers typed into feedback, tickets and chats flow unredacted into "
        "analytics and model training; data minimisation asks for them to be removed or masked.",
        fast=False,
        provides=("pii_free_text",),
    )
    Params = _TextScanParams

    def evaluate(self, subject: Subject, params: _TextScanParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None and subject.column is not None
        col = subject.column
        if col not in ds.frame.columns:
            yield self.skip(subject.label, f"declared text column {col!r} is not in the data")
            return
        scanner = shared_scanner(ctx)
        texts = ds.frame[col].tolist()
        lang_col = ds.language_column if ds.language_column in ds.frame.columns else None
        langs = row_languages(ds.frame[lang_col].tolist() if lang_col else None, len(texts), scanner.languages)
        hits = scan_rows(ctx, scanner, texts, langs)
        affected, evidence = text_summary(scanner, texts, row_ids(ds), hits, params)
        evidence["language"] = f"per row from column {lang_col!r}" if lang_col else "detected per row"
        ctx.facts.pii_free_text[subject.label] = dict(evidence["entity_counts"])
        n = len(texts)
        yield self.judge(
            subject.label,
            affected / n if n else 0.0,
            threshold=params.max_share,
            op="<=",
            what="share of rows with unredacted personal data",
            evidence=evidence,
            note=_finding_note(evidence["entity_counts"], n),
        )


# --------------------------------------------------------------------------- nlp.pii_in_training_text
@register
class PIIInTrainingText(Check):
    meta = CheckMeta(
        id="nlp.pii_in_training_text",
        title="Personal data in a text model's training texts",
        category=Category.PRIVACY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.TEXT_CLASSIFIER,),
        regulations=("GDPR Art. 5(1)(c)", "GDPR Art. 32", "PIPL Art. 51"),
        provenance=Provenance.TOOL,
        formula="the texts held by the model artifact scanned like pii.free_text; share of texts with at least one hit",
        default_threshold="0 texts with unredacted personal data",
        help="A text model trained on unredacted personal data can memorise it and is itself personal data to govern.",
        fast=False,
    )
    Params = _TextScanParams

    def evaluate(self, subject: Subject, params: _TextScanParams, ctx: AuditContext) -> Iterable[Outcome]:
        art = subject.obj
        texts = getattr(art, "texts", None)
        if texts is None or len(texts) == 0:
            yield self.skip(subject.label, "the model artifact carries no texts to scan")
            return
        texts = list(texts)
        scanner = shared_scanner(ctx)
        lang = getattr(art, "language", None)
        lang_values = list(lang) if lang is not None and len(lang) == len(texts) else None
        langs = row_languages(lang_values, len(texts), scanner.languages)
        raw_ids = getattr(art, "ids", None)
        ids = (
            [_plain_id(v) for v in raw_ids]
            if raw_ids is not None and len(raw_ids) == len(texts)
            else list(range(len(texts)))
        )
        hits = scan_rows(ctx, scanner, texts, langs)
        affected, evidence = text_summary(scanner, texts, ids, hits, params)
        evidence["row_ids_are"] = (
            "artifact ids" if raw_ids is not None and len(raw_ids) == len(texts) else "text positions"
        )
        evidence["source_dataset"] = getattr(art, "dataset", None)
        n = len(texts)
        yield self.judge(
            subject.label,
            affected / n,
            threshold=params.max_share,
            op="<=",
            what="share of the model's texts with unredacted personal data",
            evidence=evidence,
            note=_finding_note(evidence["entity_counts"], n),
        )


# --------------------------------------------------------------------------- pii.direct_identifiers
class DirectIdentifiersParams(CheckParams):
    sample_size: int = Field(200, ge=10, description="Values sampled per column (seeded with the audit seed).")
    min_pii_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of sampled values carrying a direct identifier at which a column counts as PII-bearing.",
    )
    columns: list[str] | None = Field(
        None, description="Columns to examine; default: every column except declared free text."
    )


def _skip_reason(ds: Dataset, col: str) -> str | None:
    from audit.pii import column_name_hint

    if col in ds.roles.text:
        return "declared free text: scanned by pii.free_text"
    s = ds.frame[col]
    if pd.api.types.is_bool_dtype(s):
        return "boolean values"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date values"
    if pd.api.types.is_float_dtype(s) and column_name_hint(str(col)) is None:
        return "non-integer numbers"
    return None


def _verdict_dict(v: Any) -> dict[str, Any]:
    return {
        "entity_type": v.entity_type,
        "confidence": v.confidence,
        "hit_share": round(float(v.hit_share), 4),
        "sample_size": v.sample_size,
        "name_hint": v.name_hint,
        "reasons": list(v.reasons),
    }


@register
class DirectIdentifiers(Check):
    meta = CheckMeta(
        id="pii.direct_identifiers",
        title="Direct identifiers in datasets and among model features",
        category=Category.PRIVACY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 5(1)(c)", "GDPR Art. 25(1)", "PIPL Art. 6"),
        provenance=Provenance.TOOL,
        formula="per column, a seeded sample of values scanned for names, e-mails, phones, ID, card and account "
        "numbers and addresses, combined with column-name hints; a model fails per feature that is such a column",
        default_threshold="report the columns; fail when a direct identifier is a model feature",
        help="A name, e-mail or ID number never predicts behaviour legitimately: as a feature it only adds "
        "re-identification risk and lets a model memorise individuals.",
        fast=False,
        provides=("direct_identifier_columns", "pii_bearing_columns"),
    )
    Params = DirectIdentifiersParams

    def evaluate(self, subject: Subject, params: DirectIdentifiersParams, ctx: AuditContext) -> Iterable[Outcome]:
        from audit.pii import DIRECT_IDENTIFIER_ENTITIES

        ds = subject.dataset
        assert ds is not None
        scanner = shared_scanner(ctx)
        wanted = params.columns if params.columns is not None else [str(c) for c in ds.frame.columns]
        identifiers: dict[str, dict[str, Any]] = {}
        bearing: dict[str, dict[str, Any]] = {}
        not_scanned: dict[str, str] = {}
        for col in wanted:
            if col not in ds.frame.columns:
                not_scanned[col] = "not in the data"
                continue
            reason = _skip_reason(ds, col)
            if reason and params.columns is None:
                not_scanned[col] = reason
                continue
            v = scanner.scan_column_sample(ds.frame[col], col, sample_size=params.sample_size, seed=ctx.seed)
            if v.is_direct_identifier:
                identifiers[col] = _verdict_dict(v)
            elif v.entity_type in DIRECT_IDENTIFIER_ENTITIES and v.hit_share >= params.min_pii_share:
                bearing[col] = _verdict_dict(v)
        ctx.facts.direct_identifier_columns[ds.name] = list(identifiers)
        ctx.facts.pii_bearing_columns[ds.name] = list(bearing)
        listed = "; ".join(
            f"{c} ({d['entity_type']}, confidence {d['confidence']:.2f}, {d['sample_size']} values sampled)"
            for c, d in identifiers.items()
        )
        message = (
            f"{len(identifiers)} column(s) hold direct identifiers: {listed}"
            if identifiers
            else "no column holds direct identifiers"
        )
        if bearing:
            message += f"; {len(bearing)} more carry personal data in part of their values: {', '.join(bearing)}"
        yield Outcome(
            subject=subject.label,
            status=Status.PASS,
            message=message + " (report)",
            observed=len(identifiers),
            evidence={
                "identifier_columns": identifiers,
                "pii_bearing_columns": bearing,
                "columns_scanned": len(wanted) - len(not_scanned),
                "not_scanned": not_scanned,
                "sample_size": params.sample_size,
                "seed": ctx.seed,
            },
            severity=Severity.INFO,
        )
        yield from self._models(ds, identifiers, bearing, ctx)

    def _models(self, ds: Dataset, identifiers: dict, bearing: dict, ctx: AuditContext) -> Iterable[Outcome]:
        flagged = {**bearing, **identifiers}
        for m in ctx.models:
            features = [str(f) for f in (getattr(m, "features", None) or [])]
            bound = getattr(m, "dataset", None) == ds.name
            foreign = getattr(m, "dataset", None) not in ctx.datasets and bool(set(features) & set(flagged))
            if not (bound or foreign):
                continue
            label = f"model:{m.name}"
            if not features:
                if bound:
                    purpose = str(getattr(m, "purpose", "") or "").strip()
                    yield Outcome(
                        subject=f"{label}/features",
                        status=Status.FAIL,
                        message="no features declared"
                        + (f" for the purpose {purpose!r}" if purpose else "")
                        + ": the data the model uses cannot be checked against data minimisation; declare its input columns",
                        evidence={"dataset": ds.name, "purpose": purpose},
                    )
                continue
            hits = [f for f in features if f in flagged]
            for f in hits:
                d = flagged[f]
                kind = "a direct identifier" if f in identifiers else "a column carrying personal data"
                yield Outcome(
                    subject=f"{label}/feature:{f}",
                    status=Status.FAIL,
                    message=f"feature {f!r} is {kind} ({d['entity_type']}, confidence {d['confidence']:.2f} on "
                    f"{d['sample_size']} sampled values of {ds.name}): drop it or replace it by a non-identifying "
                    "attribute (data minimisation)",
                    observed=d["confidence"],
                    evidence={"dataset": ds.name, "column": f, **d, "purpose": getattr(m, "purpose", "")},
                )
            if bound and not hits:
                text_feats = [f for f in features if f in ds.roles.text]
                note = (
                    f"; free-text features ({', '.join(text_feats)}) are judged by nlp.pii_in_training_text"
                    if text_feats
                    else ""
                )
                yield Outcome(
                    subject=f"{label}/features",
                    status=Status.PASS,
                    message=f"none of the {len(features)} features is a direct identifier{note}",
                    observed=0,
                    evidence={"dataset": ds.name, "features": features},
                )
