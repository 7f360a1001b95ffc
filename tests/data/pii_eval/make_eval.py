"""Generate the labelled PII evaluation set (deterministic).

Usage: python tests/data/pii_eval/make_eval.py [output.jsonl]

Each line of the output is a JSON object::

    {"id": "en-0001", "lang": "en", "text": "...",
     "spans": [{"start": 5, "end": 15, "entity_type": "PERSON"}]}

Texts come from templates filled with Faker values (seeded) and with
identifiers generated here with valid check digits. Negative texts carry
dates, amounts, order and tracking numbers, version strings and words such
as "IBAN" but no personal data. Offsets are character offsets (Python str).
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import re
import sys
from pathlib import Path

from faker import Faker


#: Real county-level division codes for generated resident IDs.
CN_AREA_CODES = ("110105", "310115", "440305", "360426", "420104", "510107", "330106", "130403", "320102", "210102")


def cn_resident_id(fake: Faker) -> str:
    """An 18-character resident ID born 18 to 90 years before 2020-12-31.

    Faker's own ``ssn()`` counts the age back from today, so the set would
    change with the day it is generated; the check character comes from
    python-stdnum, not from the code under test.
    """
    from stdnum.cn import ric

    born = _dt.date(2020, 12, 31) - _dt.timedelta(days=fake.random_int(18 * 365, 90 * 365))
    body = fake.random_element(CN_AREA_CODES) + born.strftime("%Y%m%d") + fake.numerify("###")
    return body + ric.calc_check_digit(body + "0")  # stdnum drops the last character


def _fixed_date(fake: Faker) -> _dt.date:
    """A date from a fixed window, so the set does not change with the day it is generated."""
    return fake.date_between_dates(_dt.date(1990, 1, 1), _dt.date(2020, 12, 31))

SEED = 20240611
OUT = Path(__file__).with_name("pii_eval.jsonl")

# ---------------------------------------------------------------------------
# value generators
# ---------------------------------------------------------------------------

US_AREA = ["212", "213", "305", "312", "415", "503", "602", "617", "646", "702", "713", "718", "206", "404", "512"]
UK_LONDON = "20 79{:02d} {:04d}"
CITIES = [
    "London",
    "Berlin",
    "Paris",
    "Chicago",
    "Madrid",
    "Dublin",
    "Amsterdam",
    "Toronto",
    "Sydney",
    "Boston",
    "Seattle",
    "Munich",
    "Vienna",
    "Lisbon",
    "Rome",
    "Warsaw",
    "Prague",
    "Denver",
    "Manchester",
    "Edinburgh",
    "Brussels",
    "Stockholm",
    "Copenhagen",
    "Zurich",
    "Milan",
]
COUNTRIES = ["Germany", "France", "Spain", "Canada", "Ireland", "Italy", "Poland", "Japan", "Brazil", "Mexico"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]


def luhn_digit(body: str) -> str:
    total = 0
    for pos, ch in enumerate(reversed(body)):
        d = int(ch)
        if pos % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def unionpay(rng: random.Random) -> str:
    length = rng.choice([16, 19, 19])
    body = (
        "62"
        + rng.choice(["22", "12", "17", "28", "58", "14"])
        + "".join(rng.choice("0123456789") for _ in range(length - 5))
    )
    number = body + luhn_digit(body)
    if rng.random() < 0.4:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def uscc(rng: random.Random) -> str:
    head = rng.choice(["91", "92", "93", "12", "52", "11"]) + rng.choice(
        ["110105", "310115", "440305", "330106", "510107"]
    )
    body = head + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def us_phone(rng: random.Random) -> str:
    area = rng.choice(US_AREA)
    ex = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    if ex[1:] == "11":
        ex = ex[0] + "21"
    line = f"{rng.randint(0, 9999):04d}"
    return rng.choice([f"({area}) {ex}-{line}", f"{area}-{ex}-{line}", f"+1 {area} {ex} {line}", f"{area}.{ex}.{line}"])


def uk_phone(rng: random.Random) -> str:
    local = UK_LONDON.format(rng.randint(0, 99), rng.randint(0, 9999))
    return rng.choice([f"+44 {local}", f"0{local}"])


def cn_mobile(rng: random.Random) -> str:
    n = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
    style = rng.random()
    if style < 0.6:
        return n
    if style < 0.8:
        return f"{n[:3]}-{n[3:7]}-{n[7:]}"
    return f"+86 {n[:3]} {n[3:7]} {n[7:]}"


# ---------------------------------------------------------------------------
# templates: {TYPE} placeholders are labelled spans, {~name} unlabelled fillers
# ---------------------------------------------------------------------------

EN_POSITIVE = [
    "Hi, this is {PERSON}. Please call me back on {PHONE_NUMBER} about my refund.",
    "Customer {PERSON} ({EMAIL_ADDRESS}) complained that the parcel was late.",
    "Please update my email to {EMAIL_ADDRESS}, thanks.",
    "My card {CREDIT_CARD} was charged twice for order {~order}.",
    "Refund should go to IBAN {IBAN_CODE}, account holder {PERSON}.",
    "Ship the replacement to {ADDRESS}.",
    "I moved to {ADDRESS} last month, please change my billing address.",
    "{PERSON} called from {LOCATION} and asked for a callback at {PHONE_NUMBER}.",
    "Login attempts from {IP_ADDRESS} were blocked on {~date}.",
    "My SSN is {US_SSN}, please verify my identity for the loan.",
    "Contact: {PERSON}, tel {PHONE_NUMBER}, mail {EMAIL_ADDRESS}",
    "The agent {PERSON} was very helpful during my visit to the {LOCATION} store.",
    "I am travelling to {LOCATION} next week, can you pause my subscription?",
    "Dear {PERSON}, your ticket {~ticket} has been resolved.",
    "Thanks to {PERSON} for fixing the issue so quickly!",
    "Please send the invoice to {EMAIL_ADDRESS} instead of my old address.",
    "Our office in {LOCATION} never received the delivery for {PERSON}.",
    "Paid with {CREDIT_CARD} but the receipt shows the wrong amount.",
    "The technician from {LOCATION} arrived late; my number is {PHONE_NUMBER}.",
    "Chinese colleague {PERSON} gave ID {CN_RESIDENT_ID} for the contract.",
    "Reach me on WeChat or mobile {CN_MOBILE}.",
    "Wire the money back to {IBAN_CODE} please.",
    "Account owner: {PERSON}; billing address: {ADDRESS}; phone: {PHONE_NUMBER}",
    "We spoke with {PERSON} on {~date} about the broken router.",
    "Server {IP_ADDRESS} keeps sending me spam notifications.",
    "{PERSON} <{EMAIL_ADDRESS}> wrote about the cancelled booking.",
    "SSN on file: {US_SSN}. Please remove it from your records.",
    "Passport no. {CN_PASSPORT} belongs to {PERSON}, checked in at the {LOCATION} branch.",
    "Yesterday {PERSON} and {PERSON} visited us to renew the contract.",
]

EN_NEGATIVE = [
    "Great service, order {~order} arrived on {~date}.",
    "The app crashes after updating to version {~version}.",
    "Where can I find the IBAN field in the payment settings?",
    "I was charged {~amount} instead of {~amount} for my last order.",
    "Tracking number {~tracking} has not moved since {~date}.",
    "Support ticket {~ticket} is still open after three weeks.",
    "Delivery was scheduled for {~date} between 9am and 5pm but nobody came.",
    "The product page says the discount ends on {~date}, is that right?",
    "Please add an option to export invoices as PDF and CSV.",
    "Loved the new dashboard, the charts load much faster than before.",
    "Your SWIFT and IBAN instructions are confusing, please simplify them.",
    "Model {~model} stopped charging after {~n} days.",
    "Order {~order} was split into {~n} parcels, only one arrived.",
    "The hotline was closed on {~date}; opening hours say 8:00 to 20:00.",
    "Five stars. Fast shipping and the packaging was recyclable.",
    "I rated the support chat 2 out of 5 because it took {~n} minutes.",
    "Reference {~longnum} does not match any invoice in our system.",
    "The serial number {~serial} is printed under the device.",
    "Firmware {~version} fixed the Bluetooth problem on the {~model}.",
    "Batch {~longnum} of the product was recalled on {~date}.",
]

ZH_POSITIVE = [
    "客户{PERSON}先生反映快递一直没有送到，联系电话{CN_MOBILE}。",
    "姓名：{PERSON}，身份证号：{CN_RESIDENT_ID}，手机：{CN_MOBILE}",
    "请把退款打到我的银行卡{CN_BANK_CARD}，持卡人{PERSON}。",
    "收货地址：{ADDRESS}，收件人{PERSON}，电话{CN_MOBILE}",
    "我叫{PERSON}，上周在门店办理了会员卡。",
    "{PERSON}女士投诉客服态度不好，要求回电。",
    "公司统一社会信用代码{CN_USCC}，请开具增值税发票。",
    "办理签证需要护照号码{CN_PASSPORT}，持有人{PERSON}。",
    "我的邮箱是{EMAIL_ADDRESS}，请把电子发票发到这里。",
    "联系人{PERSON}，手机号{CN_MOBILE}，地址{ADDRESS}",
    "身份证{CN_RESIDENT_ID}的用户多次登录失败。",
    "请联系{PERSON}经理处理此事。",
    "卡号{CN_BANK_CARD}被重复扣款两次。",
    "客户{PERSON}的新地址是{ADDRESS}。",
    "投保人{PERSON}，证件号码{CN_RESIDENT_ID}。",
    "感谢{PERSON}老师的耐心讲解。",
    "请寄到{ADDRESS}，谢谢。",
    "开票信息：单位名称见附件，税号{CN_USCC}。",
    "今天{PERSON}来店里买了两件衣服。",
    "{PERSON}：{CN_MOBILE}",
    "护照{CN_PASSPORT}已经过期，需要重新办理。",
    "核对一下{CN_RESIDENT_ID}这个证件是否有效。",
]

ZH_NEGATIVE = [
    "订单号{~order}已于{~zhdate}发货，请注意查收。",
    "快递单号SF{~tracking_digits}一直显示在途中。",
    "产品型号{~model}使用{~n}天后无法开机。",
    "本次消费金额{~zhamount}元，已使用优惠券。",
    "请问IBAN和SWIFT代码在哪里填写？",
    "客服热线工作时间为每天8:00至20:00。",
    "活动将于{~zhdate}结束，请尽快下单。",
    "软件更新到{~version}版本后经常闪退。",
    "包装很好，物流很快，五星好评。",
    "希望增加导出发票的功能，方便报销。",
    "退货申请编号{~ticket}还在处理中。",
    "我在上海的门店买的，质量不错。",
    "订单编号{~longnum}查询不到物流信息。",
    "工单{~ticket}已关闭，序列号{~serial}。",
    "批次号{~longnum18}的产品已经召回。",
    "发票代码{~digits12}，发票号码{~digits8}。",
]


class Filler:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.us = Faker("en_US")
        self.us.seed_instance(seed)
        self.gb = Faker("en_GB")
        self.gb.seed_instance(seed + 3)
        self.zh = Faker("zh_CN")
        self.zh.seed_instance(seed + 1)
        self.de = Faker("de_DE")
        self.de.seed_instance(seed + 2)

    def value(self, kind: str, lang: str) -> str:
        rng, en, zh = self.rng, self.us, self.zh
        if kind == "PERSON":
            return zh.name() if lang == "zh" else (self.us if rng.random() < 0.6 else self.gb).name()
        if kind == "EMAIL_ADDRESS":
            return en.email()
        if kind == "PHONE_NUMBER":
            return us_phone(rng) if rng.random() < 0.7 else uk_phone(rng)
        if kind == "CREDIT_CARD":
            ctype = rng.choice(["visa16", "mastercard", "amex", "discover"])
            number = en.credit_card_number(card_type=ctype)
            if rng.random() < 0.4 and len(number) == 16:
                number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
            return number
        if kind == "IBAN_CODE":
            return (self.de if rng.random() < 0.5 else self.gb).iban()
        if kind == "IP_ADDRESS":
            return en.ipv4_public()
        if kind == "US_SSN":
            return self.us.ssn()
        if kind == "LOCATION":
            return rng.choice(CITIES) if rng.random() < 0.8 else rng.choice(COUNTRIES)
        if kind == "ADDRESS":
            if lang == "zh":
                addr = f"{zh.province()}{zh.city()}{zh.district()}区{zh.street_name()}{rng.randint(1, 999)}号"
                if rng.random() < 0.5:
                    addr += f"{rng.randint(1, 30)}栋{rng.randint(1, 30)}{rng.randint(1, 9):02d}室"
                return addr
            us = self.us
            street = us.street_address()
            if rng.random() < 0.7:
                return f"{street}, {us.city()}, {us.state_abbr()} {us.zipcode()}"
            return street
        if kind == "CN_RESIDENT_ID":
            return cn_resident_id(zh)
        if kind == "CN_MOBILE":
            return cn_mobile(rng)
        if kind == "CN_BANK_CARD":
            return unionpay(rng)
        if kind == "CN_USCC":
            return uscc(rng)
        if kind == "CN_PASSPORT":
            return rng.choice(["E", "G"]) + f"{rng.randint(0, 99999999):08d}"
        # unlabelled fillers
        if kind == "order":
            return rng.choice(
                [
                    f"#{rng.randint(10000, 99999999)}",
                    f"A-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
                    f"{rng.randint(2019, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(10000, 99999)}",
                ]
            )
        if kind == "date":
            return rng.choice(
                [
                    _fixed_date(en).strftime("%Y-%m-%d"),
                    _fixed_date(en).strftime("%d/%m/%Y"),
                    _fixed_date(en).strftime("%B %d, %Y"),
                    _fixed_date(en).strftime("%A"),
                ]
            )
        if kind == "zhdate":
            return f"{rng.randint(2019, 2025)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
        if kind == "version":
            return ".".join(str(rng.randint(0, 20)) for _ in range(rng.choice([3, 4])))
        if kind == "amount":
            return rng.choice(["$", "€", "£"]) + f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}"
        if kind == "zhamount":
            return f"{rng.randint(10, 99999)}.{rng.randint(0, 99):02d}"
        if kind == "tracking":
            return rng.choice(
                [
                    f"1Z{rng.randint(100, 999)}AA{rng.randint(10**9, 10**10 - 1)}",
                    f"JD{rng.randint(10**11, 10**12 - 1)}",
                    f"LX{rng.randint(10**8, 10**9 - 1)}CN",
                ]
            )
        if kind == "tracking_digits":
            return str(rng.randint(10**11, 10**12 - 1))
        if kind == "longnum":
            while True:  # 16 digits that fail the Luhn check
                v = str(rng.randint(10**15, 10**16 - 1))
                if luhn_digit(v[:-1]) != v[-1] and not v.startswith("62"):
                    return v
        if kind == "longnum18":
            return str(rng.randint(10**17, 10**18 - 1))
        if kind == "serial":
            return f"SN{rng.randint(10**9, 10**10 - 1)}{rng.choice('ABCDEFGHJK')}"
        if kind == "digits12":
            return str(rng.randint(10**11, 10**12 - 1))
        if kind == "digits8":
            return str(rng.randint(10**7, 10**8 - 1))
        if kind == "ticket":
            return f"TCK-{rng.randint(100000, 999999)}"
        if kind == "model":
            return f"{rng.choice(['XR', 'MX', 'Q', 'Z'])}{rng.randint(100, 9999)}"
        if kind == "n":
            return str(rng.randint(2, 60))
        raise KeyError(kind)


_SLOT = re.compile(r"\{(~?[A-Za-z_]+)\}")


def fill(template: str, lang: str, filler: Filler):
    out, spans, pos = [], [], 0
    for m in _SLOT.finditer(template):
        out.append(template[pos : m.start()])
        cur = sum(len(x) for x in out)
        name = m.group(1)
        if name.startswith("~"):
            out.append(filler.value(name[1:], lang))
        else:
            val = filler.value(name, lang)
            out.append(val)
            spans.append({"start": cur, "end": cur + len(val), "entity_type": name})
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def generate(seed: int = SEED):
    filler = Filler(seed)
    rng = random.Random(seed + 7)
    plan = [
        ("en", EN_POSITIVE, 210),
        ("en", EN_NEGATIVE, 80),
        ("zh", ZH_POSITIVE, 170),
        ("zh", ZH_NEGATIVE, 60),
    ]
    records = []
    counters = {"en": 0, "zh": 0}
    for lang, templates, n in plan:
        for i in range(n):
            template = templates[i % len(templates)] if i < len(templates) else rng.choice(templates)
            text, spans = fill(template, lang, filler)
            counters[lang] += 1
            records.append({"id": f"{lang}-{counters[lang]:04d}", "lang": lang, "text": text, "spans": spans})
    records += _legacy_resident_ids(seed, counters)
    return records


LEGACY_POSITIVE = ("客户旧身份证号{ID}，已申请换领新证。", "证件号码：{ID}（15位老身份证）", "身份证{ID}的资料需要更新。", "Customer gave an old ID card number {ID} at the counter.")
LEGACY_NEGATIVE = ("设备串号{N}已登记。", "订单{N}已发货。", "IMEI {N} was blocked after the theft report.", "流水号{N}对应的退款已完成。")


def _legacy_resident_ids(seed: int, counters: dict[str, int]) -> list[dict]:
    """15-digit GB 11643-1989 numbers: labelled next to ID wording, unlabelled 15-digit look-alikes elsewhere.

    The look-alikes share the legacy shape (division code, a real yymmdd date, three digits), so only
    the context can tell them apart. Drawn from their own generator so the records above stay as they are.
    """
    rng = random.Random(seed + 11)
    out = []

    def legacy() -> str:
        born = _dt.date(1930, 1, 1) + _dt.timedelta(days=rng.randrange(25000))
        return rng.choice(CN_AREA_CODES) + born.strftime("%y%m%d") + f"{rng.randrange(1000):03d}"

    for k in range(12):
        positive = k % 2 == 0
        template = (LEGACY_POSITIVE if positive else LEGACY_NEGATIVE)[(k // 2) % 4]
        value = legacy()
        text = template.replace("{ID}" if positive else "{N}", value)
        lang = "en" if template.isascii() or template.startswith(("Customer", "IMEI")) else "zh"
        counters[lang] += 1
        start = text.index(value)
        spans = [{"start": start, "end": start + len(value), "entity_type": "CN_RESIDENT_ID"}] if positive else []
        out.append({"id": f"{lang}-{counters[lang]:04d}", "lang": lang, "text": text, "spans": spans})
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else OUT
    records = generate()
    with open(out, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    print(f"wrote {len(records)} records to {out}")


if __name__ == "__main__":
    main()
