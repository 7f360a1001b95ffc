"""Precision, recall and F1 of a :class:`~audit.pii.engine.PIIScanner` on a labelled set.

Matching rule (``match="overlap"``, the default): a predicted span counts as
a true positive when it has the same entity type as a gold span and the two
character ranges overlap by at least one character. Each gold span and each
prediction is used at most once (pairs are taken greedily, largest overlap
first). Unmatched predictions are false positives, unmatched gold spans false
negatives. ``match="exact"`` requires identical start and end.

Records are dicts ``{"id", "lang", "text", "spans": [{"start", "end",
"entity_type"}]}``, one per line in the JSONL files under
``tests/data/pii_eval/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MATCH_RULES", "EntityScore", "EvalReport", "evaluate", "load_records"]

MATCH_RULES = {
    "overlap": "same entity type and character spans overlap (>= 1 character); one-to-one, largest overlap first",
    "exact": "same entity type and identical start and end offsets; one-to-one",
}


@dataclass
class EntityScore:
    entity_type: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def as_dict(self) -> dict[str, float]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class HardNegativeScore:
    """Texts written to contain no personal data but things detectors mistake for it."""

    texts: int = 0
    with_hit: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [texts, with_hit]
    by_entity: dict[str, int] = field(default_factory=dict)  # entity or special category -> texts hit

    @property
    def rate(self) -> float:
        return self.with_hit / self.texts if self.texts else 0.0

    def as_dict(self) -> dict:
        return {
            "texts": self.texts,
            "texts_with_any_hit": self.with_hit,
            "false_alarm_rate": round(self.rate, 4),
            "by_kind": {k: {"texts": v[0], "with_hit": v[1]} for k, v in sorted(self.by_kind.items())},
            "hits_by_type": dict(sorted(self.by_entity.items())),
        }


@dataclass
class EvalReport:
    per_entity: dict[str, EntityScore]
    match: str
    n_records: int
    errors: list[dict] = field(default_factory=list)
    per_language: dict[str, dict[str, EntityScore]] = field(default_factory=dict)
    hard_negatives: HardNegativeScore | None = None

    @property
    def micro(self) -> EntityScore:
        tot = EntityScore("ALL")
        for s in self.per_entity.values():
            tot.tp += s.tp
            tot.fp += s.fp
            tot.fn += s.fn
        return tot

    def as_dict(self) -> dict:
        return {
            "match": self.match,
            "match_rule": MATCH_RULES[self.match],
            "records": self.n_records,
            "per_entity": {k: v.as_dict() for k, v in sorted(self.per_entity.items())},
            "micro": self.micro.as_dict(),
            "per_language": {
                lang: {k: v.as_dict() for k, v in sorted(scores.items())}
                for lang, scores in sorted(self.per_language.items())
            },
            "hard_negatives": self.hard_negatives.as_dict() if self.hard_negatives else None,
        }

    def table(self) -> str:
        head = f"{'entity':<16} {'support':>7} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>9} {'recall':>7} {'f1':>6}"
        lines = [head, "-" * len(head)]
        rows = sorted(self.per_entity.values(), key=lambda s: s.entity_type) + [self.micro]
        for s in rows:
            if s.entity_type == "ALL":
                lines.append("-" * len(head))
            lines.append(
                f"{s.entity_type:<16} {s.support:>7} {s.tp:>5} {s.fp:>5} {s.fn:>5} "
                f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
            )
        if len(self.per_language) > 1:
            for lang, scores in sorted(self.per_language.items()):
                lines.append("")
                lines.append(f"language {lang}:")
                for s in sorted(scores.values(), key=lambda s: s.entity_type):
                    lines.append(
                        f"  {s.entity_type:<14} {s.support:>7} {s.tp:>5} {s.fp:>5} {s.fn:>5} "
                        f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
                    )
        hn = self.hard_negatives
        if hn is not None and hn.texts:
            lines.append("")
            lines.append(
                f"hard negatives: {hn.with_hit} of {hn.texts} texts with any hit (false-alarm rate {hn.rate:.3f})"
            )
            for kind, (n, hit) in sorted(hn.by_kind.items()):
                lines.append(f"  {kind:<14} {hit:>3} of {n:>3}")
            if hn.by_entity:
                lines.append("  hits by type: " + ", ".join(f"{k} {v}" for k, v in sorted(hn.by_entity.items())))
        lines.append(f"match rule ({self.match}): {MATCH_RULES[self.match]}; {self.n_records} texts")
        return "\n".join(lines)

    __str__ = table


def load_records(path: str | Path) -> list[dict]:
    """Read a JSONL evaluation file (or every ``*.jsonl`` in a directory)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    out = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def _pairs(gold: Sequence[tuple[str, int, int]], pred: Sequence[tuple[str, int, int]], match: str):
    cands = []
    for gi, (gt, gs, ge) in enumerate(gold):
        for pi, (pt, ps, pe) in enumerate(pred):
            if gt != pt:
                continue
            if match == "exact":
                if gs == ps and ge == pe:
                    cands.append((ge - gs, gi, pi))
            else:
                ov = min(ge, pe) - max(gs, ps)
                if ov > 0:
                    cands.append((ov, gi, pi))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_g, used_p, pairs = set(), set(), []
    for _, gi, pi in cands:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gi, pi))
    return pairs


