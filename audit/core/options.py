"""Options blocks of audit.yaml that checks read, as strict models validated when the config loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Language = Literal["en", "zh"]


class PIIOptions(BaseModel):
    """The ``pii:`` block: how the audit's one PII scanner is built.

    Unset keys keep the scanner's own defaults, so an empty block and no block scan alike.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(
        default="auto",
        description="spaCy model name or path for English NER; 'auto' picks the best installed one; null scans with patterns only.",
    )
    languages: tuple[Language, ...] = Field(default=("en", "zh"), min_length=1, description="Languages scanned: en, zh.")
    entities: tuple[str, ...] | dict[Language, tuple[str, ...]] | None = Field(
        default=None, description="Entity types to detect (a list, or one list per language); default: all."
    )
    score_threshold: float | dict[str, float] | None = Field(
        default=None, description="Minimum recognizer score, one number or per entity type (e.g. PERSON: 0.6)."
    )
    ner: bool = Field(default=True, description="Run the NER model (false: patterns only).")
    n_process: int | Literal["auto"] = Field(default="auto", description="Worker processes for NER on large texts.")
    batch_size: int = Field(default=256, ge=1, description="Texts per NER batch.")

    @field_validator("languages", mode="before")
    @classmethod
    def _one_language(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("score_threshold")
    @classmethod
    def _in_unit_interval(cls, v: float | dict[str, float] | None) -> float | dict[str, float] | None:
        values = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        for x in values:
            if not 0.0 <= x <= 1.0:
                raise ValueError(f"a score threshold is between 0 and 1, got {x}")
        return v

    @field_validator("n_process")
    @classmethod
    def _positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError("n_process is 'auto' or at least 1")
        return v

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``PIIScanner``: only what the config set."""
        return {k: getattr(self, k) for k in self.model_fields_set}
