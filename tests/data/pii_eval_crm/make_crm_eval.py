"""Generate the labelled customer-text PII evaluation set (deterministic).

Usage: python tests/data/pii_eval_crm/make_crm_eval.py [output.jsonl]

The texts imitate what CRM teams hold: support tickets, chat turns, product
and hotel/food reviews and agent notes, in English and Chinese. Positive texts
carry labelled personal data (full and single first names in context, US and
European street addresses, phones with extensions and country prefixes, card
numbers of every Luhn-valid length by issuer range, IBANs in print, compact
and lower-case form, Chinese mobiles, landlines and addresses). Hard negatives
carry what real text is full of and what a naive detector flags: timestamps,
order and tracking numbers, version strings, digit runs, product, tech and
brand names, identifiers such as ``product_id``, "P.S.", Chinese common nouns
that begin with a surname character, honorifics used as forms of address,
"a minor bug", place names that contain a religion word.

Each line::

    {"id": "crm-en-ticket-0001", "lang": "en", "style": "ticket", "text": "...",
     "spans": [{"start": 5, "end": 15, "entity_type": "PERSON"}],
     "hard_negative": false, "negative_kind": null}

Only ``random.Random`` with a fixed seed and hand-written lexicons are used
(plus Faker's seeded name and e-mail providers, which do not depend on the
date), so the file is identical whatever day it is generated. Check digits
(Luhn, IBAN mod 97) are computed here; python-phonenumbers confirms every
generated phone number is valid for its region, so a number the labels call a
phone is one.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from faker import Faker

SEED = 20261204
OUT = Path(__file__).with_name("crm_eval.jsonl")

# ---------------------------------------------------------------------------
# lexicons
# ---------------------------------------------------------------------------

#: First names not taken from Faker (so a name list built from Faker cannot
#: learn the set): short, foreign-origin and unusual names.
EXTRA_FIRST_NAMES = (
    "Agi", "Siobhan", "Oluwaseun", "Thandiwe", "Kalani", "Ngozi", "Yusuf", "Anouk", "Bartosz", "Ilse",
    "Zsofia", "Tariq", "Mei", "Ravi", "Aoife", "Lennart", "Ines", "Kwame", "Dagny", "Femi", "Noor", "Pilar",
    "Tomasz", "Saoirse", "Emeka", "Liesel", "Jurgen", "Oksana", "Priya", "Matteo",
)

STYLES = ("ticket", "chat", "review", "note")

DE_STREETS = ("Hauptstraße", "Bahnhofstraße", "Lindenallee", "Gartenweg", "Schillerstraße", "Goethestraße",
              "Kirchgasse", "Am Markt", "Rosenweg", "Berliner Straße", "Hafenstraße", "Mühlenweg")
DE_CITIES = (("10115", "Berlin"), ("80331", "München"), ("20095", "Hamburg"), ("50667", "Köln"),
             ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("04109", "Leipzig"), ("01067", "Dresden"))
FR_STREETS = ("rue de la Paix", "avenue Victor Hugo", "boulevard Saint-Michel", "rue du Commerce",
              "place de la République", "rue des Lilas", "allée des Tilleuls", "chemin du Moulin")
FR_CITIES = (("75002", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"),
             ("33000", "Bordeaux"), ("44000", "Nantes"))
NL_STREETS = ("Keizersgracht", "Prinsengracht", "Dorpsstraat", "Kerkstraat", "Stationsweg", "Molenlaan")
NL_CITIES = (("1015 CJ", "Amsterdam"), ("3011 AD", "Rotterdam"), ("3511 LN", "Utrecht"), ("2511 BT", "Den Haag"))
ES_STREETS = ("Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Paseo de Gracia", "Calle Real")
ES_CITIES = (("28013", "Madrid"), ("08007", "Barcelona"), ("41001", "Sevilla"), ("46002", "Valencia"))
IT_STREETS = ("Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele", "Via Dante", "Piazza Navona", "Viale Europa")
IT_CITIES = (("00184", "Roma"), ("20121", "Milano"), ("50123", "Firenze"), ("10121", "Torino"))
US_STREETS = ("Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset", "Franklin",
              "Jefferson", "Highland", "Ridge", "River", "Meadow", "Lincoln", "Walnut", "Chestnut", "Willow")
US_SUFFIX = ("Street", "St", "Avenue", "Ave", "Road", "Rd", "Drive", "Dr", "Lane", "Ln", "Boulevard", "Blvd",
             "Court", "Ct", "Place", "Way", "Terrace")
US_CITIES = (("Springfield", "IL", "62704"), ("Austin", "TX", "78701"), ("Portland", "OR", "97205"),
             ("Denver", "CO", "80202"), ("Columbus", "OH", "43215"), ("Raleigh", "NC", "27601"),
             ("Madison", "WI", "53703"), ("Tucson", "AZ", "85701"), ("Boise", "ID", "83702"))
UK_STREETS = ("Baker Street", "High Street", "Church Road", "Station Road", "Victoria Road", "Mill Lane")
UK_CITIES = (("London", "NW1 6XE"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 5TR"))

#: Real NANP area codes and UK/DE/FR/NL geographic prefixes.
US_AREAS = ("212", "213", "305", "312", "415", "503", "602", "617", "646", "702", "713", "718", "206", "404",
            "512", "898", "984", "919", "720", "614")

ZH_STYLES_OPEN = {
    "ticket": ("工单描述：", "问题反馈：", "客户来电：", ""),
    "chat": ("客服：您好，", "用户：", "买家：", ""),
    "review": ("评价：", "", "【好评】", "【差评】"),
    "note": ("备注：", "跟进记录：", "回访：", ""),
}

ZH_PROVINCES = (("广东省", "深圳市", "南山区"), ("浙江省", "杭州市", "西湖区"), ("江苏省", "南京市", "鼓楼区"),
                ("北京市", "", "朝阳区"), ("上海市", "", "浦东新区"), ("四川省", "成都市", "武侯区"),
                ("湖北省", "武汉市", "洪山区"), ("山东省", "青岛市", "市南区"))
ZH_ROADS = ("科技园路", "文三路", "中山路", "建国路", "世纪大道", "人民南路", "珞喻路", "香港中路", "解放大道")
CN_MOBILE_PREFIXES = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177", "186",
                      "187", "188", "189", "199")
CN_LANDLINE_AREAS = (("010", 8), ("021", 8), ("020", 8), ("0755", 8), ("0571", 8), ("028", 8))


# ---------------------------------------------------------------------------
# check digits
# ---------------------------------------------------------------------------


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


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def iban_check(country: str, bban: str) -> str:
    moved = bban + country + "00"
    digits = "".join(str(int(c, 36)) for c in moved)
    return f"{98 - int(digits) % 97:02d}"


# ---------------------------------------------------------------------------
# value generators
# ---------------------------------------------------------------------------

#: (scheme, prefixes, lengths): issuer ranges of the card schemes.
CARD_RANGES = (
    ("visa", ("4",), (13, 16, 19)),
    ("mastercard", ("51", "52", "53", "54", "55", "2221", "2500", "2720"), (16,)),
    ("amex", ("34", "37"), (15,)),
    ("discover", ("6011", "644", "65"), (16, 19)),
    ("jcb", ("3528", "3550", "3589"), (16, 19)),
    ("jcb15", ("1800", "2131"), (15,)),
    ("diners", ("300", "305", "36", "38"), (14,)),
    ("maestro", ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6763"), (12, 13, 15, 16, 17, 18, 19)),
)


class Values:
    """Seeded generators of labelled values and of hard-negative fillers."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fakers = {}
        for i, loc in enumerate(("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "zh_CN")):
            f = Faker(loc)
            f.seed_instance(seed + i)
            self.fakers[loc] = f

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    # -- names ---------------------------------------------------------------
    def full_name(self) -> str:
        f = self.fakers[self.rng.choice(("en_US", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"))]
        return f"{f.first_name()} {f.last_name()}"

    def first_name(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(EXTRA_FIRST_NAMES)
        f = self.fakers[self.rng.choice(("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"))]
        return f.first_name()

    def zh_name(self) -> str:
        f = self.fakers["zh_CN"]
        return f.last_name() + f.first_name()

    def zh_surname(self) -> str:
        return self.fakers["zh_CN"].last_name()

    def email(self) -> str:
        return self.fakers["en_US"].email()

    # -- addresses -----------------------------------------------------------
    def address(self) -> str:
        rng = self.rng
        kind = rng.choice(("us", "us", "uk", "de", "de", "fr", "nl", "es", "it"))
        if kind == "us":
            street = f"{rng.randint(1, 9899)} {rng.choice(US_STREETS)} {rng.choice(US_SUFFIX)}"
            if rng.random() < 0.3:
                street += rng.choice((f", Apt {rng.randint(1, 40)}", f" Suite {rng.randint(100, 900)}"))
            city, st, z = rng.choice(US_CITIES)
            return street + (f", {city}, {st} {z}" if rng.random() < 0.7 else "")
        if kind == "uk":
            city, pc = rng.choice(UK_CITIES)
            return f"{rng.randint(1, 250)} {rng.choice(UK_STREETS)}, {city} {pc}"
        if kind == "de":
            pc, city = rng.choice(DE_CITIES)
            num = f"{rng.randint(1, 180)}{rng.choice(('', '', '', 'a', 'b'))}"
            return f"{rng.choice(DE_STREETS)} {num}, {pc} {city}" if rng.random() < 0.8 else f"{rng.choice(DE_STREETS)} {num}"
        if kind == "fr":
            pc, city = rng.choice(FR_CITIES)
            return f"{rng.randint(1, 120)} {rng.choice(FR_STREETS)}, {pc} {city}"
        if kind == "nl":
            pc, city = rng.choice(NL_CITIES)
            return f"{rng.choice(NL_STREETS)} {rng.randint(1, 400)}, {pc} {city}"
        if kind == "es":
            pc, city = rng.choice(ES_CITIES)
            return f"{rng.choice(ES_STREETS)} {rng.randint(1, 150)}, {pc} {city}"
        pc, city = rng.choice(IT_CITIES)
        return f"{rng.choice(IT_STREETS)} {rng.randint(1, 150)}, {pc} {city}"

    def zh_address(self) -> str:
        rng = self.rng
        prov, city, dist = rng.choice(ZH_PROVINCES)
        addr = f"{prov}{city}{dist}{rng.choice(ZH_ROADS)}{rng.randint(1, 999)}号"
        if rng.random() < 0.5:
            addr += f"{rng.randint(1, 30)}栋{rng.randint(1, 30)}{rng.randint(1, 9):02d}室"
        return addr

    # -- phones --------------------------------------------------------------
    def _valid_phone(self, make) -> str:
        import phonenumbers

        for _ in range(200):
            text, region = make()
            try:
                num = phonenumbers.parse(re.sub(r"\s*(?:x|ext\.?)\s*\d+$", "", text), region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(num):
                return text
        raise RuntimeError("no valid phone number generated")

    def phone(self) -> str:
        rng = self.rng

        def us():
            a, e, line = rng.choice(US_AREAS), f"{rng.randint(2, 9)}{self.digits(2)}", self.digits(4)
            if e[1:] == "11" or e == "555":
                e = "642"
            fmt = rng.choice((
                f"({a}){e}-{line}", f"({a}) {e}-{line}", f"{a}-{e}-{line}", f"+1-{a}-{e}-{line}",
                f"+1 {a} {e} {line}", f"{a}.{e}.{line}", f"1-{a}-{e}-{line}",
            ))
            ext = rng.random()
            if ext < 0.2:
                fmt += f"x{self.digits(rng.choice((3, 4)))}"
            elif ext < 0.3:
                fmt += f" ext. {self.digits(3)}"
            return fmt, "US"

        def uk():
            local = f"20 7{self.digits(3)} {self.digits(4)}"
            return rng.choice((f"+44 {local}", f"0{local}", f"+44 (0){local}")), "GB"

        def de():
            local = f"30 {self.digits(rng.choice((7, 8)))}"
            return rng.choice((f"+49 {local}", f"0{local}", f"+49-{local.replace(' ', '-')}")), "DE"

        def fr():
            d = [f"{rng.randint(1, 5)}"] + [self.digits(2) for _ in range(4)]
            return rng.choice((f"+33 {' '.join(d)}", "0" + " ".join(d), "0" + ".".join(d))), "FR"

        def nl():
            return rng.choice((f"+31 20 {self.digits(3)} {self.digits(4)}", f"020-{self.digits(7)}")), "NL"

        return self._valid_phone(rng.choice((us, us, us, uk, de, fr, nl)))

    def cn_mobile(self) -> str:
        n = self.rng.choice(CN_MOBILE_PREFIXES) + self.digits(8)
        return self.rng.choice((n, n, f"{n[:3]}-{n[3:7]}-{n[7:]}", f"{n[:3]} {n[3:7]} {n[7:]}", f"+86 {n}",
                                f"+86-{n[:3]}-{n[3:7]}-{n[7:]}"))

    def cn_landline(self) -> str:
        area, n = self.rng.choice(CN_LANDLINE_AREAS)

        def make():
            local = f"{self.rng.randint(2, 8)}{self.digits(n - 1)}"
            return self.rng.choice((f"{area}-{local}", f"({area}){local}", f"+86 {area[1:]} {local}")), "CN"

        return self._valid_phone(make)

    # -- cards and accounts --------------------------------------------------
    def card(self) -> str:
        rng = self.rng
        _, prefixes, lengths = rng.choice(CARD_RANGES)
        prefix, length = rng.choice(prefixes), rng.choice(lengths)
        body = prefix + self.digits(length - len(prefix) - 1)
        number = body + luhn_digit(body)
        style = rng.random()
        if style < 0.45:
            return number
        sep = " " if style < 0.8 else "-"
        if length == 15 and number[:2] in ("34", "37"):
            return sep.join((number[:4], number[4:10], number[10:]))
        return sep.join(number[i : i + 4] for i in range(0, length, 4))

    def iban(self) -> str:
        rng = self.rng
        country, bban = rng.choice((
            ("DE", lambda: self.digits(18)),
            ("FR", lambda: self.digits(10) + "".join(rng.choice("ABCDEFGHJK0123456789") for _ in range(11)) + self.digits(2)),
            ("GB", lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + self.digits(14)),
            ("NL", lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + self.digits(10)),
            ("ES", lambda: self.digits(20)),
            ("IT", lambda: rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + self.digits(10) + self.digits(12)),
            ("BE", lambda: self.digits(12)),
        ))
        b = bban()
        iban = country + iban_check(country, b) + b
        style = rng.random()
        if style < 0.4:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        if style < 0.75:
            return iban
        if style < 0.9:
            return iban.lower()
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()

    # -- hard-negative fillers -----------------------------------------------
    def datetime(self) -> str:
        rng = self.rng
        y, mo, d = rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28)
        h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        return rng.choice((
            f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}", f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
            f"{y}/{mo:02d}/{d:02d} {h:02d}:{mi:02d}", f"{d:02d}.{mo:02d}.{y} {h:02d}:{mi:02d}",
            f"{mo:02d}/{d:02d}/{y} {h:02d}:{mi:02d}:{s:02d}", f"{y}{mo:02d}{d:02d} {h:02d}{mi:02d}{s:02d}",
            f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}.{self.digits(3)}",
        ))

    def version(self) -> str:
        rng = self.rng
        n = ".".join(str(rng.randint(0, 12)) for _ in range(rng.choice((3, 4, 4))))
        return n

    def order(self) -> str:
        rng = self.rng
        return rng.choice((
            f"#{rng.randint(100000, 99999999)}", f"A-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
            f"ORD-{rng.randint(2019, 2026)}-{self.digits(6)}", f"{rng.randint(2019, 2026)}{rng.randint(1, 12):02d}"
            f"{rng.randint(1, 28):02d}{self.digits(6)}", f"{rng.randint(100, 999)}-{self.digits(7)}-{self.digits(7)}",
        ))

    def tracking(self) -> str:
        rng = self.rng
        return rng.choice((
            f"1Z{rng.randint(100, 999)}AA1{self.digits(9)}", f"JD{self.digits(12)}", f"LX{self.digits(9)}CN",
            f"SF{self.digits(12)}", f"9400 1{self.digits(3)} {self.digits(4)} {self.digits(4)} {self.digits(4)} {self.digits(2)}",
        ))

    def digit_run(self) -> str:
        start = self.rng.randint(0, 3)
        n = self.rng.randint(6, 9)
        return " ".join(str((start + i) % 10) for i in range(n))


# ---------------------------------------------------------------------------
# templates: {TYPE} placeholders are labelled, {~kind} are unlabelled fillers
# ---------------------------------------------------------------------------

EN_POSITIVE = {
    "ticket": (
        "Subject: refund\nHi, this is {PERSON}. Please call me back on {PHONE_NUMBER} about order {~order}.",
        "Customer {PERSON} reports the router drops every evening. Callback number {PHONE_NUMBER}.",
        "Please remove my kid {FIRST} from the account, she is no longer a member.",
        "Card ending in the wrong digits: I paid with {CREDIT_CARD} but was charged twice.",
        "Refund to IBAN {IBAN_CODE} please, account holder {PERSON}.",
        "Ship the replacement to {ADDRESS}. Thanks!",
        "My new billing address is {ADDRESS}, please update it before the next invoice.",
        "Hello, my name is {FIRST} and my parcel {~tracking} never arrived.",
        "Requesting a callback: {PHONE_NUMBER}. Ask for {FIRST}.",
        "The charge on card {CREDIT_CARD} on {~datetime} was not made by me.",
        "Please wire the deposit back to {IBAN_CODE}.",
        "Dear support, my husband {FIRST} cannot log in since the update to {~version}.",
        "Account holder: {PERSON}, phone: {PHONE_NUMBER}, delivery: {ADDRESS}",
        "My daughter {FIRST} ordered this without asking, please cancel order {~order}.",
    ),
    "chat": (
        "Agent: Hi, I'm {FIRST}, how can I help?\nCustomer: my card {CREDIT_CARD} was declined.",
        "Customer: Hi {FIRST}, can you call me at {PHONE_NUMBER}?",
        "Agent: Thanks {FIRST}! I have updated the address to {ADDRESS}.",
        "Customer: it's {PERSON}, I called yesterday about the broken screen.",
        "Customer: Can you send it to {ADDRESS} instead?",
        "Agent: I've passed this to my colleague {FIRST}, she will follow up.",
        "Customer: the IBAN is {IBAN_CODE}",
        "Customer: my number is {PHONE_NUMBER}, text me when it ships",
        "Customer: {FIRST} here again, still no refund for {~order}.",
        "Agent: Could you confirm the card number? Customer: {CREDIT_CARD}",
    ),
    "review": (
        "Great stay! {FIRST} at the front desk was so helpful. 5 stars.",
        "The waiter, {PERSON}, recommended the fish and it was perfect.",
        "Delivery driver {FIRST} left it in the rain. Two stars.",
        "Thanks to {PERSON} for sorting out the booking mix-up.",
        "Ask for {FIRST}, she knows the menu inside out.",
        "Our guide {PERSON} made the tour. Would book again.",
    ),
    "note": (
        "Spoke with {PERSON} on {~datetime}; promised a callback on {PHONE_NUMBER}.",
        "Cust. moved to {ADDRESS}; updated CRM record.",
        "Mr. {SURNAME} asked to pay the remaining balance by card {CREDIT_CARD}.",
        "Mrs. {SURNAME} wants statements sent to {ADDRESS}.",
        "Dr. {PERSON} called from {PHONE_NUMBER} regarding the invoice.",
        "Refund approved to {IBAN_CODE} (holder {PERSON}).",
        "Left voicemail for {FIRST} at {PHONE_NUMBER}.",
        "Customer's son {FIRST} will pick up the device.",
    ),
}

EN_NEGATIVE = {
    "datetime": (
        "Logged at {~datetime} by the system, status Open.",
        "Ticket created {~datetime}, last updated {~datetime}.",
        "The outage lasted from {~datetime} to {~datetime}.",
        "Your return window closes {~datetime}.",
    ),
    "order": (
        "Order {~order} was split into two parcels, only one arrived.",
        "Tracking {~tracking} has not moved for a week.",
        "Invoice {~order} does not match the amount charged.",
        "Reference {~order}: replacement approved.",
    ),
    "version": (
        "The app crashes after updating to {~version}.",
        "Firmware {~version} fixed the Bluetooth issue.",
        "Running build {~version} on Windows 11, still broken.",
        "Rolled back from {~version} to {~version}, works now.",
        "Version {~version} of the plugin breaks checkout.",
    ),
    "digits": (
        "Rate each step {~digits} in the survey, it makes no sense.",
        "The keypad only registers {~digits} and then freezes.",
        "Codes tried: {~digits}. None worked.",
    ),
    "tech": (
        "Javascript error in Chrome when paying with Paypal; Customer Support said to wait.",
        "Safari shows a blank page, Firefox works fine.",
        "The product_id field is empty in the export. P.S. the CSV also lacks headers.",
        "Zendesk sync fails and Salesforce shows duplicate leads.",
        "Outlook keeps flagging your newsletters as spam.",
        "I use Android 14 on a Pixel; the iOS app is fine.",
        "Apple Pay works but Google Pay times out.",
        "Customer Support closed the ticket without a reply.",
        "The Excel export opens with broken umlauts in Word too.",
        "Login with Gmail fails, Microsoft accounts work.",
        "WhatsApp notifications arrive twice on my iPhone.",
        "Shopify order sync and the Stripe webhook are both down.",
        "The Kindle edition has no table of contents.",
        "Netflix and Spotify both stutter on your Wi-Fi.",
        "Tried Edge, Chrome and Opera: the captcha never loads.",
        "Check the order_status and customer_id columns in the API response.",
    ),
    "special": (
        "There is a minor bug in checkout when the cart is empty.",
        "A minor update fixed it, thanks.",
        "Our islamabad office uses the same account.",
        "Had an issue with the democrat theme on the blog plugin.",
        "Minor issue: the logo is blurry on retina screens.",
        "The christmas sale banner covers the menu.",
    ),
    "plain": (
        "Five stars, fast shipping and recyclable packaging.",
        "Loved the new dashboard, charts load much faster.",
        "Please add an option to export invoices as PDF.",
        "The hotline was closed; opening hours say 8:00 to 20:00.",
        "The room was clean but the breakfast was cold.",
        "Paid {~amount} instead of {~amount}, please check.",
    ),
}

ZH_POSITIVE = {
    "ticket": (
        "{OPEN}客户{PERSON}反映快递一直没有送到，联系电话{CN_MOBILE}。",
        "{OPEN}收货地址：{ADDRESS}，收件人{PERSON}，电话{CN_MOBILE}",
        "{OPEN}请把退款打到银行卡{CN_BANK_CARD}，持卡人{PERSON}。",
        "{OPEN}{PERSON}女士投诉送货太慢，要求回电{PHONE_NUMBER}。",
        "{OPEN}用户{PERSON}的新地址是{ADDRESS}。",
        "{OPEN}信用卡{CREDIT_CARD}被重复扣款，请核实。",
    ),
    "chat": (
        "{OPEN}我叫{PERSON}，订单一直没发货。",
        "{OPEN}麻烦寄到{ADDRESS}，谢谢。",
        "{OPEN}我的手机号是{CN_MOBILE}，有问题打给我。",
        "{OPEN}{PERSON}先生，您的退款已经处理好了。",
        "{OPEN}座机{PHONE_NUMBER}，工作日都在。",
        "{OPEN}收件人写{PERSON}就行。",
    ),
    "review": (
        "{OPEN}感谢{PERSON}经理的耐心讲解，服务很好。",
        "{OPEN}送餐的{PERSON}师傅很准时，点赞。",
        "{OPEN}前台{PERSON}态度很好，房间也干净。",
        "{OPEN}导游{PERSON}讲解很详细，推荐。",
    ),
    "note": (
        "{OPEN}联系人{PERSON}，手机{CN_MOBILE}，地址{ADDRESS}",
        "{OPEN}已致电{PERSON}，约好明天上门。",
        "{OPEN}{PERSON}要求开发票，邮寄到{ADDRESS}。",
        "{OPEN}客户{PERSON}更换了号码：{CN_MOBILE}。",
    ),
}

ZH_NEGATIVE = {
    "datetime": (
        "{OPEN}下单时间{~datetime}，发货时间{~datetime}。",
        "{OPEN}系统日志：{~datetime} 支付成功。",
    ),
    "order": (
        "{OPEN}订单号{~order}已发货，请注意查收。",
        "{OPEN}快递单号{~tracking}一直显示在途中。",
    ),
    "version": ("{OPEN}软件更新到{~version}版本后经常闪退。", "{OPEN}固件{~version}修复了蓝牙问题。"),
    "nouns": (
        "{OPEN}这个客服太马虎了，地址都写错。",
        "{OPEN}牛腩很好吃，分量也足。",
        "{OPEN}包装有点陈旧，但是东西不错。",
        "{OPEN}环境安静，适合学习。",
        "{OPEN}毛巾很干净，床也舒服。",
        "{OPEN}酒店在胡同里，不太好找。",
        "{OPEN}花园里很漂亮，早餐一般。",
        "{OPEN}牛肉面味道一般，汤有点咸。",
        "{OPEN}房间很安静，隔音不错。",
        "{OPEN}钱包丢在车上了，司机帮忙找回来了。",
        "{OPEN}黄焖鸡米饭分量足，推荐。",
        "{OPEN}朱古力蛋糕太甜了。",
        "{OPEN}杨枝甘露很好喝，下次还来。",
        "{OPEN}鲁菜做得很地道，服务周到。",
    ),
    "honorific": (
        "{OPEN}师傅很好，送货很快。",
        "{OPEN}老板人很好，还送了小菜。",
        "{OPEN}小哥送得很快，还帮忙搬上楼。",
        "{OPEN}亲，已经发货了哦，请耐心等待。",
        "{OPEN}快递小哥态度很好，五星。",
        "{OPEN}司机师傅很准时，车也干净。",
        "{OPEN}老板娘很热情，推荐大家来。",
        "{OPEN}亲，这款有现货，拍下就发。",
    ),
    "plain": (
        "{OPEN}物流很快，包装完好，五星好评。",
        "{OPEN}希望增加导出发票的功能。",
        "{OPEN}客服热线每天8:00至20:00。",
        "{OPEN}价格实惠，下次还会回购。",
    ),
}


# Held-out templates: written after the detector's rules and never used to tune
# them; their figures are reported apart (``"split": "holdout"``).
HOLDOUT_EN_POSITIVE = (
    "Order never came. Contact me: {PHONE_NUMBER} (mobile). - {PERSON}",
    "I'd like to change the delivery address to {ADDRESS} for all future orders.",
    "{PERSON} from accounting needs a copy of invoice {~order}.",
    "can u ring {FIRST} on {PHONE_NUMBER} pls",
    "Booked for 2 under {PERSON}, room was fine.",
    "Card used: {CREDIT_CARD}. Amount wrong.",
    "bank details: {IBAN_CODE} / {PERSON}",
    "The parcel for {FIRST} was left at {ADDRESS} but we live next door.",
    "We stayed 3 nights; {FIRST} and {FIRST} at reception were lovely.",
    "Note: {PERSON} prefers email, do not call {PHONE_NUMBER}.",
    "Callback requested by {FIRST} ({PHONE_NUMBER}).",
    "Grandma {FIRST} needs the large-print bill.",
    "Account closed at the request of {PERSON}.",
    "Pls charge the balance to {CREDIT_CARD} and mail the receipt to {ADDRESS}.",
)
HOLDOUT_ZH_POSITIVE = (
    "{PERSON}在{~datetime}下单，收货人电话{CN_MOBILE}",
    "这次的外卖是{PERSON}送的，很快。",
    "退款请联系{PERSON}，电话{PHONE_NUMBER}。",
    "快递放在{ADDRESS}门口了。",
    "{PERSON}和{PERSON}一起来办理的业务。",
    "客户要求把发票寄给{PERSON}。",
    "谢谢{PERSON}帮我换了新的，服务很好。",
)
HOLDOUT_EN_NEGATIVE = (
    "Upgraded the app to {~version} and the Zoom integration broke.",
    "Status changed from Pending to Resolved at {~datetime}.",
    "Invoice INV-{~order} paid via Klarna.",
    "HubSpot and Intercom both show the chat twice.",
    "Minor delay on my end, sorry.",
    "Meeting moved to {~datetime}, agenda unchanged.",
    "Thanks Again for the quick fix!",
    "Hi Team, the export is broken.",
    "Build {~version} fixed the crash on Samsung devices.",
    "Copied serial {~digits} into the form.",
    "Opened on {~datetime}, closed on {~datetime}.",
    "Package {~tracking} is stuck in customs.",
)
HOLDOUT_ZH_NEGATIVE = (
    "老板很爽快，东西也好。",
    "这家的马卡龙很好吃。",
    "黄河鲤鱼很新鲜。",
    "温泉很舒服，下次还来。",
    "云吞面很好吃，价格实惠。",
    "江景房很漂亮，推荐。",
    "田园风格的装修很温馨。",
    "韩式烤肉味道不错。",
    "师傅手艺不错，下次还来。",
    "版本{~version}还是有问题。",
    "订单{~order}在{~datetime}取消了。",
    "高铁站附近，交通方便。",
)


class _Fill:
    def __init__(self, values: Values):
        self.v = values

    def value(self, slot: str, lang: str) -> tuple[str, str | None]:
        v, rng = self.v, self.v.rng
        if slot == "PERSON":
            return (v.zh_name() if lang == "zh" else v.full_name()), "PERSON"
        if slot == "FIRST":
            return v.first_name(), "PERSON"
        if slot == "SURNAME":
            return v.fakers[rng.choice(("en_US", "en_GB", "de_DE"))].last_name(), "PERSON"
        if slot == "PHONE_NUMBER":
            return (v.cn_landline() if lang == "zh" else v.phone()), "PHONE_NUMBER"
        if slot == "CN_MOBILE":
            return v.cn_mobile(), "CN_MOBILE"
        if slot == "ADDRESS":
            return (v.zh_address() if lang == "zh" else v.address()), "ADDRESS"
        if slot == "CREDIT_CARD":
            return v.card(), "CREDIT_CARD"
        if slot == "CN_BANK_CARD":
            body = "62" + rng.choice(("22", "12", "17", "28")) + v.digits(rng.choice((11, 14)))
            return body + luhn_digit(body), "CN_BANK_CARD"
        if slot == "IBAN_CODE":
            return v.iban(), "IBAN_CODE"
        if slot == "~datetime":
            return v.datetime(), None
        if slot == "~version":
            return v.version(), None
        if slot == "~order":
            return v.order(), None
        if slot == "~tracking":
            return v.tracking(), None
        if slot == "~digits":
            return v.digit_run(), None
        if slot == "~amount":
            return rng.choice(("$", "€", "£")) + f"{rng.randint(1, 900)}.{rng.randint(0, 99):02d}", None
        raise KeyError(slot)


_SLOT = re.compile(r"\{(~?[A-Z_a-z]+)\}")


def fill(template: str, lang: str, filler: _Fill, opening: str = "") -> tuple[str, list[dict]]:
    template = template.replace("{OPEN}", opening)
    out: list[str] = []
    spans: list[dict] = []
    pos = 0
    for m in _SLOT.finditer(template):
        out.append(template[pos : m.start()])
        cur = sum(len(x) for x in out)
        val, label = filler.value(m.group(1), lang)
        out.append(val)
        if label:
            spans.append({"start": cur, "end": cur + len(val), "entity_type": label})
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def generate(seed: int = SEED) -> list[dict]:
    values = Values(seed)
    filler = _Fill(values)
    rng = random.Random(seed + 1)
    records: list[dict] = []
    counters: dict[str, int] = {}

    def add(
        lang: str, style: str, text: str, spans: list[dict], negative_kind: str | None, split: str = "main"
    ) -> None:
        key = f"{lang}-{style}" if split == "main" else f"holdout-{lang}-{style}"
        counters[key] = counters.get(key, 0) + 1
        records.append(
            {
                "id": f"crm-{key}-{counters[key]:04d}",
                "lang": lang,
                "style": style,
                "text": text,
                "spans": spans,
                "hard_negative": negative_kind is not None,
                "negative_kind": negative_kind,
                "split": split,
            }
        )

    # positives: every template several times, in template order (stable ids)
    for style, templates in EN_POSITIVE.items():
        for _ in range(5):
            for t in templates:
                text, spans = fill(t, "en", filler)
                add("en", style, text, spans, None)
    for style, templates in ZH_POSITIVE.items():
        for _ in range(8):
            for t in templates:
                text, spans = fill(t, "zh", filler, rng.choice(ZH_STYLES_OPEN[style]))
                add("zh", style, text, spans, None)
    # hard negatives
    for kind, templates in EN_NEGATIVE.items():
        reps = 1 if kind in ("tech", "special", "plain") else 6
        for _ in range(reps):
            for t in templates:
                text, spans = fill(t, "en", filler)
                add("en", "negative", text, spans, kind)
    for kind, templates in ZH_NEGATIVE.items():
        reps = 1 if kind in ("nouns", "honorific") else 5
        for _ in range(reps):
            for t in templates:
                opening = rng.choice(ZH_STYLES_OPEN[rng.choice(STYLES)])
                text, spans = fill(t, "zh", filler, opening)
                add("zh", "negative", text, spans, kind)
    # held-out texts
    for _ in range(4):
        for t in HOLDOUT_EN_POSITIVE:
            text, spans = fill(t, "en", filler)
            add("en", "mixed", text, spans, None, "holdout")
        for t in HOLDOUT_ZH_POSITIVE:
            text, spans = fill(t, "zh", filler)
            add("zh", "mixed", text, spans, None, "holdout")
    for _ in range(2):
        for t in HOLDOUT_EN_NEGATIVE:
            text, spans = fill(t, "en", filler)
            add("en", "negative", text, spans, "holdout", "holdout")
        for t in HOLDOUT_ZH_NEGATIVE:
            text, spans = fill(t, "zh", filler)
            add("zh", "negative", text, spans, "holdout", "holdout")
    return records


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else OUT
    records = generate()
    with open(out, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