def evaluate(
    scanner,
    records: Iterable[Mapping],
    match: str = "overlap",
    entities: Iterable[str] | None = None,
    keep_errors: bool = True,
    special=None,
) -> EvalReport:
    """Scan every record's text with ``scanner`` and score the hits per entity type.

    ``entities`` restricts scoring to some types (both gold and predicted).
    Each record is scanned in its ``lang`` ("auto" when missing). Scores are
    also kept per language. Records marked ``"hard_negative": true`` are
    counted in :attr:`EvalReport.hard_negatives`: the share of them with any
    hit at all; with ``special`` (a
    :class:`~audit.pii.special.SpecialCategoryScanner`) a special-category
    term found in such a text counts as a hit too.
    """
    if match not in MATCH_RULES:
        raise ValueError(f"match must be one of {sorted(MATCH_RULES)}")
    records = list(records)
    only = set(entities) if entities is not None else None
    by_lang: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_lang.setdefault(r.get("lang") or "auto", []).append(i)
    preds: dict[int, list[tuple[str, int, int]]] = {i: [] for i in range(len(records))}
    for lang, idx in by_lang.items():
        hits = scanner.scan_texts([records[i]["text"] for i in idx], language=lang, ids=idx)
        for h in hits:
            preds[h.row_id].append((h.entity_type, h.start, h.end))

    scores: dict[str, EntityScore] = {}
    per_language: dict[str, dict[str, EntityScore]] = {}
    errors: list[dict] = []
    hard = HardNegativeScore()

    def sc(e: str, lang: str) -> list[EntityScore]:
        if e not in scores:
            scores[e] = EntityScore(e)
        by = per_language.setdefault(lang, {})
        if e not in by:
            by[e] = EntityScore(e)
        return [scores[e], by[e]]

    for i, r in enumerate(records):
        lang = r.get("lang") or "auto"
        if r.get("hard_negative"):
            found = {p[0] for p in preds[i] if only is None or p[0] in only}
            if special is not None:
                found |= {f"special:{c}" for c in special.scan_text(r["text"])}
            kind = r.get("negative_kind") or "other"
            slot = hard.by_kind.setdefault(kind, [0, 0])
            hard.texts += 1
            slot[0] += 1
            if found:
                hard.with_hit += 1
                slot[1] += 1
                for e in found:
                    hard.by_entity[e] = hard.by_entity.get(e, 0) + 1
                if keep_errors:
                    errors.append({"id": r.get("id"), "kind": "hard_negative", "entity_type": ",".join(sorted(found)),
                                   "value": r["text"]})
        gold = [(s["entity_type"], s["start"], s["end"]) for s in r.get("spans", [])]
        pred = preds[i]
        if only is not None:
            gold = [g for g in gold if g[0] in only]
            pred = [p for p in pred if p[0] in only]
        pairs = _pairs(gold, pred, match)
        mg = {g for g, _ in pairs}
        mp = {p for _, p in pairs}
        for gi, _ in pairs:
            for s in sc(gold[gi][0], lang):
                s.tp += 1
        for gi, g in enumerate(gold):
            if gi not in mg:
                for s in sc(g[0], lang):
                    s.fn += 1
                if keep_errors:
                    errors.append(
                        {"id": r.get("id"), "kind": "fn", "entity_type": g[0], "value": r["text"][g[1] : g[2]]}
                    )
        for pi, p in enumerate(pred):
            if pi not in mp:
                for s in sc(p[0], lang):
                    s.fp += 1
                if keep_errors:
                    errors.append(
                        {"id": r.get("id"), "kind": "fp", "entity_type": p[0], "value": r["text"][p[1] : p[2]]}
                    )
    return EvalReport(
        per_entity=scores,
        match=match,
        n_records=len(records),
        errors=errors,
        per_language=per_language,
        hard_negatives=hard if hard.texts else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m audit.pii.evaluate [path] [--model NAME|none] [--exact] [--errors]``."""
    import argparse

    from .engine import PIIScanner

    ap = argparse.ArgumentParser(description="Precision/recall of the PII scanner on a labelled JSONL set")
    ap.add_argument("path", nargs="?", default=str(Path(__file__).resolve().parents[2] / "tests/data/pii_eval"))
    ap.add_argument("--model", default="auto", help="spaCy model name or path; 'none' for pattern-only")
    ap.add_argument("--exact", action="store_true", help="require exact span match")
    ap.add_argument("--errors", action="store_true", help="print false positives and negatives")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    scanner = PIIScanner(model=None if args.model.lower() == "none" else args.model)
    report = evaluate(scanner, load_records(args.path), match="exact" if args.exact else "overlap")
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.table())
        print(f"model: {scanner.model_info().get('name') or 'none (pattern-only)'}")
    if args.errors:
        for e in report.errors:
            print(f"{e['kind']}\t{e['id']}\t{e['entity_type']}\t{e['value']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
