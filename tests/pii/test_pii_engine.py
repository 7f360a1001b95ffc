import socket

import pytest

from audit.pii import PIIScanner, TextHit, detect_language
from audit.pii.engine import DEFAULT_ENTITIES

TEXT_EN = "John Smith (john.smith@example.com, +1 212-734-0187) asked about IBAN DE89370400440532013000 on 2024-03-01."
TEXT_ZH = "客户张伟先生，身份证号11010519491231002X，手机13812345678，邮箱zhangwei@example.cn"


def spans(hits, text):
    return [(h.entity_type, text[h.start : h.end]) for h in hits]


def test_known_english_text_exact_entities(scanner):
    hits = scanner.scan_texts([TEXT_EN], language="en")
    assert spans(hits, TEXT_EN) == [
        ("PERSON", "John Smith"),
        ("EMAIL_ADDRESS", "john.smith@example.com"),
        ("PHONE_NUMBER", "+1 212-734-0187"),
        ("IBAN_CODE", "DE89370400440532013000"),
    ]
    assert all(isinstance(h, TextHit) and h.row_id == 0 for h in hits)
    assert hits[0].start == 0 and hits[0].end == 10
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        hits[0].score = 0.1


def test_known_chinese_text_exact_entities(scanner):
    hits = scanner.scan_texts([TEXT_ZH], language="zh")
    assert spans(hits, TEXT_ZH) == [
        ("PERSON", "张伟"),
        ("CN_RESIDENT_ID", "11010519491231002X"),
        ("CN_MOBILE", "13812345678"),
        ("EMAIL_ADDRESS", "zhangwei@example.cn"),
    ]


def test_no_personal_data_no_hits(scanner):
    texts = [
        "Where is the IBAN field in the payment settings?",
        "Order #4412 arrived on Monday, 12 March 2024, at 10:30.",
        "The app crashed after updating to version 2.3.1.4.",
        "请问IBAN和SWIFT代码在哪里填写？",
    ]
    assert scanner.scan_texts(texts, language="auto") == []


def test_auto_language_and_ids(scanner):
    hits = scanner.scan_texts([TEXT_ZH, "nothing here", TEXT_EN], language="auto", ids=["a", "b", "c"])
    assert {h.row_id for h in hits} == {"a", "c"}
    assert detect_language(TEXT_ZH) == "zh" and detect_language(TEXT_EN) == "en"


def test_mask_removes_raw_values(scanner):
    hits = scanner.scan_texts([TEXT_EN, TEXT_ZH], language="auto")
    for i, text in enumerate([TEXT_EN, TEXT_ZH]):
        own = [h for h in hits if h.row_id == i]
        masked = scanner.mask(text, own)
        for h in own:
            assert text[h.start : h.end] not in masked
            assert f"<{h.entity_type}>" in masked
    assert scanner.mask(TEXT_EN, []) == TEXT_EN
    assert scanner.mask(TEXT_EN, scanner.scan_texts([TEXT_EN])).startswith("<PERSON> (<EMAIL_ADDRESS>")


def test_noisy_entities_off_by_default(scanner):
    for lang in ("en", "zh"):
        for noisy in ("DATE_TIME", "NRP", "UK_NHS", "ORGANIZATION", "US_DRIVER_LICENSE", "URL"):
            assert noisy not in scanner.entities[lang]
    hits = scanner.scan_texts(["Call 212-734-0187 about the IBAN on Monday, 1 March 2024."])
    assert {h.entity_type for h in hits} == {"PHONE_NUMBER"}


def test_entities_and_thresholds_configurable():
    s = PIIScanner(
        model=None, languages=("en",), entities=["EMAIL_ADDRESS", "DATE_TIME"], score_threshold={"EMAIL_ADDRESS": 0.99}
    )
    assert s.entities["en"] == ("EMAIL_ADDRESS", "DATE_TIME")
    hits = s.scan_texts(["mail a@example.com on 2024-03-01"])
    assert {h.entity_type for h in hits} == {"EMAIL_ADDRESS", "DATE_TIME"}
    s2 = PIIScanner(model=None, languages=("en",), entities=["EMAIL_ADDRESS"], score_threshold=1.01)
    assert s2.scan_texts(["mail a@example.com"]) == []


def test_no_network_during_scan(monkeypatch, scanner):
    """No DNS lookup and no connection attempt while scanning."""
    import tldextract

    import audit.pii.recognizers as recs

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] if len(args) > 1 else args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    # fresh offline extractor, so its first (lazy) load happens under the guard
    monkeypatch.setattr(
        recs,
        "OFFLINE_TLD_EXTRACT",
        tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True),
    )
    fresh = PIIScanner(model=None)  # construction is covered too
    texts = [TEXT_EN, TEXT_ZH, "write to someone@mail.example.co.uk"]
    for sc in (scanner, fresh):
        hits = sc.scan_texts(texts, language="auto")
        assert "EMAIL_ADDRESS" in {h.entity_type for h in hits}
    assert attempts == []
    # the guard does catch a connection attempt (refused before any packet is sent)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    assert attempts


