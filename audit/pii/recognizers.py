"""General recognizers added to Presidio's set: offline e-mail validation and postal addresses."""

from __future__ import annotations

import functools
import re

import tldextract
from presidio_analyzer import LocalRecognizer, Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from .cn_recognizers import _CheckedPatternRecognizer, luhn_valid

__all__ = [
    "OFFLINE_TLD_EXTRACT",
    "CnAddressRecognizer",
    "EnStreetAddressRecognizer",
    "OfflineEmailRecognizer",
    "PaymentCardRecognizer",
    "PhoneNumberRecognizer",
    "card_brand",
]

#: Public-suffix lookups from the snapshot bundled with tldextract: no cache
#: directory, no download. Presidio's own EmailRecognizer calls
#: ``tldextract.extract``, whose default instance fetches the list over the
#: network on first use.
OFFLINE_TLD_EXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EMAIL_ADDRESS recognizer with an offline public-suffix check.

    Context words are dropped: a validated match already scores 1.0 and an
    invalid one is discarded, so they could not change any result, and
    without them the scanner can skip tokenising texts that only hold e-mails.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = []

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        # ``\w`` in the local part also matches CJK characters, so in
        # "邮箱zhangwei@example.cn" the match would start at 邮; trim them.
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for r in results:
            while r.start < r.end and _CJK_CHAR.match(text[r.start]):
                r.start += 1
        return [r for r in results if r.end > r.start and "@" in text[r.start : r.end]]

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD_EXTRACT(pattern_text).fqdn != ""


# USPS street suffixes (full words and common abbreviations).
_STREET_SUFFIXES = [
    "Alley",
    "Aly",
    "Avenue",
    "Ave",
    "Bend",
    "Boulevard",
    "Blvd",
    "Branch",
    "Bridge",
    "Brook",
    "Brooks",
    "Burg",
    "Bypass",
    "Camp",
    "Canyon",
    "Cape",
    "Causeway",
    "Center",
    "Centers",
    "Circle",
    "Circles",
    "Cir",
    "Cliff",
    "Cliffs",
    "Club",
    "Common",
    "Corner",
    "Corners",
    "Course",
    "Court",
    "Courts",
    "Ct",
    "Cove",
    "Coves",
    "Creek",
    "Crescent",
    "Crest",
    "Crossing",
    "Crossroad",
    "Curve",
    "Dale",
    "Dam",
    "Divide",
    "Drive",
    "Drives",
    "Dr",
    "Estate",
    "Estates",
    "Expressway",
    "Extension",
    "Extensions",
    "Falls",
    "Ferry",
    "Field",
    "Fields",
    "Flat",
    "Flats",
    "Ford",
    "Fords",
    "Forest",
    "Forge",
    "Forges",
    "Fork",
    "Forks",
    "Fort",
    "Freeway",
    "Garden",
    "Gardens",
    "Gateway",
    "Glen",
    "Glens",
    "Green",
    "Greens",
    "Grove",
    "Groves",
    "Harbor",
    "Harbors",
    "Haven",
    "Heights",
    "Highway",
    "Hwy",
    "Hill",
    "Hills",
    "Hollow",
    "Inlet",
    "Island",
    "Islands",
    "Isle",
    "Junction",
    "Junctions",
    "Key",
    "Keys",
    "Knoll",
    "Knolls",
    "Lake",
    "Lakes",
    "Land",
    "Landing",
    "Lane",
    "Ln",
    "Light",
    "Lights",
    "Loaf",
    "Lock",
    "Locks",
    "Lodge",
    "Loop",
    "Mall",
    "Manor",
    "Manors",
    "Meadow",
    "Meadows",
    "Mews",
    "Mill",
    "Mills",
    "Mission",
    "Motorway",
    "Mount",
    "Mountain",
    "Mountains",
    "Neck",
    "Orchard",
    "Oval",
    "Overpass",
    "Park",
    "Parks",
    "Parkway",
    "Parkways",
    "Pkwy",
    "Pass",
    "Passage",
    "Path",
    "Pike",
    "Pine",
    "Pines",
    "Place",
    "Pl",
    "Plain",
    "Plains",
    "Plaza",
    "Point",
    "Points",
    "Port",
    "Ports",
    "Prairie",
    "Radial",
    "Ramp",
    "Ranch",
    "Rapid",
    "Rapids",
    "Rest",
    "Ridge",
    "Ridges",
    "River",
    "Road",
    "Roads",
    "Rd",
    "Route",
    "Row",
    "Rue",
    "Run",
    "Shoal",
    "Shoals",
    "Shore",
    "Shores",
    "Skyway",
    "Spring",
    "Springs",
    "Spur",
    "Spurs",
    "Square",
    "Squares",
    "Sq",
    "Station",
    "Stravenue",
    "Stream",
    "Street",
    "Streets",
    "St",
    "Summit",
    "Terrace",
    "Ter",
    "Throughway",
    "Trace",
    "Track",
    "Trafficway",
    "Trail",
    "Trailer",
    "Tunnel",
    "Turnpike",
    "Underpass",
    "Union",
    "Unions",
    "Valley",
    "Valleys",
    "Via",
    "Viaduct",
    "View",
    "Views",
    "Village",
    "Villages",
    "Ville",
    "Vista",
    "Walk",
    "Walks",
    "Wall",
    "Way",
    "Ways",
    "Well",
    "Wells",
]

