"""nlp.chatbot_disclosure: the first bot turn of every transcript says that it is an AI (EU AI Act Art. 50(1))."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

DEFAULT_PATTERNS = [
    r"\b(virtual|digital|automated|ai)\s+(assistant|agent|helper)\b",
    r"\bi(?:['’]m| am) (?:an? )?(?:ai|bot|chatbot|virtual assistant|automated)",
    r"\b(?:chatting|talking|speaking) (?:with|to) an? (?:ai|bot|chatbot|virtual assistant|automated (?:assistant|system))\b",
    r"\b(chat ?bot|artificial intelligence)\b",
    r"\bnot a (?:human|person)\b",
    r"(智能客服|智能助手|机器人|人工智能|AI助手|虚拟助手)",
]


class ChatbotParams(CheckParams):
    conversation_column: str = "conversation_id"
    speaker_column: str = "speaker"
    bot_value: str = "bot"
    turn_column: str = "turn"
    text_column: str = "text"
    patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_PATTERNS), description="Regexes (case-insensitive) that count as an AI disclosure.")
    min_rate: float = Field(1.0, ge=0, le=1, description="Share of conversations whose first bot turn discloses the AI.")


@register
class ChatbotDisclosure(Check):
    meta = CheckMeta(
        id="nlp.chatbot_disclosure",
        title="Chatbot discloses that it is an AI in its first turn",
        category=Category.GOVERNANCE,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DATASET,),
        regulations=("EU AI Act Art. 50(1)",),
        provenance=Provenance.LAW,
        formula="share of conversations whose first bot turn matches an AI-disclosure pattern (English and Chinese lexicon, editable in the policy)",
        default_threshold="100% (law, applies from 2 Aug 2026)",
        mode="A",
        help="People interacting with an AI system must be told so, unless it is obvious from the context.",
    )
    Params = ChatbotParams

    def applies(self, subject: Subject, params: ChatbotParams, ctx: AuditContext) -> bool:
        cols = subject.dataset.frame.columns if subject.dataset is not None else []
        return all(c in cols for c in (params.conversation_column, params.speaker_column, params.turn_column, params.text_column))

    def evaluate(self, subject: Subject, params: ChatbotParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        df = ds.frame
        bots = df[df[params.speaker_column].astype(str).str.lower() == params.bot_value.lower()]
        if bots.empty:
            yield self.skip(subject.label, "transcripts contain no bot turns")
            return
        first = bots.sort_values([params.conversation_column, params.turn_column]).groupby(params.conversation_column, sort=True).head(1)
        rx = re.compile("|".join(f"(?:{p})" for p in params.patterns), re.IGNORECASE)
        disclosed = first[params.text_column].astype(str).map(lambda t: bool(rx.search(t)))
        missing_ids = first.loc[~disclosed.values, params.conversation_column].astype(str).tolist()
        yield self.judge(
            subject.label,
            float(disclosed.mean()),
            threshold=params.min_rate,
            op=">=",
            what="share of conversations disclosing the AI in the first bot turn",
            evidence={
                "conversations": int(len(first)),
                "without_disclosure": int(len(missing_ids)),
                "conversation_ids_without_disclosure": missing_ids[:50],
            },
        )
