import datetime as dt
import random

import pytest
from stdnum import luhn as std_luhn
from stdnum.cn import ric as std_ric
from stdnum.cn import uscc as std_uscc

from audit.pii import (
    ChinesePersonRecognizer,
    CnBankCardRecognizer,
    CnMobileRecognizer,
    CnPassportRecognizer,
    CnResidentIdRecognizer,
    CnUsccRecognizer,
    cn_mobile_prefix_valid,
    cn_resident_id_info,
    luhn_valid,
    ric_from_legacy,
    ric_valid,
    uscc_valid,
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def found(recognizer, text):
    return [(text[r.start : r.end], r.score) for r in recognizer.analyze(text, [])]


# -- checksums ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["11010519491231002X", "360426199101010071", "11010519491231002x"])
def test_ric_valid_examples(value):
    assert ric_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "340524198001010013",  # wrong check digit
        "11010519491231002",  # too short
        "110105194912320025",  # 32 December
        "110105" + "2999" + "0101" + "0010",  # future date
    ],
)
def test_ric_invalid_examples(value):
    assert not ric_valid(value)


def test_ric_info_birth_date_and_sex():
    assert cn_resident_id_info("11010519491231002X") == (dt.date(1949, 12, 31), "female")
    assert cn_resident_id_info("360426199101010071") == (dt.date(1991, 1, 1), "male")
    assert cn_resident_id_info("340524198001010013") is None


def test_legacy_15_digit_ids():
    # the standard's own example pair: 110105491231002 is 11010519491231002X in 18-character form
    assert ric_from_legacy("110105491231002") == "11010519491231002X"
    assert ric_from_legacy("110105 491231 002") == "11010519491231002X"
    assert ric_from_legacy("11010519491231002X") is None and ric_from_legacy("11010549123100") is None
    assert not ric_valid("110105491231002")  # strict by default
    assert ric_valid("110105491231002", legacy=True)
    assert not ric_valid("110105491232002", legacy=True)  # 32 December
    assert not ric_valid("990105491231002", legacy=True, check_region=True)  # no province 99
    assert cn_resident_id_info("110105491231002") == (dt.date(1949, 12, 31), "female")
    assert cn_resident_id_info("360426910101007") == (dt.date(1991, 1, 1), "male")


def test_legacy_form_agrees_with_stdnum_after_conversion():
    rng = random.Random(3)
    for _ in range(300):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(36500))
        legacy = f"{rng.choice(['110105', '310115', '440305'])}{born:%y%m%d}{rng.randrange(1000):03d}"
        upgraded = ric_from_legacy(legacy)
        assert upgraded is not None and _stdnum_ric_checks(upgraded), (legacy, upgraded)
        assert std_ric.get_birth_date(upgraded) == born


def _stdnum_ric_checks(value):
    """stdnum's check character and birth date checks (not its region database)."""
    try:
        std_ric.get_birth_date(value)
    except ValueError:  # stdnum's ValidationError is a ValueError
        return False
    return std_ric.calc_check_digit(value) == value[-1]


def test_ric_agrees_with_stdnum_on_random_values():
    rng = random.Random(1)
    regions = ["110105", "310115", "440305", "360426", "420104", "510107", "330106", "130403"]
    valid = 0
    for _ in range(3000):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 60))
        day = (
            born.strftime("%Y%m%d")
            if rng.random() < 0.9
            else f"19{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(29, 31)}"
        )
        value = rng.choice(regions) + day + f"{rng.randint(0, 999):03d}" + rng.choice("0123456789X")
        assert ric_valid(value) == _stdnum_ric_checks(value), value
        if std_ric.is_valid(value):  # stdnum also checks the region code for the birth year
            assert ric_valid(value)
        valid += ric_valid(value)
    assert 150 < valid < 400  # about 1 in 11 random check characters is right


def test_uscc_agrees_with_stdnum_on_random_values():
    rng = random.Random(2)
    valid = 0
    for i in range(3000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice(USCC_ALPHABET) for _ in range(9)
        )
        if i % 2 == 0:
            value = body + std_uscc.calc_check_digit(body + "0")
        else:
            value = body + rng.choice(USCC_ALPHABET)
        assert uscc_valid(value) == std_uscc.is_valid(value), value
        valid += uscc_valid(value)
    assert 1400 < valid < 1700
    assert uscc_valid("91110000600037341L")
    assert not uscc_valid("91110000600037341M")


def test_luhn_agrees_with_stdnum():
    rng = random.Random(3)
    for _ in range(3000):
        n = "".join(rng.choice("0123456789") for _ in range(rng.randint(12, 19)))
        assert luhn_valid(n) == std_luhn.is_valid(n)
    assert luhn_valid("4111 1111 1111 1111")
    assert luhn_valid("4111-1111-1111-1111")
    assert not luhn_valid("4111 1111 1111 1112")
    assert not luhn_valid("")