_SUFFIX_RX = "|".join(sorted(set(_STREET_SUFFIXES), key=len, reverse=True))
_STREET = (
    r"\b\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'\-]+\s+){0,3}"
    rf"(?:{_SUFFIX_RX})\.?(?:\s+(?:[NSEW]|NE|NW|SE|SW))?\b"
)
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Room|#)\s*[A-Za-z0-9\-]{1,6})"
_TAIL = (
    r",?\s+(?:[A-Z][A-Za-z'\-]+\s+){0,3}[A-Z][A-Za-z'\-]+,?\s+"
    r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b"
)


class EnStreetAddressRecognizer(PatternRecognizer):
    """ADDRESS: street addresses in US/UK style (number, street name, suffix).

    A street line alone scores 0.6; with a unit or a "City, ST 12345" /
    UK postcode tail it scores 0.9. Context words (address, live, ship...)
    raise the score through Presidio's context enhancer. Matching is case
    sensitive: street names must be capitalised.
    """

    PATTERNS = (
        Pattern("street_full", _STREET + _UNIT + "?" + _TAIL, 0.9),
        Pattern("street_unit", _STREET + _UNIT, 0.8),
        Pattern("street", _STREET, 0.6),
    )
    #: Cheap necessary condition used by the scanner's pre-filter.
    GATE_QUICK = r"\d[A-Za-z]?\s+(?:[NSEW]\.?\s+)?[A-Z]"
    CONTEXT = ("address", "live", "lives", "living", "ship", "deliver", "delivery", "mail", "street", "move", "moved")

    def __init__(self, supported_language: str = "en", name: str | None = None):
        super().__init__(
            supported_entity="ADDRESS",
            name=name or f"EnStreetAddressRecognizer_{supported_language}",
            supported_language=supported_language,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )


_PROVINCES = [
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
]
_PROV_SUFFIX = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
_ROAD = r"(?:大道|胡同|小区|路|街|道|巷|弄|村|里)"
_NUM = r"(?:[0-9０-９]{1,5}|[一二三四五六七八九十百]{1,4})"
_UNIT_ZH = r"(?:[-－]?[\u4e00-\u9fffA-Za-z]{0,8}?[0-9０-９A-Za-z]{1,5}(?:号楼|单元|号|弄|栋|幢|座|楼|层|室))"
_SPECIFIC_END = rf"(?:{_NUM}(?:号院|号|弄|巷)|[0-9A-Za-z]{{1,5}}(?:号楼|座|栋|幢|单元|室))(?:{_UNIT_ZH}){{0,4}}"
_PROVINCE_START = rf"(?:{'|'.join(_PROVINCES)}){_PROV_SUFFIX}"


class CnAddressRecognizer(_CheckedPatternRecognizer):
    """ADDRESS in Chinese: province-led addresses or addresses after a label (地址：...).

    Scores 0.85 when the address ends in a house number, building or room,
    0.6 otherwise; addresses that start without a province need a label
    such as 地址, 住址 or 收货地址 in front of them.
    """

    ENTITY = "ADDRESS"
    PATTERNS = (
        ("cn_address_numbered", rf"{_PROVINCE_START}[\u4e00-\u9fff]{{1,24}}?{_SPECIFIC_END}"),
        ("cn_address_road", rf"{_PROVINCE_START}[\u4e00-\u9fff]{{1,20}}?{_ROAD}"),
    )
    BOUNDARY_RIGHT = False
    CONTEXT = ("地址", "住址", "住在", "家住", "寄到", "送到", "寄往", "address")
    _LABELLED = re.compile(
        r"(?:收货地址|家庭住址|通讯地址|寄送地址|联系地址|地址|住址|家住|住在|寄到|送到|寄往)[:：\s]{0,2}"
        rf"([\u4e00-\u9fff]{{2,25}}?(?:{_SPECIFIC_END}|{_ROAD}(?:{_SPECIFIC_END})?))"
    )

    #: Extra regexes the scanner's pre-filter must consider for this recognizer.
    GATE_EXTRA = (_LABELLED.pattern,)

    def check(self, value: str) -> bool:
        return True

    def score_candidate(self, value: str, has_context: bool) -> float | None:
        specific = bool(re.search(r"(?:号|室|栋|幢|座|单元|层)$", value))
        return 0.85 if specific or has_context else 0.6

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        taken = [(r.start, r.end) for r in results]
        extra = []
        for m in self._LABELLED.finditer(text):
            s, e = m.span(1)
            if any(s < te and ts < e for ts, te in taken):
                continue
            value = m.group(1)
            score = self.score_candidate(value, True)
            res = self._result(s, e, score, "cn_address_label")
            extra.append(res)
        return results + extra

    def _result(self, start, end, score, pattern_name):
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name,
                original_score=score,
                pattern_name=pattern_name,
                textual_explanation="Chinese address after a label",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
            },
        )


