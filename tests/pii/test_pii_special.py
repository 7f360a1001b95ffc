from audit.pii.special import (
    SpecialCategoryScanner,
    special_categories_in_column,
    special_categories_in_text,
)


def test_text_hits_english_and_chinese():
    hits = special_categories_in_text(
        "I was diagnosed with diabetes; my daughter is 12 years old and we pray at the mosque."
    )
    assert set(hits) == {"health", "minors", "religion"}
    assert [h.term for h in hits["health"]] == ["diagnosed", "diabetes"]
    zh = special_categories_in_text("客户确诊糖尿病，是穆斯林，需要清真餐，使用刷脸支付。")
    assert set(zh) == {"health", "religion", "biometrics"}


def test_no_false_hit_inside_words():
    assert special_categories_in_text("The prayerful design of Churchill's gate") == {}  # pray*, church not whole words
    assert special_categories_in_text("Great delivery, thanks") == {}


def test_column_names():
    assert special_categories_in_column("diagnosis_code") == ["health"]
    assert special_categories_in_column("patientId") == ["health"]
    assert special_categories_in_column("民族") == ["ethnicity"]
    assert special_categories_in_column("gps_lat") == ["precise_location"]
    assert special_categories_in_column("fingerprintHash") == ["biometrics"]
    assert special_categories_in_column("child_age") == ["minors"]
    assert special_categories_in_column("iban") == ["financial_accounts"]
    assert special_categories_in_column("customer_name") == []
    assert special_categories_in_column("order_date") == []


def test_lexicon_extension(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "health:\n  column:\n    en: [blood_sugar]\n  text:\n    en: [glucose]\n"
        "loyalty_profiling:\n  legal: [internal policy]\n  column:\n    en: [propensity]\n  text:\n    zh: [画像]\n",
        encoding="utf-8",
    )
    sc = SpecialCategoryScanner([extra])
    assert "health" in sc.scan_text("high glucose level")
    assert sc.scan_column_name("blood_sugar") == ["health"]
    assert sc.scan_column_name("churn_propensity") == ["loyalty_profiling"]
    assert "loyalty_profiling" in sc.scan_text("用户画像")
    assert "internal policy" in sc.legal_basis("loyalty_profiling")
    assert sc.scan_texts(["glucose", "fine", "diabetes"]) == {"health": 2}