def test_pattern_only_fallback_reports_limitation(pattern_scanner):
    assert not pattern_scanner.ner_enabled
    text = " ".join(pattern_scanner.limitations)
    assert "names" in text and "PERSON" in text and "LOCATION" in text
    assert pattern_scanner.model_info()["mode"] == "pattern-only"
    hits = pattern_scanner.scan_texts([TEXT_EN])
    # names without a model: only from the surrounding words and the first-name list
    assert {h.entity_type for h in hits} == {"EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "PERSON"}
    assert [TEXT_EN[h.start : h.end] for h in hits if h.entity_type == "PERSON"] == ["John Smith"]


def test_missing_model_auto_falls_back(monkeypatch):
    from audit.pii import engine

    monkeypatch.setattr(engine, "PREFERRED_MODELS", ("no_such_model_xyz",))
    s = PIIScanner(model="auto", languages=("en",))
    assert not s.ner_enabled and s.limitations
    with pytest.raises(OSError):
        PIIScanner(model="no_such_model_xyz", languages=("en",))


def test_zh_limitation_stated(scanner):
    assert any("Chinese" in x and "NER" in x for x in scanner.limitations)


def test_model_info(scanner):
    info = scanner.model_info()
    assert info["mode"] == "ner"
    assert info["name"] and info["version"]
    assert len(info["sha256"]) == 64
    assert info["sha256"] == scanner.model_info()["sha256"]
    assert info["zh"]["name"] == "jieba"


def test_prefilter_gives_identical_findings(scanner, pattern_scanner, eval_records):
    """The fast path equals Presidio's analyze() called on each text."""
    for sc in (scanner, pattern_scanner):
        for lang in ("en", "zh"):
            texts = [r["text"] for r in eval_records if r["lang"] == lang]
            fast = {}
            for h in sc.scan_texts(texts, language=lang):
                fast.setdefault(h.row_id, []).append((h.entity_type, h.start, h.end, round(h.score, 6)))
            slow = {}
            for i, t in enumerate(texts):
                res = sc.analyze_one(t, lang)
                if res:
                    slow[i] = [(e, s, en, round(v, 6)) for e, s, en, v in res]
            assert fast == slow


def test_scan_column_sample(scanner):
    import pandas as pd
    from faker import Faker

    fk = Faker("en_US")
    fk.seed_instance(3)
    n = 120
    df = pd.DataFrame(
        {
            "customer_name": [fk.name() for _ in range(n)],
            "contact": [fk.email() for _ in range(n)],
            "comment": ["Great product, fast delivery." for _ in range(n)],
            "email_sha256": [fk.sha256() for _ in range(n)],
            "联系电话": [f"13{i % 10}1234{i:04d}"[:11] for i in range(n)],
        }
    )
    v = scanner.scan_column_sample(df["customer_name"], "customer_name", sample_size=50, seed=1)
    assert v.is_direct_identifier and v.entity_type == "PERSON" and v.sample_size == 50 and v.hit_share >= 0.7
    v = scanner.scan_column_sample(df["contact"], "contact", sample_size=50, seed=1)
    assert v.is_direct_identifier and v.entity_type == "EMAIL_ADDRESS" and v.hit_share == 1.0
    v = scanner.scan_column_sample(df["comment"], "comment", sample_size=50, seed=1)
    assert not v.is_direct_identifier and v.entity_type is None
    v = scanner.scan_column_sample(df["email_sha256"], "email_sha256", sample_size=50, seed=1)
    assert not v.is_direct_identifier and v.name_hint == "EMAIL_ADDRESS"
    v = scanner.scan_column_sample(df["联系电话"], "联系电话", sample_size=50, seed=1)
    assert v.is_direct_identifier and v.entity_type == "CN_MOBILE"
    # reproducible sample
    a = scanner.scan_column_sample(df["customer_name"], "customer_name", sample_size=30, seed=7)
    b = scanner.scan_column_sample(df["customer_name"], "customer_name", sample_size=30, seed=7)
    assert a == b


def test_scan_csv_chunks_streams(scanner, tmp_path):
    import pandas as pd

    path = tmp_path / "crm.csv"
    rows = [
        {"id": i, "note": f"call me at 212-734-{1000 + i:04d}" if i % 10 == 0 else "thanks", "x": "n/a"}
        for i in range(250)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    gen = scanner.scan_csv_chunks(path, columns=["note"], chunksize=50)
    first = next(gen)  # lazily produced
    assert first.row_id == (0, "note") and first.entity_type == "PHONE_NUMBER"
    rest = list(gen)
    assert [h.row_id[0] for h in [first] + rest] == list(range(0, 250, 10))


def test_default_entities_cover_requirements():
    for e in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CN_RESIDENT_ID", "CN_BANK_CARD", "ADDRESS"):
        assert e in DEFAULT_ENTITIES["zh"] or e in DEFAULT_ENTITIES["en"]