#: Maestro issuer prefixes (12-19 digits).
_MAESTRO = ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763")


def card_brand(number: str) -> str | None:
    """Card scheme from the issuer prefix and length, or None (UnionPay 62 excluded)."""
    n = re.sub(r"[ -]", "", number)
    if not n.isdigit() or len(n) < 12:
        return None
    length = len(n)
    p2, p3, p4 = int(n[:2]), int(n[:3]), int(n[:4])
    if n[:4] in _MAESTRO and 12 <= length <= 19:
        return "maestro"
    if length < 13:
        return None
    if n[0] == "4" and length in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and length == 16:
        return "mastercard"
    if p2 in (34, 37) and length == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65) and 16 <= length <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= length <= 19:
        return "jcb"
    if p4 in (1800, 2131) and length == 15:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= length <= 19:
        return "diners"
    return None


def card_grouping_ok(value: str) -> bool:
    """Separators, when present, split the number the way cards are printed.

    Groups of four (the last one shorter), Amex 4-6-5 and Diners 4-6-4 are
    card groupings; order numbers such as 123-4567890-1234567 are not.
    """
    groups = re.split(r"[ -]", value.strip())
    if len(groups) == 1:
        return True
    sizes = [len(g) for g in groups]
    if sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(x == 4 for x in sizes[:-1]) and 1 <= sizes[-1] <= 4


class PaymentCardRecognizer(_CheckedPatternRecognizer):
    """CREDIT_CARD numbers that Presidio's own pattern misses.

    Presidio's CREDIT_CARD regex covers 13-17 digits and no 2-series
    Mastercard. This one accepts 13-19 digits whose issuer prefix and length
    fit a card scheme and whose Luhn digit is valid (score 1.0). UnionPay
    (prefix 62) is reported as CN_BANK_CARD instead.
    """

    ENTITY = "CREDIT_CARD"
    PATTERNS = (("card_number", r"\d(?:[ -]?\d){11,18}"),)
    CONTEXT = ()

    def check(self, value: str) -> bool:
        return card_brand(value) is not None and luhn_valid(value)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if card_grouping_ok(text[r.start : r.end]) and not _inside_datetime(text, r.start, r.end)]


_DATE_LIKE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_IP_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PHONE_SEP = re.compile(r"[ \t]+")

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"
_TIME = r"(?:[T ]\s*(?:[01]?\d|2[0-3])(?::[0-5]\d){1,2}(?:[.,]\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?)"
#: Dates, date-times and times: never phone numbers, cards or IP addresses.
DATETIME_RX = re.compile(
    rf"(?<![\d.\-/])(?:"
    rf"{_YEAR}(?P<s1>[-/.]){_MONTH}(?P=s1){_DAY}{_TIME}?"
    rf"|{_DAY}(?P<s2>[-/.]){_MONTH}(?P=s2)(?:{_YEAR}|\d{{2}}){_TIME}?"
    rf"|{_MONTH}(?P<s3>[-/.]){_DAY}(?P=s3)(?:{_YEAR}|\d{{2}}){_TIME}?"
    rf"|{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[T ]?(?:[01]\d|2[0-3])[0-5]\d[0-5]\d)?"
    rf"|(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
    rf")(?![\d])"
)


def datetime_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of dates, date-times and clock times in ``text``."""
    return [m.span() for m in DATETIME_RX.finditer(text)]


def _inside_datetime(text: str, start: int, end: int, spans: list[tuple[int, int]] | None = None) -> bool:
    spans = datetime_spans(text) if spans is None else spans
    return any(s < end and start < e for s, e in spans)


#: A letter and a hyphen or slash right before the digits: part of a code (A-4831-329), not a phone.
_CODE_BEFORE = re.compile(r"[A-Za-z0-9][-/.]$")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}$", re.IGNORECASE)


class PhoneNumberRecognizer(_CheckedPatternRecognizer):
    """PHONE_NUMBER: phone-shaped digit groups confirmed by python-phonenumbers.

    Replaces Presidio's PhoneRecognizer, which runs the phonenumbers matcher
    for eight regions on every text and also accepts four-digit German
    numbers. Here a regex finds phone-shaped candidates (7-15 digits, an
    optional ``+``/``00`` prefix, brackets, dots, dashes, slashes or spaces);
    dates and dotted IPv4 addresses are skipped; a candidate is reported when
    ``phonenumbers`` parses it as a valid number, international (``+``) or
    national in one of ``regions``. Unformatted runs of more than 11 digits are
    not phone numbers. Score 0.6 when written like a phone number (prefix,
    brackets or two separators), 0.45 otherwise, 0.9 with a context word.
    When a run of digit groups is not one valid number, its sub-runs are
    tried, longest first.
    """

    ENTITY = "PHONE_NUMBER"
    PATTERNS = (
        (
            "phone_shape",
            r"(?:\+|00)?\(?\d[\d \t().\-/]{5,24}\d(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?",
        ),
    )
    CONTEXT = (
        "phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "number", "电话", "手机", "致电", "联系",
        "座机", "固话", "来电", "回电",
    )
    REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "CA", "AU", "IN", "BR", "CN")

    def __init__(self, supported_language: str = "en", regions=None, context=None, name=None):
        self.regions = tuple(regions or self.REGIONS)
        super().__init__(supported_language=supported_language, context=context, name=name)

    @staticmethod
    def _formatted(value: str) -> bool:
        """Written like a phone number: ``+``/``00`` prefix, brackets, an extension, two or more
        separators, or a trunk-prefixed area code and a separator (010-12345678)."""
        value = _EXTENSION.sub("", value)
        return (
            value.startswith(("+", "00", "("))
            or len(re.findall(r"[ \t.\-/()]+", value)) >= 2
            or re.match(r"0\d{1,4}[ \-]\d{5,8}$", value) is not None
        )

    @staticmethod
    def _digit_run(raw: str) -> bool:
        """Single digits separated by spaces (2 3 4 5 6 7 8): a list of values, not a number."""
        groups = re.findall(r"\d+", raw)
        return sum(len(g) == 1 for g in groups) >= 3

    @staticmethod
    def _digits(value: str) -> int:
        return sum(ch.isdigit() for ch in value)

    def _valid(self, raw: str) -> bool:
        import phonenumbers

        raw = _EXTENSION.sub("", raw.strip(" \t-./"))
        n = self._digits(raw)
        if not 7 <= n <= 15 or _DATE_LIKE.match(raw) or _IP_LIKE.match(raw) or self._digit_run(raw):
            return False
        if raw.isdigit() and n > 11:  # long unformatted runs are order or account numbers
            return False
        if raw.count("(") != raw.count(")"):
            raw = raw.replace("(", "").replace(")", "")
        try:
            if raw.startswith(("+", "00")):
                num = phonenumbers.parse("+" + raw[2:] if raw.startswith("00") else raw, None)
                return phonenumbers.is_valid_number(num)
            for region in self.regions:
                try:
                    num = phonenumbers.parse(raw, region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_valid_number(num):
                    return True
        except phonenumbers.NumberParseException:
            return False
        return False

    def check(self, value: str) -> bool:  # value has spaces and dashes removed
        return self._valid(value)

    def _plausible(self, raw: str) -> bool:
        """The checks of :meth:`_valid` that come before python-phonenumbers."""
        raw = _EXTENSION.sub("", raw.strip(" \t-./"))
        n = self._digits(raw)
        if not 7 <= n <= 15 or _DATE_LIKE.match(raw) or _IP_LIKE.match(raw) or self._digit_run(raw):
            return False
        return not (raw.isdigit() and n > 11)

    def _best_score(self, text: str, start: int, end: int) -> float:
        if self.has_context(text, start, end):
            return 0.9
        return 0.6 if self._formatted(text[start:end]) else 0.45

    def gate(self, text: str, min_score: float = 0.0) -> bool:
        """Necessary condition for :meth:`analyze` to return a result scoring at
        least ``min_score`` (used by the scanner's pre-filter)."""
        for compiled in self._compiled:
            for m in compiled.finditer(text):
                base = m.start()
                toks = [(base + t.start(), base + t.end()) for t in re.finditer(r"[^ \t]+", m.group())]
                for i in range(len(toks)):
                    for j in range(i, len(toks)):
                        s, e = toks[i][0], toks[j][1]
                        if self._plausible(text[s:e]) and self._best_score(text, s, e) >= min_score:
                            return True
        return False

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        results = []
        dates = datetime_spans(text)
        for compiled in self._compiled:
            for m in compiled.finditer(text):
                if self._grouped_long_run(m.group()):
                    continue
                for s, e in self._sub_runs(text, m.start(), m.end()):
                    if _inside_datetime(text, s, e, dates) or _CODE_BEFORE.search(text, max(0, s - 2), s):
                        continue
                    score = self._best_score(text, s, e)
                    results.append(
                        RecognizerResult(
                            entity_type=self.ENTITY,
                            start=s,
                            end=e,
                            score=score,
                            analysis_explanation=AnalysisExplanation(
                                recognizer=self.name,
                                original_score=score,
                                pattern_name="phone_shape",
                                textual_explanation="valid number according to python-phonenumbers",
                            ),
                            recognition_metadata={
                                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                            },
                        )
                    )
        return results

    @staticmethod
    def _grouped_long_run(raw: str) -> bool:
        """More than 15 digits printed in groups of four (a card, an account or a tracking
        number): no phone number hides inside."""
        raw = _EXTENSION.sub("", raw)
        groups = re.findall(r"\d+", raw)
        return sum(len(g) for g in groups) > 15 and sum(len(g) == 4 for g in groups) >= 3

    def _sub_runs(self, text: str, start: int, end: int):
        """Valid numbers inside text[start:end]: the whole run, else token sub-runs, longest first."""
        raw = text[start:end]
        if self._valid(raw):
            return [(start, end)]
        toks = [(start + m.start(), start + m.end()) for m in re.finditer(r"[^ \t]+", raw)]
        if len(toks) < 2:
            return []
        found = []
        spans = sorted(
            ((i, j) for i in range(len(toks)) for j in range(i, len(toks)) if (i, j) != (0, len(toks) - 1)),
            key=lambda ij: (-(ij[1] - ij[0]), ij[0]),
        )
        for i, j in spans:
            s, e = toks[i][0], toks[j][1]
            if any(s < fe and fs < e for fs, fe in found):
                continue
            if self._valid(text[s:e]):
                found.append((s, e))
        return sorted(found)


_IBAN_RX = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}(?:[ ]?[0-9A-Za-z]{4}){2,7}(?:[ ]?[0-9A-Za-z]{1,3})?(?![0-9A-Za-z])")


