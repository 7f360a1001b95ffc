"""The policy-pack format. ``extra="forbid"`` everywhere so a typo is an error, not a no-op."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit.core.types import Provenance, Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyMetadata(_Strict):
    id: str = Field(description="Stable identifier of the pack, e.g. 'gdpr'.")
    title: str
    version: str = Field(description="Version of the pack, e.g. '1.0.0'.")
    jurisdiction: str | list[str] = Field(description="Jurisdiction(s) the pack answers to, e.g. 'EU'.")
    description: str = ""
    regulations: list[str] = Field(default_factory=list, description="Instruments the pack maps, e.g. 'GDPR'.")


class CheckEntry(_Strict):
    id: str = Field(description="A registered check id; see `crm-audit checks`.")
    enabled: bool = True
    severity: Severity | None = Field(default=None, description="Overrides the check's default severity.")
    params: dict[str, Any] = Field(default_factory=dict, description="Validated against the check's own model.")
    subjects: list[str] | None = Field(
        default=None, description="Restrict to these subject names (model or dataset names)."
    )
    provenance: Provenance | None = Field(
        default=None, description="Where this pack's threshold comes from (law, guidance, library, tool)."
    )
    regulations: list[str] = Field(default_factory=list, description="Articles this pack maps the check to.")
    note: str = ""


class Waiver(_Strict):
    check: str
    subject: str = Field(default="*", description="Subject label or glob, e.g. 'model:churn_rf'.")
    reason: str
    approved_by: str
    expires: dt.date


class Attestation(_Strict):
    id: str
    question: str
    regulations: list[str] = Field(default_factory=list)
    answer: str | None = None
    attested_by: str | None = None
    date: dt.date | None = None
    evidence: str | None = None


class PolicySettings(_Strict):
    fail_on: Severity | None = None
    min_group_size: int | None = Field(default=None, ge=1)


class PolicyPack(_Strict):
    metadata: PolicyMetadata
    extends: list[str] = Field(default_factory=list, description="Other packs (names or paths) this one builds on.")
    settings: PolicySettings = Field(default_factory=PolicySettings)
    checks: list[CheckEntry] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)
