"""Throughput of the PII scanner against a per-text Presidio loop, in one run.

Usage: python benchmarks/bench_pii.py [--n 20000] [--naive-n 2000] [--model auto] [--n-process 2]

Workload: ``--n`` short customer-feedback texts generated here with a seeded
Faker: by default 75% plain feedback, 10% with dates, amounts, order and
ticket numbers (``--numeric-share``) and 15% with names, places, e-mails,
phone numbers, cards and Chinese identifiers (``--pii-share``). The share of
texts with digit runs drives the pattern-only ratio: Presidio's phone
recognizer (python-phonenumbers over eight regions) must run on every text
with four or more digits close together to keep the findings identical. The per-text loops are slow, so they run on the first
``--naive-n`` texts; the scanner runs on all ``--n``; rates are texts per
second and findings are compared on the texts both saw. Loop and scanner run
in alternating slices (``--rounds``) so that load from other processes on
the machine affects both alike.

Printed:
  1. full scan (NER on): PIIScanner.scan_texts vs Presidio ``analyze`` called
     per text with the same recognizers, thresholds and spaCy model;
  2. pattern-only (NER off): PIIScanner.scan_texts vs the same per-text loop
     with a tokenizer-only pipeline;
  3. for reference, Presidio's default recognizer set with the same model
     (out of the box, all entities), with its hits per entity type;
  4. a plain compiled regex over the same texts (upper bound for any scan).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker

FEEDBACK = [
    "Great service, the delivery was quick and the packaging was fine.",
    "The app keeps logging me out, very annoying.",
    "Customer support was friendly but could not solve my problem.",
    "Please add a dark mode to the dashboard.",
    "The product broke after a few weeks, I want a refund.",
    "Prices went up again without any notice.",
    "I love the new design, much easier to use.",
    "Nobody answered the hotline for an hour.",
    "The invoice layout is confusing, where is the IBAN field?",
    "Delivery was late and the courier was rude.",
]
WITH_NUMBERS = [
    "Order {order} arrived on {date}, thanks!",
    "I was charged {amount} twice for order {order}.",
    "Ticket {ticket} is still open since {date}.",
    "Version {version} crashes on start.",
    "Got {n} items instead of {m} in parcel {order}.",
]
WITH_PII = [
    "{name} from {city} says the courier never came.",
    "Please call me back at {phone}, {name}.",
    "My email is {email}, send the invoice there.",
    "{name} was very helpful, thank you!",
    "Card {card} was charged twice.",
    "I moved to {city} last month.",
    "客户{zhname}先生，手机{mobile}，反映快递未送达。",
    "Contact {name} <{email}> about the contract renewal.",
]
CITIES = ["London", "Berlin", "Paris", "Chicago", "Madrid", "Dublin", "Toronto", "Sydney", "Boston", "Munich"]


def make_texts(n: int, seed: int = 7, numeric_share: float = 0.10, pii_share: float = 0.15):
    rng = random.Random(seed)
    fk = Faker("en_US")
    fk.seed_instance(seed)
    zh = Faker("zh_CN")
    zh.seed_instance(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        if r >= numeric_share + pii_share:
            t = rng.choice(FEEDBACK)
            if rng.random() < 0.5:
                t = t + " " + fk.sentence(nb_words=rng.randint(4, 10))
        elif r < numeric_share:
            t = rng.choice(WITH_NUMBERS).format(
                order=f"#{rng.randint(10000, 9999999)}",
                date=fk.date(),
                amount=f"${rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
                ticket=f"TCK-{rng.randint(1000, 99999)}",
                version=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                n=rng.randint(2, 9),
                m=rng.randint(2, 9),
            )
        else:
            t = rng.choice(WITH_PII).format(
                name=fk.name(),
                city=rng.choice(CITIES),
                phone=f"({rng.choice(['212', '415', '312'])}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                email=fk.email(),
                card=fk.credit_card_number(card_type="visa16"),
                zhname=zh.name(),
                mobile="1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9)),
            )
        out.append(t)
    return out


def _hits_by_row(hits):
    rows = {}
    for h in hits:
        rows.setdefault(h.row_id, []).append((h.entity_type, h.start, h.end, round(h.score, 6)))
    return rows


def _loop(scanner, texts):
    rows = {}
    for i, t in enumerate(texts):
        res = scanner.analyze_one(t, "en")
        if res:
            rows[i] = [(e, s, en, round(sc, 6)) for e, s, en, sc in res]
    return rows


def _interleaved(scanner, texts, naive_n, rounds):
    """Alternate slices of the per-text loop and of the scanner so that both
    see the same machine load (other processes may share the cores)."""
    naive, fast_hits = {}, []
    naive_t = fast_t = 0.0
    nb = -(-naive_n // rounds)
    fb = -(-len(texts) // rounds)
    for r in range(rounds):
        lo, hi = r * nb, min(naive_n, (r + 1) * nb)
        t0 = time.perf_counter()
        part = _loop(scanner, texts[lo:hi])
        naive_t += time.perf_counter() - t0
        naive.update({lo + i: v for i, v in part.items()})
        flo, fhi = r * fb, min(len(texts), (r + 1) * fb)
        t0 = time.perf_counter()
        hits = scanner.scan_texts(texts[flo:fhi], language="en", ids=range(flo, fhi))
        fast_t += time.perf_counter() - t0
        fast_hits.extend(hits)
    return naive, naive_t, fast_hits, fast_t


def _compare(fast_rows, naive_rows, n):
    fast = {i: v for i, v in fast_rows.items() if i < n}
    return fast == naive_rows, sum(len(v) for v in naive_rows.values())


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--naive-n", type=int, default=2000)
    ap.add_argument("--ref-n", type=int, default=500, help="texts for the out-of-the-box Presidio reference")
    ap.add_argument("--model", default="auto")
    ap.add_argument("--n-process", default="auto")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5, help="alternations of the loop and the scanner")
    ap.add_argument("--numeric-share", type=float, default=0.10)
    ap.add_argument("--pii-share", type=float, default=0.15)
    args = ap.parse_args(argv)

    from audit.pii import PIIScanner

    texts = make_texts(args.n, numeric_share=args.numeric_share, pii_share=args.pii_share)
    naive_n = min(args.naive_n, len(texts))
    print(
        f"workload: {len(texts)} texts ({args.numeric_share:.0%} with numbers, {args.pii_share:.0%} with personal data), mean length {sum(map(len, texts)) / len(texts):.0f} chars; "
        f"per-text loops on the first {naive_n}; cpu count {os.cpu_count()}"
    )
    ok_all = True

    # 1. full scan with NER --------------------------------------------------
    t0 = time.perf_counter()
    full = PIIScanner(model=args.model, languages=("en",), n_process=args.n_process, batch_size=args.batch_size)
    print(f"\nmodel: {full.model_info()['name']} (loaded in {time.perf_counter() - t0:.1f}s)")
    if not full.ner_enabled:
        print("no spaCy model: full-scan comparison skipped")
    else:
        naive, naive_t, fast_hits, fast_t = _interleaved(full, texts, naive_n, args.rounds)
        naive_rate, fast_rate = naive_n / naive_t, len(texts) / fast_t
        same, nh = _compare(_hits_by_row(fast_hits), naive, naive_n)
        ratio = fast_rate / naive_rate
        ok = same and ratio >= 4
        ok_all &= ok
        print("1. full scan (NER on)")
        print(f"   Presidio analyze per text : {naive_rate:9.1f} texts/s")
        print(f"   PIIScanner.scan_texts      : {fast_rate:9.1f} texts/s  (n_process={args.n_process})")
        print(f"   ratio {ratio:.1f}x (goal >= 4x); identical findings on {naive_n} texts: {same} ({nh} hits)")

    # 2. pattern-only ----------------------------------------------------------
    pat = PIIScanner(model=None, languages=("en",))
    naive_p, naive_pt, fast_p, fast_pt = _interleaved(pat, texts, naive_n, args.rounds)
    naive_p_rate, fast_p_rate = naive_n / naive_pt, len(texts) / fast_pt
    same_p, nh_p = _compare(_hits_by_row(fast_p), naive_p, naive_n)
    ratio_p = fast_p_rate / naive_p_rate
    ok = same_p and ratio_p >= 10
    ok_all &= ok
    cand = sum(1 for t in texts if pat.candidate_entities(t, "en"))
    print("2. pattern-only (NER off)")
    print(f"   Presidio analyze per text : {naive_p_rate:9.1f} texts/s")
    print(
        f"   PIIScanner.scan_texts      : {fast_p_rate:9.1f} texts/s  ({cand / len(texts):.0%} of texts pass the pre-filter)"
    )
    print(f"   ratio {ratio_p:.1f}x (goal >= 10x); identical findings on {naive_n} texts: {same_p} ({nh_p} hits)")

    # 3. out-of-the-box Presidio reference --------------------------------------
    if full.ner_enabled and args.ref_n > 0:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import EmailRecognizer

        from audit.pii.recognizers import OfflineEmailRecognizer

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": full.model_name}])
        engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
        # keep the run offline: same e-mail logic, bundled public-suffix list
        registry.recognizers = [r for r in registry.recognizers if not isinstance(r, EmailRecognizer)]
        registry.add_recognizer(OfflineEmailRecognizer())
        ref = AnalyzerEngine(registry=registry, nlp_engine=engine)
        ref_texts = texts[: args.ref_n]
        t0 = time.perf_counter()
        counts = Counter()
        for t in ref_texts:
            counts.update(r.entity_type for r in ref.analyze(text=t, language="en"))
        ref_rate = len(ref_texts) / (time.perf_counter() - t0)
        ours = Counter(h.entity_type for h in fast_hits if h.row_id < args.ref_n)
        print(
            f"3. reference: Presidio defaults, all entities, per text: {ref_rate:.1f} texts/s on {len(ref_texts)} texts"
        )
        print(f"   hits by type, Presidio defaults: {dict(counts.most_common())}")
        print(f"   hits by type, PIIScanner       : {dict(ours.most_common())}")

    # 4. plain regex -----------------------------------------------------------
    rx = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ()-]{7,}\d")
    t0 = time.perf_counter()
    n_rx = sum(1 for t in texts for _ in rx.finditer(t))
    rx_rate = len(texts) / (time.perf_counter() - t0)
    print(f"4. plain compiled regex (e-mail/phone only): {rx_rate:,.0f} texts/s ({n_rx} matches)")

    print(f"\nall goals met: {ok_all}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