def iban_valid(value: str) -> bool:
    """Country length and ISO 7064 mod-97 check digits (python-stdnum), any letter case."""
    from stdnum import iban

    try:
        iban.validate(re.sub(r"\s", "", value).upper(), check_country=False)
    except Exception:  # stdnum's ValidationError family
        return False
    return True


class IbanCodeRecognizer(_CheckedPatternRecognizer):
    """IBAN_CODE in print (groups of four), compact or lower-case form, checked by mod 97.

    Presidio's IBAN pattern is upper-case only. When a match is longer than
    the IBAN (a word or a number follows), the longest prefix of whole groups
    that passes the check is reported. Score 1.0.
    """

    ENTITY = "IBAN_CODE"
    PATTERNS = (("iban", _IBAN_RX.pattern),)
    CONTEXT = ()
    GATE_QUICK = r"[A-Za-z]{2}\d{2}"

    def check(self, value: str) -> bool:
        return iban_valid(value)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        out = []
        for m in _IBAN_RX.finditer(text):
            start, end = m.span()
            found = None
            for cut in range(end, start + 14, -1):
                if text[cut - 1] == " " or (cut < end and text[cut] not in " " and " " in text[start:end]):
                    continue  # only whole groups when the IBAN is printed in groups
                if iban_valid(text[start:cut]):
                    found = cut
                    break
            if found is None:
                continue
            out.append(
                RecognizerResult(
                    entity_type=self.ENTITY,
                    start=start,
                    end=found,
                    score=1.0,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=self.name, original_score=1.0, pattern_name="iban", textual_explanation="mod-97 check passed"
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                    },
                )
            )
        return out


# European street addresses ---------------------------------------------------
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’\-]*"
_LOW_JOIN = r"(?:de|del|de la|de las|de los|du|des|de l'|d'|di|della|dei|delle|da|dos|das|van|von|der|den|am|an der|im|la|le|les|el|sur|sous)"
#: Street-type words written after the name, fused (Hauptstraße) or separate (Berliner Straße).
_EU_SUFFIX = (
    r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad|markt|"
    r"gracht|straat|laan|plein|kade|steeg|dijk|singel|hof|"
    r"vej|gade|gatan|vägen|väg|gata|veien|gate|katu|tie)"
)
_EU_NUM = r"\d{1,4}(?:\s?[a-zA-Z](?![\w]))?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?)?"
_EU_GERMANIC = (
    rf"(?:(?:Am|An der|Auf dem|Im|In der|Zum|Zur|Unter den|Alte|Neue|Große|Kleine)\s+{_CAP}"
    rf"|(?:{_CAP}[ \-])?[A-ZÀ-ÖØ-Þ][\w\-]*{_EU_SUFFIX}"
    rf"|{_CAP}(?:er|sche|ner)?\s+(?:Straße|Strasse|Str\.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Markt))"
    rf"\s+{_EU_NUM}"
)
_ROMANCE_TYPE = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|allée|chemin|impasse|quai|route|cours|passage|square|"
    r"Calle|C/|Avenida|Avda\.|Paseo|Plaza|Camino|Carrer|Carretera|Ronda|Travesía|Rua|Avenida|Largo|Praça|Travessa|"
    r"Via|Viale|Corso|Piazza|Piazzale|Vicolo|Strada|Lungomare)"
)
_ROMANCE_NAME = rf"(?:{_LOW_JOIN}\s+)?{_CAP}(?:[ \-](?:{_LOW_JOIN}\s+)?{_CAP}){{0,3}}"
#: French style: number first (12 rue de la Paix); Spanish/Italian/Portuguese: number last (Via Roma 10).
_EU_FR = rf"\d{{1,4}}(?:\s?(?:bis|ter|[a-z](?![\w])))?,?\s+{_ROMANCE_TYPE}\s+{_ROMANCE_NAME}"
_EU_SOUTH = rf"{_ROMANCE_TYPE}\s+{_ROMANCE_NAME},?\s+(?:n[º°o]\.?\s*)?{_EU_NUM}"
_EU_CITY = rf"{_CAP}(?:[ \-](?:am|an der|an|sur|sous|de|del|di|la|le|en|im|bei)?\s?{_CAP}){{0,2}}"
#: Postcode and town: 10115 Berlin, 75002 Paris, 1015 CJ Amsterdam, 00184 Roma, L-1234 Luxembourg.
_EU_TAIL = rf"(?:,?\s+(?:[A-Z]{{1,2}}-)?\d{{4,5}}(?:\s?[A-Z]{{2}}(?![\w]))?\s+{_EU_CITY})"


class EuStreetAddressRecognizer(PatternRecognizer):
    """ADDRESS: European street addresses (German, Dutch, Nordic, French, Spanish, Italian, Portuguese).

    A street with a house number scores 0.6 (Hauptstraße 12, 12 rue de la
    Paix, Via Roma 10); followed by a postcode and town (``, 10115 Berlin``)
    0.9. Street words must be capitalised where the language capitalises them
    and a house number is required, so product names with a number (Windows
    11) do not match. Context words raise the score.
    """

    PATTERNS = (
        Pattern("eu_street_full", rf"(?<![\w])(?:{_EU_GERMANIC}|{_EU_FR}|{_EU_SOUTH}){_EU_TAIL}", 0.9),
        Pattern("eu_street", rf"(?<![\w])(?:{_EU_GERMANIC}|{_EU_FR}|{_EU_SOUTH})(?![\w])", 0.6),
    )
    CONTEXT = EnStreetAddressRecognizer.CONTEXT + ("adresse", "anschrift", "dirección", "indirizzo", "adres", "wohne")

    def __init__(self, supported_language: str = "en", name: str | None = None):
        super().__init__(
            supported_entity="ADDRESS",
            name=name or f"EuStreetAddressRecognizer_{supported_language}",
            supported_language=supported_language,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )


# English names in context ----------------------------------------------------
def _load_words(name: str) -> frozenset[str]:
    from pathlib import Path

    path = Path(__file__).with_name("data") / name
    out: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        out.update(w.lower() for w in line.split())
    return frozenset(out)


def not_a_name(value: str) -> bool:
    """Words of ``value`` are all product, brand, team or state words (en_not_names.txt),
    or ``value`` looks like an identifier (``product_id``) or an abbreviation (``P.S.``)."""
    v = value.strip()
    if "_" in v or re.fullmatch(r"(?:[A-Za-z]\.){1,4}", v) or re.search(r"[@/\\#=<>{}\[\]]", v):
        return True
    words = [w for w in re.split(r"[\s\-]+", v.lower()) if w]
    deny = _deny_words()
    return bool(words) and all(w.strip(".,'’") in deny for w in words)


@functools.cache
def _deny_words() -> frozenset[str]:
    return _load_words("en_not_names.txt")


@functools.cache
def _common_words() -> frozenset[str]:
    """Common English words (Faker's lorem list): a capitalised one after a weak cue such as
    "Thanks" is a word, not a name ("Thanks Again")."""
    from faker.providers.lorem.en_US import Provider

    return frozenset(w.lower() for w in Provider.word_list) | _deny_words()


