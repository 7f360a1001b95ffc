"""PII detection: Presidio-based scanner, Chinese identifiers, special categories, evaluation."""

from .cn_recognizers import (
    ChinesePersonRecognizer,
    CnBankCardRecognizer,
    CnMobileRecognizer,
    CnPassportRecognizer,
    CnResidentIdRecognizer,
    CnUsccRecognizer,
    cn_mobile_prefix_valid,
    cn_recognizers,
    cn_resident_id_info,
    luhn_valid,
    ric_from_legacy,
    ric_valid,
    uscc_valid,
)
from .columns import column_name_hint
from .engine import (
    DEFAULT_ENTITIES,
    DEFAULT_SCORE_THRESHOLDS,
    DIRECT_IDENTIFIER_ENTITIES,
    ColumnVerdict,
    PIIScanner,
    TextHit,
    detect_language,
)
from .evaluate import EvalReport, evaluate, load_records
from .recognizers import (
    CnAddressRecognizer,
    EnStreetAddressRecognizer,
    OfflineEmailRecognizer,
    PaymentCardRecognizer,
    PhoneNumberRecognizer,
)
from .special import (
    SpecialCategoryScanner,
    SpecialHit,
    special_categories_in_column,
    special_categories_in_text,
)

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SCORE_THRESHOLDS",
    "DIRECT_IDENTIFIER_ENTITIES",
    "ChinesePersonRecognizer",
    "CnAddressRecognizer",
    "CnBankCardRecognizer",
    "CnMobileRecognizer",
    "CnPassportRecognizer",
    "CnResidentIdRecognizer",
    "CnUsccRecognizer",
    "ColumnVerdict",
    "EnStreetAddressRecognizer",
    "EvalReport",
    "OfflineEmailRecognizer",
    "PIIScanner",
    "PaymentCardRecognizer",
    "PhoneNumberRecognizer",
    "SpecialCategoryScanner",
    "SpecialHit",
    "TextHit",
    "cn_mobile_prefix_valid",
    "cn_recognizers",
    "cn_resident_id_info",
    "column_name_hint",
    "detect_language",
    "evaluate",
    "load_records",
    "luhn_valid",
    "ric_from_legacy",
    "ric_valid",
    "special_categories_in_column",
    "special_categories_in_text",
    "uscc_valid",
]
