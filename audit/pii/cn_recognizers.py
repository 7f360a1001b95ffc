"""Recognizers for identifiers used in mainland China.

Every recognizer follows the same flow: a broad regular expression finds
candidates, separators (spaces, dashes) are stripped, a strict check
(checksum, date, prefix table) decides, and a score is assigned from the
outcome of the check and from context words near the match.

Matches are delimited with look-around assertions instead of ``\\b``:
Python treats CJK characters as word characters, so ``\\b`` never fires
between ``号`` and ``1`` in ``身份证号11010519491231002X``.

The checksum helpers (:func:`luhn_valid`, :func:`ric_valid`,
:func:`uscc_valid`) and :func:`cn_resident_id_info` are usable on their own,
for instance to check that a stored birth date agrees with an ID number.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)

__all__ = [
    "ChinesePersonRecognizer",
    "CnBankCardRecognizer",
    "CnMobileRecognizer",
    "CnPassportRecognizer",
    "CnResidentIdRecognizer",
    "CnUsccRecognizer",
    "cn_mobile_prefix_valid",
    "cn_recognizers",
    "cn_resident_id_info",
    "luhn_valid",
    "ric_from_legacy",
    "ric_valid",
    "uscc_valid",
]

_DATA_DIR = Path(__file__).with_name("data")

#: Left and right boundaries: no ASCII letter or digit may touch the match.
_L = r"(?<![0-9A-Za-z])"
_R = r"(?![0-9A-Za-z])"
_SEPARATORS = re.compile(r"[- ]")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value)


# --------------------------------------------------------------------------
# Checksums and helpers
# --------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    """Return True when ``number`` (digits, spaces and dashes allowed) passes Luhn."""
    digits = _compact(str(number))
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for pos, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if pos % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
#: First two digits of a resident ID: province-level division codes.
_RIC_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    ]
)


def ric_from_legacy(value: str) -> str | None:
    """The 18-character form of a 15-digit GB 11643-1989 resident ID, else None.

    Legacy numbers (issued until 1999) hold a 6-digit division code, a 6-digit
    birth date without century (always 19xx) and a 3-digit sequence, and no
    check character. The conversion inserts "19" before the year and appends
    the MOD 11-2 check character; the date is not checked here.
    """
    digits = _compact(str(value))
    if len(digits) != 15 or not digits.isascii() or not digits.isdigit():
        return None
    body = digits[:6] + "19" + digits[6:]
    return body + _RIC_CHECK[sum(int(c) * w for c, w in zip(body, _RIC_WEIGHTS)) % 11]


def _ric_parts(value: str, legacy: bool = False) -> tuple[str, _dt.date] | None:
    """Return (normalised id, birth date) when checksum and date are valid.

    With ``legacy`` a 15-digit number is accepted through :func:`ric_from_legacy`.
    """
    ric = _compact(str(value)).upper()
    if legacy and len(ric) == 15:
        upgraded = ric_from_legacy(ric)
        if upgraded is None:
            return None
        ric = upgraded
    if len(ric) != 18 or not ric[:17].isascii() or not ric[:17].isdigit():
        return None
    if ric[17] not in "0123456789X":
        return None
    total = sum(int(c) * w for c, w in zip(ric[:17], _RIC_WEIGHTS))
    if _RIC_CHECK[total % 11] != ric[17]:
        return None
    try:
        born = _dt.date(int(ric[6:10]), int(ric[10:12]), int(ric[12:14]))
    except ValueError:
        return None
    if born.year < 1850 or born > _dt.date.today():
        return None
    return ric, born


def ric_valid(value: str, check_region: bool = False, legacy: bool = False) -> bool:
    """Validate a GB 11643-1999 resident identity number (18 characters).

    Checks the ISO 7064 MOD 11-2 check character and that positions 7-14
    form a real date that is not in the future. With ``check_region`` the
    first two digits must also be a province-level division code. With
    ``legacy`` a 15-digit GB 11643-1989 number is also accepted; it has no
    check character, so only its date (and region, if asked) is checked.
    """
    parts = _ric_parts(value, legacy=legacy)
    if parts is None:
        return False
    return not (check_region and parts[0][:2] not in _RIC_PROVINCES)


def cn_resident_id_info(value: str) -> tuple[_dt.date, str] | None:
    """Return ``(birth_date, sex)`` of a valid resident ID, else None.

    ``sex`` is ``"male"`` when the sequence's last digit (the 17th of an
    18-character ID, the 15th of a legacy 15-digit one) is odd and
    ``"female"`` when it is even. Legacy numbers are read as born in 19xx.
    """
    parts = _ric_parts(value, legacy=True)
    if parts is None:
        return None
    ric, born = parts
    return born, ("male" if int(ric[16]) % 2 == 1 else "female")


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def uscc_valid(value: str) -> bool:
    """Validate a GB 32100-2015 unified social credit code (18 characters)."""
    code = _compact(str(value)).upper()
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    if not code[2:8].isdigit():
        return False
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(code, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


# Three-digit mobile prefixes allocated to carriers for 11-digit numbers
# (China Mobile, China Unicom, China Telecom, China Broadnet and MVNOs).
_CN_MOBILE_PREFIXES = frozenset(
    [str(p) for p in range(130, 140)]
    + ["145", "147", "149"]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + ["162", "165", "166", "167"]
    + ["170", "171", "172", "173", "175", "176", "177", "178"]
    + [str(p) for p in range(180, 190)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)


def cn_mobile_prefix_valid(value: str) -> bool:
    """True when an 11-digit mobile number (optionally +86) has a carrier prefix."""
    digits = _compact(str(value)).lstrip("+")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return len(digits) == 11 and digits.isdigit() and digits[:3] in _CN_MOBILE_PREFIXES


# --------------------------------------------------------------------------
# Recognizer base class
# --------------------------------------------------------------------------


class _CheckedPatternRecognizer(PatternRecognizer):
    """Pattern recognizer with checksum-aware scoring and character-window context.

    Subclasses define ``ENTITY``, ``PATTERNS`` (broad), ``CONTEXT`` and
    implement :meth:`score_candidate`. Context words are searched, lower-cased,
    in a window of characters around the match, which works for Chinese text
    where there are no spaces between words. Presidio's token-based context
    enhancer is bypassed: the results are flagged as already enhanced.
    """

    ENTITY = ""
    PATTERNS: Sequence[tuple[str, str]] = ()
    CONTEXT: Sequence[str] = ()
    WINDOW_BEFORE = 16
    WINDOW_AFTER = 8
    BOUNDARY_RIGHT = True

    def __init__(
        self,
        supported_language: str = "zh",
        context: Iterable[str] | None = None,
        name: str | None = None,
    ):
        self.context_words = tuple(w.lower() for w in (context or self.CONTEXT))
        right = _R if self.BOUNDARY_RIGHT else ""
        patterns = [Pattern(pname, _L + rx + right, 0.5) for pname, rx in self.PATTERNS]
        super().__init__(
            supported_entity=self.ENTITY,
            name=name or f"{type(self).__name__}_{supported_language}",
            supported_language=supported_language,
            patterns=patterns,
            context=None,
            global_regex_flags=re.DOTALL | re.MULTILINE,
        )
        # Presidio compiles with the third-party ``regex`` module; the
        # standard module is enough here and is faster on short texts.
        self._compiled = [re.compile(p.regex) for p in self.patterns]

    # -- hooks -------------------------------------------------------------
    def check(self, value: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def score_candidate(self, value: str, has_context: bool) -> float | None:
        """Return a score for a normalised candidate, or None to drop it."""
        if self.check(value):
            return 1.0
        return None

    def validate_result(self, pattern_text: str) -> bool | None:
        return self.check(_compact(pattern_text))

    # -- helpers -----------------------------------------------------------
    def has_context(self, text: str, start: int, end: int) -> bool:
        if not self.context_words:
            return False
        window = text[max(0, start - self.WINDOW_BEFORE) : start].lower()
        window += " " + text[end : end + self.WINDOW_AFTER].lower()
        return any(w in window for w in self.context_words)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results: list[RecognizerResult] = []
        for pattern, compiled in zip(self.patterns, self._compiled):
            for match in compiled.finditer(text):
                start, end = match.span()
                value = _compact(match.group())
                ctx = self.has_context(text, start, end)
                score = self.score_candidate(value, ctx)
                if score is None or score <= 0:
                    continue
                explanation = AnalysisExplanation(
                    recognizer=self.name,
                    original_score=score,
                    pattern_name=pattern.name,
                    pattern=pattern.regex,
                    validation_result=self.check(value),
                    textual_explanation=(
                        f"{self.ENTITY} candidate '{pattern.name}', "
                        f"check={'pass' if self.check(value) else 'fail'}, "
                        f"context={'yes' if ctx else 'no'}"
                    ),
                )
                results.append(
                    RecognizerResult(
                        entity_type=self.ENTITY,
                        start=start,
                        end=end,
                        score=score,
                        analysis_explanation=explanation,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                        },
                    )
                )
        return EntityRecognizer.remove_duplicates(results)


# --------------------------------------------------------------------------
# Concrete recognizers
# --------------------------------------------------------------------------


class CnResidentIdRecognizer(_CheckedPatternRecognizer):
    """CN_RESIDENT_ID: resident identity card number (GB 11643).

    18-character numbers are decided by their check character. Legacy
    15-digit numbers (GB 11643-1989) have none: a real 19xx birth date and a
    province code are all that can be checked, which many 15-digit numbers
    (IMEIs, order numbers) also pass. Next to an ID word they score 1.0, so
    that they win over a 15-digit card number reading of the same digits
    (one in ten pass Luhn); without one 0.3, below the default threshold.
    """

    ENTITY = "CN_RESIDENT_ID"
    PATTERNS = (
        (
            "cn_ric",
            (
                r"[1-9]\d{5}[- ]?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                r"[- ]?\d{3}[\dXx]"
            ),
        ),
        ("cn_ric_legacy", r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"),
    )
    CONTEXT = ("身份证", "证件", "公民身份", "身份号", "id card", "identity", "resident id")

    def check(self, value: str) -> bool:
        return ric_valid(value, check_region=True, legacy=True)

    def score_candidate(self, value, has_context):
        if len(value) == 15:
            if not self.check(value):
                return None
            return 1.0 if has_context else 0.3
        if self.check(value):
            return 1.0
        # A wrong check character next to an explicit label is probably a typo;
        # reported only when the threshold is lowered.
        if has_context:
            return 0.4
        return None


class CnMobileRecognizer(_CheckedPatternRecognizer):
    """CN_MOBILE: 11-digit mobile numbers, optionally with +86."""

    ENTITY = "CN_MOBILE"
    PATTERNS = (("cn_mobile", r"(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}"),)
    CONTEXT = ("手机", "电话", "联系", "致电", "来电", "号码", "微信", "mobile", "phone", "tel", "call")

    def check(self, value: str) -> bool:
        return cn_mobile_prefix_valid(value)

    def score_candidate(self, value, has_context):
        if not self.check(value):
            return 0.3 if has_context else None
        score = 0.7
        if value.lstrip("+").startswith("86") and len(value.lstrip("+")) == 13:
            score = 0.85
        if has_context:
            score = max(score, 0.95)
        return score


class CnBankCardRecognizer(_CheckedPatternRecognizer):
    """CN_BANK_CARD: 16-19 digit bank card numbers (UnionPay and others).

    Presidio's CREDIT_CARD pattern stops at 17 digits and misses 19-digit
    UnionPay debit cards. Scores: prefix 62 with a valid Luhn digit 1.0;
    other Luhn-valid numbers 0.85 with context, else 0.3 (CREDIT_CARD covers
    most of those); Luhn failure next to a context word 0.5.
    """

    ENTITY = "CN_BANK_CARD"
    PATTERNS = (("cn_bank_card", r"\d{4}(?:[ -]?\d{4}){2}[ -]?\d{4}(?:[ -]?\d{1,3})?"),)
    CONTEXT = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "银联", "账号", "帐号", "开户", "unionpay")

    def check(self, value: str) -> bool:
        return 16 <= len(value) <= 19 and luhn_valid(value)

    def score_candidate(self, value, has_context):
        if not 16 <= len(value) <= 19:
            return None
        if luhn_valid(value):
            if value.startswith("62"):
                return 1.0
            return 0.85 if has_context else 0.3
        return 0.5 if has_context else None


class CnUsccRecognizer(_CheckedPatternRecognizer):
    """CN_USCC: unified social credit code of an organisation (GB 32100-2015).

    It identifies an organisation, but for individually owned businesses
    (个体工商户) it points to a natural person.
    """

    ENTITY = "CN_USCC"
    PATTERNS = (("cn_uscc", r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"),)
    CONTEXT = ("信用代码", "统一社会", "税号", "纳税人识别号", "营业执照", "uscc", "credit code")

    def check(self, value: str) -> bool:
        return uscc_valid(value)

    def score_candidate(self, value, has_context):
        if self.check(value):
            # Numbers made only of digits also look like other identifiers.
            return 1.0 if (has_context or not value.isdigit()) else 0.85
        return 0.4 if has_context else None


class CnPassportRecognizer(_CheckedPatternRecognizer):
    """CN_PASSPORT: passport numbers of the PRC; there is no check digit.

    Reported only next to a context word (护照, passport...).
    """

    ENTITY = "CN_PASSPORT"
    PATTERNS = (("cn_passport", r"(?:E\d{8}|E[A-HJ-NP-Z]\d{7}|(?:DE|SE|PE)\d{7}|G\d{8}|K\d{8}|MA\d{7})"),)
    CONTEXT = ("护照", "passport", "旅行证件", "出入境")
    WINDOW_BEFORE = 20

    def check(self, value: str) -> bool:
        return True

    def score_candidate(self, value, has_context):
        return 0.8 if has_context else None


# --------------------------------------------------------------------------
# Chinese personal names
# --------------------------------------------------------------------------


def _load_lines(name: str) -> list[str]:
    path = _DATA_DIR / name
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.extend(line.split())
    return out


_HAN = r"[\u4e00-\u9fff]"
_HAN_RX = re.compile(_HAN)


class ChinesePersonRecognizer(LocalRecognizer):
    """PERSON in Chinese text: jieba part-of-speech ``nr`` plus surname and context rules.

    Candidates come from three sources:

    * a word tagged ``nr`` by ``jieba.posseg`` that starts with a known surname
      and has 2-4 characters (score 0.55);
    * surname + one or two characters right before an honorific such as
      先生, 女士, 经理 (score 0.75);
    * surname + one or two characters right after a label such as 姓名, 客户,
      联系人, 收件人 (score 0.8).

    A context word within a few characters adds 0.25 to the score. Words on
    the stop list (place and brand names that jieba mis-tags) are ignored.
    The lexicons live in ``audit/pii/data`` and can be extended.
    """

    ENTITY = "PERSON"
    BASE_NR = 0.55
    HONORIFIC_SCORE = 0.75
    LABEL_SCORE = 0.8
    CONTEXT_BONUS = 0.25

    def __init__(self, supported_language: str = "zh", name: str | None = None):
        self._surnames: frozenset = frozenset()
        self._compound: tuple[str, ...] = ()
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name=name or f"ChinesePersonRecognizer_{supported_language}",
            context=None,
        )

    def load(self) -> None:
        import logging

        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        surnames = _load_lines("cn_surnames.txt")
        self._surnames = frozenset(s for s in surnames if len(s) == 1)
        self._compound = tuple(sorted((s for s in surnames if len(s) == 2), key=len, reverse=True))
        self._honorifics = tuple(_load_lines("cn_name_honorifics.txt"))
        self._labels = tuple(_load_lines("cn_name_labels.txt"))
        self._stop = frozenset(_load_lines("cn_name_stoplist.txt"))
        self._given_chars = frozenset("".join(_load_lines("cn_given_name_chars.txt")))
        import jieba as _jieba

        _jieba.dt.check_initialized()
        self._dictionary = _jieba.dt.FREQ
        sur = "|".join(sorted(self._compound, key=len, reverse=True) + sorted(self._surnames))
        hon = "|".join(sorted(self._honorifics, key=len, reverse=True))
        lab = "|".join(sorted(self._labels, key=len, reverse=True))
        # surname + 1-2 characters right before an honorific
        self._rx_honorific = re.compile(rf"(?:{sur}){_HAN}{{1,2}}?(?={hon})")
        # label, optional colon or verb, then the start of a surname
        self._rx_label = re.compile(rf"(?:{lab})[:：\s是为叫]{{0,2}}(?=(?:{sur}){_HAN})")
        self._posseg = jieba.posseg
        self._posseg.lcut("初始化")  # builds jieba's dictionary once

    #: Candidates found by jieba's part-of-speech tag alone.
    _TAG_ONLY = ("jieba nr tag", "surname + given name (jieba)")

    def plausible_name(self, word: str) -> bool:
        """Without context, a name needs a given name of usual name characters and must
        not be a dictionary word (马虎, 陈旧 and 安静 are in jieba's dictionary; 张伟 is not)."""
        if self._dictionary.get(word, 0) > 0:
            return False
        given = word[self._surname_len(word, 0) :]
        return bool(given) and all(ch in self._given_chars for ch in given)

    def _starts_with_surname(self, word: str) -> bool:
        if word[:2] in self._compound:
            return len(word) >= 3
        return word[:1] in self._surnames

    def _surname_len(self, text: str, start: int) -> int:
        if text[start : start + 2] in self._compound:
            return 2
        return 1 if text[start : start + 1] in self._surnames else 0

    #: Characters that rarely end a given name but often follow one.
    _NON_NAME_CHARS = frozenset("的了在是说和与对向把被给让要想来去也都就已曾将会能反投咨询称表示先女小")

    def _name_end(self, text: str, start: int, bounds: set) -> int | None:
        """End of a name that starts at ``start``, using jieba's word boundaries."""
        sl = self._surname_len(text, start)
        if not sl:
            return None
        short, long_ = start + sl + 1, start + sl + 2
        if (
            long_ <= len(text)
            and _HAN_RX.match(text[long_ - 1])
            and long_ in bounds
            and text[long_ - 1] not in self._NON_NAME_CHARS
            and text[short - 1] not in self._NON_NAME_CHARS
        ):
            return long_
        if short <= len(text) and _HAN_RX.match(text[short - 1]) and text[short - 1] not in self._NON_NAME_CHARS:
            return short
        return None

    #: jieba flags of single characters that are function words, not surnames.
    _FUNCTION_FLAGS = ("p", "d", "c", "u", "r", "v", "m", "q", "f", "y", "e", "o")

    #: jieba flags that a whole name may receive.
    _NAMELIKE_FLAGS = ("nr", "nrt", "nrfg", "ns", "nz", "j")

    def _plausible_start(self, start: int, tokens: dict) -> str | None:
        """Does jieba's segmentation allow a name to start at ``start``?

        ``"nr"`` when jieba tagged a personal name there, ``"single"`` when the
        surname stands alone as a non-function character, None otherwise
        (the surname character is part of an ordinary word such as 支付).
        """
        tok = tokens.get(start)
        if tok is None:
            return None
        word, flag = tok[-2], tok[-1]
        if flag.startswith("nr") and self._starts_with_surname(word):
            return "nr"
        if len(word) == self._surname_len(word, 0) and not flag.startswith(self._FUNCTION_FLAGS):
            return "single"
        return None

    def _trim_honorific(self, word: str, start: int, end: int) -> int:
        for h in self._honorifics:  # jieba sometimes keeps 先生 inside the word
            if word.endswith(h) and len(word) > len(h):
                return end - len(h)
        return end

    def _context_near(self, text: str, start: int, end: int) -> bool:
        before = text[max(0, start - 8) : start]
        after = text[end : end + 4]
        return any(lab in before for lab in self._labels) or any(after.startswith(h) for h in self._honorifics)

    def analyze(self, text, entities, nlp_artifacts=None):
        if entities and self.ENTITY not in entities:
            return []
        if not _HAN_RX.search(text):
            return []
        spans = {}

        def add(start: int, end: int, score: float, why: str) -> None:
            word = text[start:end]
            if word in self._stop or end - start < 2:
                return
            if self._context_near(text, start, end):
                score = min(1.0, score + self.CONTEXT_BONUS)
            elif why in self._TAG_ONLY and not self.plausible_name(word):
                return
            prev = spans.get((start, end))
            if prev is None or prev[0] < score:
                spans[(start, end)] = (score, why)

        toks = []
        pos = 0
        for word, flag in self._posseg.lcut(text):
            toks.append((pos, pos + len(word), word, flag))
            pos += len(word)
        bounds = {0} | {t[1] for t in toks}
        starts = {t[0]: t for t in toks}
        jieba_names = {}
        for i, (ts, te, word, flag) in enumerate(toks):
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            sl = self._surname_len(word, 0)
            if flag.startswith("nr") and len(word) > sl and self._starts_with_surname(word):
                end = self._trim_honorific(word, ts, te)
                if 2 <= end - ts <= 4:
                    jieba_names[ts] = end
                    add(ts, end, self.BASE_NR, "jieba nr tag")
            elif (
                # surname split off by jieba, followed by a given name
                sl
                and sl == len(word)
                and nxt
                and 1 <= len(nxt[2]) <= 2
                and _HAN_RX.match(nxt[2])
                and (nxt[3].startswith("nr") or (flag.startswith("nr") and not nxt[3].startswith(self._FUNCTION_FLAGS)))
            ):
                score = self.BASE_NR if nxt[3].startswith("nr") else self.BASE_NR - 0.1
                jieba_names[ts] = nxt[1]
                add(ts, nxt[1], score, "surname + given name (jieba)")
        honorific_matches = (
            self._rx_honorific.match(text, i)
            for i, ch in enumerate(text)
            if ch in self._surnames or text[i : i + 2] in self._compound
        )
        for m in filter(None, honorific_matches):
            st = m.start()
            tok = starts.get(st)
            if (
                st in jieba_names
                or self._plausible_start(st, starts) == "single"
                or (tok is not None and tok[1] == m.end() and tok[3] in self._NAMELIKE_FLAGS)
                or self.plausible_name(m.group())
            ):
                add(st, m.end(), self.HONORIFIC_SCORE, "surname before honorific")
        for m in self._rx_label.finditer(text):
            st = m.end()
            if st in jieba_names:
                add(st, jieba_names[st], self.LABEL_SCORE, "surname after label")
                continue
            kind = self._plausible_start(st, starts)
            if kind is None and st not in starts:
                # jieba glued the label and the surname together (客户王)
                kind = "single" if st in bounds or any(t[0] < st < t[1] for t in toks) else None
            if kind == "nr":
                word = starts[st][2]
                end = self._trim_honorific(word, st, st + len(word))
                if 2 <= end - st <= 4:
                    add(st, end, self.LABEL_SCORE, "surname after label")
            elif kind == "single":
                end = self._name_end(text, st, bounds)
                if end is not None:
                    add(st, end, self.LABEL_SCORE, "surname after label")

        # Keep the best of overlapping candidates (longest on ties).
        ordered = sorted(spans.items(), key=lambda kv: (-kv[1][0], -(kv[0][1] - kv[0][0]), kv[0][0]))
        kept: list[tuple[int, int, float, str]] = []
        for (s, e), (score, why) in ordered:
            if any(s < ke and ks < e for ks, ke, _, _ in kept):
                continue
            kept.append((s, e, score, why))
        results = []
        for s, e, score, why in sorted(kept):
            results.append(
                RecognizerResult(
                    entity_type=self.ENTITY,
                    start=s,
                    end=e,
                    score=score,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=self.name, original_score=score, textual_explanation=why
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                    },
                )
            )
        return results


def cn_recognizers(language: str = "zh", names: bool = True) -> list[EntityRecognizer]:
    """All Chinese recognizers for one Presidio language code."""
    recs: list[EntityRecognizer] = [
        CnResidentIdRecognizer(supported_language=language),
        CnMobileRecognizer(supported_language=language),
        CnBankCardRecognizer(supported_language=language),
        CnUsccRecognizer(supported_language=language),
        CnPassportRecognizer(supported_language=language),
    ]
    if names:
        recs.append(ChinesePersonRecognizer(supported_language=language))
    return recs