@functools.cache
def name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """First names and last names of every locale of Faker's person providers (a core
    dependency; about 31,000 first names), read from the installed package."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()

    def add(target: set[str], value) -> None:
        if isinstance(value, dict):
            value = list(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            target.update(v for v in value if isinstance(v, str) and v[:1].isupper() and v.isalpha())

    for info in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"faker.providers.person.{info.name}").Provider
        except (ImportError, AttributeError):  # pragma: no cover - a broken locale
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            add(first, provider.__dict__.get(attr))
        add(last, provider.__dict__.get("last_names"))
    return frozenset(first), frozenset(last)


_MONTHS_DAYS = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)

_NAME_TOKEN = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+)?"
_PARTICLE = r"(?:van der|van den|van de|van|von|de la|de|del|della|di|da|dos|du|le|la|al|bin|ibn|O'|Mc)"
_NAME = rf"(?P<name>{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{0,2}})"
_FIRST_ONLY = rf"(?P<name>{_NAME_TOKEN})"
_KIN = (
    r"son|daughter|kid|child|baby|wife|husband|partner|spouse|fianc[ée]e?|mother|mom|mum|mommy|mummy|father|dad|"
    r"daddy|brother|sister|stepson|stepdaughter|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|"
    r"granny|aunt|uncle|niece|nephew|cousin|friend|colleague|coworker|co-worker|manager|neighbou?r|boss|flatmate|"
    r"roommate|girlfriend|boyfriend|assistant|caregiver|carer|tenant|landlord|landlady|lawyer|accountant"
)
_ROLE = (
    r"agent|driver|waiter|waitress|server|guide|technician|tech|courier|receptionist|concierge|host|hostess|nurse|"
    r"doctor|customer|client|holder|owner|barista|chef|cleaner|housekeeper|coach|trainer|instructor|teacher|stylist|"
    r"consultant|advisor|adviser|rep|representative|salesman|saleswoman|salesperson|cashier|manager|supervisor|"
    r"engineer|installer|plumber|electrician|porter|valet|bartender|pharmacist|therapist|dentist|vet|tutor"
)
#: (regex, score, strong): strong cues accept common words as names ("my son Will").
_CUES = (
    (rf"\b(?:[Mm]y|[Oo]ur|[Yy]our|[Hh]is|[Hh]er|[Tt]heir)\s+(?:(?:little|eldest|youngest|older|younger|oldest|"
     rf"elder|late|ex|new|former|best)\s+)?(?:{_KIN})\s*,?\s+{_NAME}", 0.95, True),
    (rf"\b(?:[Mm]y name is|[Mm]y name's|[Nn]ame(?:\s*:)|[Nn]amed|[Cc]alled|[Ss]igned|[Tt]his is|[Ii]t'?s|[Ii]t is|"
     rf"I'm|I am)\s+{_NAME}", 0.9, False),
    (rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Mme|Mlle|Herr|Frau|Sr|Sra|Srta|Sig|Sig\.ra)\.?\s+{_NAME}", 0.95, True),
    (rf"\b(?:Dear|Attn|Attention|[Cc]c)\s*:?\s+{_NAME}", 0.9, False),
    (rf"\b(?:[Aa]sk(?:ed)? for|[Ss]peak(?:ing)? (?:to|with)|[Ss]poke (?:to|with)|[Tt]alk(?:ed)? (?:to|with)|"
     rf"[Cc]hatted with|[Pp]assed (?:this|it)(?: on)? to|[Ll]eft (?:a )?(?:voicemail|message) for|[Cc]all(?:ed)? back|"
     rf"[Ee]scalated to|[Hh]anded (?:this |it )?(?:over )?to|[Aa]ssigned to|[Tt]hanks to|[Tt]hank you|[Mm]et with|"
     rf"[Ff]orwarded to|[Rr]eferred to|[Ss]erved by|[Hh]elped by|[Cc]ontact)\s*,?\s+{_NAME}", 0.9, False),
    (rf"\b(?:{_ROLE})\s*,?\s+{_NAME}", 0.9, False),
    (rf"(?:^|[\n.!?:]\s*|\b(?:and|or)\s+)(?:Hi|Hello|Hey|Thanks|Thank you|Thx|Cheers|Bye|Goodbye|Morning|Evening|"
     rf"Welcome|Congrats|Sorry)[,!]?\s+{_FIRST_ONLY}(?=\s*[,!.?:;)]|\s*$)", 0.86, False),
    (rf"(?:^|[\n:]\s*|\b(?:Customer|Agent|Client|User)\s*:\s*){_FIRST_ONLY}(?=\s+here\b)", 0.9, False),
    (rf"(?<![\w.] )\b{_FIRST_ONLY}(?=\s+(?:at|from|on) the (?:front desk|reception|desk|counter|till|bar|door))",
     0.86, False),
    (rf"\b{_FIRST_ONLY}(?=,\s+(?:she|he)\s+(?:will|was|is|has|had|said|knows|called|told|helped|fixed))", 0.86, False),
)
_CUE_GATE = re.compile(
    r"\b(?:my|our|your|his|her|their|name|named|called|signed|this is|it'?s|it is|I'?m|I am|Mr|Mrs|Ms|Miss|Mx|Dr|"
    r"Prof|Mme|Mlle|Herr|Frau|Sra?|Dear|Attn|Attention|cc|ask|speak|spoke|talk|chatted|passed|left|call|escalated|"
    r"handed|assigned|thanks?|met|forwarded|referred|served|helped|contact|hi|hello|hey|thx|cheers|bye|goodbye|"
    r"morning|evening|welcome|congrats|sorry|here|she|he|the front|" + _ROLE + r")\b",
    re.IGNORECASE,
)


class EnPersonContextRecognizer(LocalRecognizer):
    """PERSON in English text from the words around a capitalised name.

    Finds first names and full names after a relation or role ("my kid Agi",
    "driver Noor", "Mr. Walsh"), an introduction ("my name is", "this is"),
    a greeting or thanks ("Hi Priya,"), or before "here" ("Ilse here"). Works
    without a NER model. Names whose words are all product, brand, team or
    state words are dropped; after a greeting or thanks, common English words
    are too ("Thanks Again"). Scores 0.86-0.95.
    """

    ENTITY = "PERSON"

    def __init__(self, supported_language: str = "en", name: str | None = None):
        self._cues = [(re.compile(rx), score, strong) for rx, score, strong in _CUES]
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name=name or f"EnPersonContextRecognizer_{supported_language}",
            context=None,
        )

    def load(self) -> None:
        pass

    #: Score of a first name recognised from the name list alone, and with a surname after it.
    LEXICON_SCORE = 0.6
    LEXICON_FULL_SCORE = 0.75
    _CAP_WORD = re.compile(rf"(?<![\w'’\-]){_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN})?(?![\w'’])")

    def _lexicon_names(self, text: str) -> dict[tuple[int, int], float]:
        """Capitalised words in the first-name list that are not common words, with the
        next capitalised word as a surname."""
        first, last = name_lexicon()
        common = _common_words()
        out: dict[tuple[int, int], float] = {}
        for m in self._CAP_WORD.finditer(text):
            words = m.group().split()
            head = words[0]
            if len(head) < 3 or head not in first or head.lower() in common or head.lower() in _MONTHS_DAYS:
                continue
            s = m.start()
            if len(words) > 1 and words[-1].lower() not in common and not not_a_name(words[-1]):
                out[(s, m.end())] = self.LEXICON_FULL_SCORE
            else:
                out[(s, s + len(head))] = self.LEXICON_SCORE
        return out

    def gate(self, text: str, min_score: float = 0.0) -> bool:
        if _CUE_GATE.search(text) is not None:
            return True
        first = name_lexicon()[0]
        return any(m.group() in first for m in re.finditer(r"(?<![\w'’\-])[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+", text))

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        found: dict[tuple[int, int], float] = {}
        common = _common_words()
        for rx, score, strong in self._cues:
            for m in rx.finditer(text):
                s, e = m.span("name")
                value = text[s:e]
                # trailing words that are not names ("Agi from" cannot happen: lower case stops)
                words = value.split()
                while words and words[-1].lower() in _deny_words():
                    words.pop()
                if not words:
                    continue
                e = s + len(" ".join(words)) if " ".join(words) == text[s : s + len(" ".join(words))] else e
                value = text[s:e]
                if not_a_name(value):
                    continue
                if not strong and len(words) == 1 and words[0].lower() in common:
                    continue
                if found.get((s, e), 0) < score:
                    found[(s, e)] = score
        for span, score in self._lexicon_names(text).items():
            if not any(s < span[1] and span[0] < e for (s, e) in found) and not not_a_name(text[span[0] : span[1]]):
                found[span] = score
        out = []
        for (s, e), score in sorted(found.items()):
            if any(s2 <= s and e <= e2 and (s2, e2) != (s, e) for (s2, e2) in found):
                continue  # keep the longest of nested candidates
            out.append(
                RecognizerResult(
                    entity_type=self.ENTITY,
                    start=s,
                    end=e,
                    score=score,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=self.name, original_score=score, textual_explanation="capitalised name after a cue"
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                    },
                )
            )
        return out