def test_mobile_prefix_table():
    assert cn_mobile_prefix_valid("13812345678")
    assert cn_mobile_prefix_valid("+86 199 1234 5678")
    assert not cn_mobile_prefix_valid("14012345678")  # IoT range, 13 digits in use
    assert not cn_mobile_prefix_valid("15412345678")  # unallocated
    assert not cn_mobile_prefix_valid("1381234567")


# -- recognizers in text ---------------------------------------------------------


def test_resident_id_inside_chinese_sentence():
    rec = CnResidentIdRecognizer()
    assert found(rec, "身份证号11010519491231002X，请核实") == [("11010519491231002X", 1.0)]
    assert found(rec, "身份证号340524198001010013") == [("340524198001010013", 0.4)]  # typo: low score
    assert found(rec, "编号340524198001010013") == []
    assert found(rec, "x11010519491231002X") == []  # glued to a latin letter


def test_legacy_resident_id_needs_context():
    rec = CnResidentIdRecognizer()
    assert found(rec, "身份证号110105491231002，请核实") == [("110105491231002", 1.0)]
    assert found(rec, "old ID card 110105491231002 on file") == [("110105491231002", 1.0)]
    # without a context word a 15-digit number is more likely an IMEI or an order number:
    # scored below every default threshold
    assert found(rec, "设备串号110105491231002") == [("110105491231002", 0.3)]
    assert found(rec, "身份证号110105491232002") == []  # 32 December: not an ID
    assert found(rec, "身份证号1101054912310021") == []  # 16 digits: neither form


def test_resident_id_with_separators():
    rec = CnResidentIdRecognizer()
    assert found(rec, "ID: 110105 19491231 002X.") == [("110105 19491231 002X", 1.0)]
    assert found(rec, "证件号110105-19491231-002X") == [("110105-19491231-002X", 1.0)]


def test_mobile_formats_and_context():
    rec = CnMobileRecognizer()
    res = dict(found(rec, "手机：138-1234-5678，备用+86 139 1234 5678，另有15412345678"))
    assert res["138-1234-5678"] >= 0.9
    assert res["+86 139 1234 5678"] >= 0.8
    assert "15412345678" not in res
    assert found(rec, "订单13812345678") == [("13812345678", 0.7)]
    assert found(rec, "2013812345678") == []  # part of a longer number


def _unionpay19(rng):
    body = "621226" + "".join(rng.choice("0123456789") for _ in range(12))
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d


def test_unionpay_19_digit_card_detected():
    rng = random.Random(4)
    card = _unionpay19(rng)
    assert len(card) == 19
    rec = CnBankCardRecognizer()
    assert found(rec, f"退款到{card}谢谢") == [(card, 1.0)]
    spaced = " ".join(card[i : i + 4] for i in range(0, 19, 4))
    assert found(rec, f"卡号 {spaced}") == [(spaced, 1.0)]
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert found(rec, f"银行卡号{bad}") == [(bad, 0.5)]  # Luhn failure next to a context word
    assert found(rec, f"流水{bad}") == []


def test_unionpay_found_by_scanner_but_not_by_presidio_credit_card(scanner):
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    card = _unionpay19(random.Random(5))
    text = f"My UnionPay card {card} was declined."
    assert CreditCardRecognizer().analyze(text, ["CREDIT_CARD"]) == []
    hits = scanner.scan_texts([text], language="en")
    assert [(h.entity_type, text[h.start : h.end]) for h in hits] == [("CN_BANK_CARD", card)]


def test_uscc_recognizer():
    rec = CnUsccRecognizer()
    assert found(rec, "统一社会信用代码91110000600037341L。") == [("91110000600037341L", 1.0)]
    assert found(rec, "代码91110000600037341M") == []


def test_passport_requires_context():
    rec = CnPassportRecognizer()
    assert found(rec, "护照号码E12345678") == [("E12345678", 0.8)]
    assert found(rec, "passport no. G12345678") == [("G12345678", 0.8)]
    assert found(rec, "型号E12345678") == []


@pytest.fixture(scope="module")
def person():
    return ChinesePersonRecognizer()


@pytest.mark.parametrize(
    "text,name",
    [
        ("客户张伟先生反映卡号有问题", "张伟"),
        ("姓名：王秀英，电话13812345678", "王秀英"),
        ("联系人欧阳娜娜", "欧阳娜娜"),
        ("我叫刘洋，身份证号", "刘洋"),
        ("感谢何志强老师的耐心讲解", "何志强"),
    ],
)
def test_chinese_person_found(person, text, name):
    assert [text[r.start : r.end] for r in person.analyze(text, ["PERSON"]) if r.score >= 0.5] == [name]


@pytest.mark.parametrize("text", ["客户向我们投诉", "客户支付了订单", "客户都很满意", "谢谢", "请问先生您好"])
def test_chinese_person_not_found(person, text):
    assert [r for r in person.analyze(text, ["PERSON"]) if r.score >= 0.5] == []
