"""Text features and classifiers for customer feedback and support tickets.

Works offline: English is tokenised with a regular expression, stop words are
removed and words are reduced with a Porter stemmer implemented here (no
corpus downloads); Chinese is segmented with jieba. Classifiers are TF-IDF +
logistic regression pipelines that accept raw strings, so audit checks can
rewrite a text (e.g. swap an identity word) and score it again.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "CHINESE_STOP_WORDS",
    "ENGLISH_STOP_WORDS",
    "TextClassifier",
    "TextPreprocessor",
    "detect_language",
    "evaluate_text_classifier",
    "porter_stem",
    "tokenize",
]

# Function words only. Negations (not, no, never, 不, 没) are kept on purpose:
# dropping them turns "not happy" into "happy".
ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "get",
        "got",
        "im",
        "ive",
        "its",
        "i'm",
    ]
)
CHINESE_STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "我们",
        "你们",
        "在",
        "和",
        "与",
        "也",
        "就",
        "都",
        "很",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "这",
        "那",
        "这个",
        "那个",
        "有",
        "一个",
        "还",
        "又",
        "及",
        "把",
        "被",
        "给",
        "让",
        "对",
        "上",
        "下",
        "之",
        "其",
        "而",
        "或",
        "等",
    ]
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_VOWELS = frozenset("aeiou")


# ---------------------------------------------------------------- Porter stemmer
def _consonant(word: str, i: int) -> bool:
    ch = word[i]
    if ch in _VOWELS:
        return False
    if ch == "y":
        return i == 0 or not _consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """m in [C](VC)^m[V]: the number of vowel-consonant runs."""
    pattern = "".join("c" if _consonant(stem, i) else "v" for i in range(len(stem)))
    collapsed = re.sub(r"(.)\1+", r"\1", pattern)
    return collapsed.count("vc")


def _has_vowel(stem: str) -> bool:
    return any(not _consonant(stem, i) for i in range(len(stem)))


def _double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonant(word, len(word) - 1)


def _cvc(word: str) -> bool:
    """Ends consonant-vowel-consonant with the last not w, x or y (e.g. hop, fil)."""
    if len(word) < 3:
        return False
    return (
        _consonant(word, len(word) - 3)
        and not _consonant(word, len(word) - 2)
        and _consonant(word, len(word) - 1)
        and word[-1] not in "wxy"
    )


_STEP2 = [
    ("ational", "ate"),
    ("tional", "tion"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("izer", "ize"),
    ("bli", "ble"),
    ("alli", "al"),
    ("entli", "ent"),
    ("eli", "e"),
    ("ousli", "ous"),
    ("ization", "ize"),
    ("ation", "ate"),
    ("ator", "ate"),
    ("alism", "al"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("aliti", "al"),
    ("iviti", "ive"),
    ("biliti", "ble"),
    ("logi", "log"),
]
_STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", "")]
_STEP4 = [
    "al",
    "ance",
    "ence",
    "er",
    "ic",
    "able",
    "ible",
    "ant",
    "ement",
    "ment",
    "ent",
    "ion",
    "ou",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
]


def _replace_longest(word: str, rules: Sequence[tuple[str, str]], min_measure: int) -> str:
    """Apply the rule with the longest matching suffix, if its stem is long enough."""
    best = None
    for suffix, repl in rules:
        if word.endswith(suffix) and (best is None or len(suffix) > len(best[0])):
            best = (suffix, repl)
    if best is None:
        return word
    stem = word[: len(word) - len(best[0])]
    return stem + best[1] if _measure(stem) > min_measure else word


@lru_cache(maxsize=65536)
def porter_stem(word: str) -> str:
    """Porter (1980) suffix stripping, e.g. "connections" -> "connect".

    Includes the two later amendments of the reference implementation
    (bli -> ble, logi -> log).
    """
    w = word.lower()
    if len(w) <= 2 or not w.isalpha():
        return w
    # step 1a
    if w.endswith(("sses", "ies")):
        w = w[:-2]
    elif w.endswith("ss"):
        pass
    elif w.endswith("s"):
        w = w[:-1]
    # step 1b
    extra = False
    if w.endswith("eed"):
        if _measure(w[:-3]) > 0:
            w = w[:-1]
    elif w.endswith("ed") and _has_vowel(w[:-2]):
        w, extra = w[:-2], True
    elif w.endswith("ing") and _has_vowel(w[:-3]):
        w, extra = w[:-3], True
    if extra:
        if w.endswith(("at", "bl", "iz")):
            w += "e"
        elif _double_consonant(w) and w[-1] not in "lsz":
            w = w[:-1]
        elif _measure(w) == 1 and _cvc(w):
            w += "e"
    # step 1c
    if w.endswith("y") and _has_vowel(w[:-1]):
        w = w[:-1] + "i"
    # steps 2 and 3
    w = _replace_longest(w, _STEP2, 0)
    w = _replace_longest(w, _STEP3, 0)
    # step 4
    best = max((s for s in _STEP4 if w.endswith(s)), key=len, default=None)
    if best is not None:
        stem = w[: -len(best)]
        if _measure(stem) > 1 and (best != "ion" or stem.endswith(("s", "t"))):
            w = stem
    # step 5
    if w.endswith("e"):
        stem = w[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            w = stem
    if w.endswith("ll") and _measure(w) > 1:
        w = w[:-1]
    return w


# ---------------------------------------------------------------- tokenisation
def detect_language(text: str) -> str:
    """ "zh" when at least a fifth of the letters are CJK ideographs, else "en"."""
    letters = sum(map(str.isalpha, text))
    if not letters:
        return "en"
    return "zh" if len(_CJK.findall(text)) / letters >= 0.2 else "en"


_JIEBA_READY = False


def _jieba() -> Any:
    global _JIEBA_READY
    import jieba

    if not _JIEBA_READY:
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA_READY = True
    return jieba


def _english_tokens(text: str, stem: bool, stop_words: bool) -> list[str]:
    out = []
    for tok in _EN_TOKEN.findall(text.lower()):
        tok = "not" if tok.endswith("n't") else tok.split("'")[0]
        if stop_words and tok in ENGLISH_STOP_WORDS:
            continue
        out.append(porter_stem(tok) if stem else tok)
    return out


def tokenize(text: str, language: str = "auto", stem: bool = True, stop_words: bool = True) -> list[str]:
    """Tokens for one text; Chinese via jieba, Latin-script words stemmed."""
    if not isinstance(text, str):
        return []
    return list(_tokenize_cached(text, language, stem, stop_words))


@lru_cache(maxsize=100_000)
def _tokenize_cached(text: str, language: str, stem: bool, stop_words: bool) -> tuple[str, ...]:
    # CRM text repeats a lot (templates, canned replies): caching pays off
    text = unicodedata.normalize("NFKC", text)
    lang = detect_language(text) if language == "auto" else language
    if lang != "zh":
        return tuple(_english_tokens(text, stem, stop_words))
    out: list[str] = []
    for tok in _jieba().lcut(text):
        tok = tok.strip().lower()
        if not tok or all(not c.isalnum() for c in tok):
            continue
        if _CJK.search(tok):
            if stop_words and tok in CHINESE_STOP_WORDS:
                continue
            out.append(tok)
        else:
            out.extend(_english_tokens(tok, stem, stop_words))
    return tuple(out)


class TextPreprocessor:
    """Picklable tokenizer callable for scikit-learn vectorizers."""

    def __init__(self, language: str = "auto", stem: bool = True, stop_words: bool = True) -> None:
        self.language = language
        self.stem = stem
        self.stop_words = stop_words

    def __call__(self, text: str) -> list[str]:
        return tokenize(text, self.language, self.stem, self.stop_words)

    def __repr__(self) -> str:
        return f"TextPreprocessor(language={self.language!r}, stem={self.stem}, stop_words={self.stop_words})"


# ---------------------------------------------------------------- classifiers
class TextClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF (word uni/bigrams) + logistic regression on raw strings.

    Used for sentiment and ticket topics. ``predict_proba`` takes a list of
    raw strings, which is what counterfactual identity-swap tests need.
    """

    def __init__(
        self,
        language: str = "auto",
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 1,
        max_features: int | None = 50_000,
        C: float = 4.0,
        class_weight: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.language = language
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, texts: Sequence[str], y: Sequence[Any]) -> TextClassifier:
        vectorizer = TfidfVectorizer(
            tokenizer=TextPreprocessor(self.language),
            lowercase=False,
            token_pattern=None,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
        )
        model = LogisticRegression(
            C=self.C, max_iter=2000, class_weight=self.class_weight, random_state=self.random_state
        )
        self.pipeline_ = Pipeline([("tfidf", vectorizer), ("model", model)])
        self.pipeline_.fit(list(texts), np.asarray(y))
        self.classes_ = self.pipeline_.named_steps["model"].classes_
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(list(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(list(texts))

    def top_terms(self, label: Any, n: int = 10) -> list[tuple[str, float]]:
        """Terms pushing hardest towards ``label`` (binary: the sign of the only coefficient row)."""
        check_is_fitted(self, "pipeline_")
        model = self.pipeline_.named_steps["model"]
        names = self.pipeline_.named_steps["tfidf"].get_feature_names_out()
        classes = list(self.classes_)
        if len(classes) == 2:
            coef = model.coef_[0] * (1 if label == classes[1] else -1)
        else:
            coef = model.coef_[classes.index(label)]
        order = np.argsort(-coef)[:n]
        return [(str(names[j]), float(coef[j])) for j in order]


def evaluate_text_classifier(y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, float]:
    """Accuracy and macro-F1 (macro so small topics weigh as much as large ones)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }
