"""privacy.pseudonymisation: identifiers in clear or tokenised, and unkeyed hashes that can be reversed.

A plain MD5/SHA hash of a phone number, customer number or e-mail is not pseudonymisation:
the space of inputs is small enough to hash all of them and look the result up. The check
proves it when it can, by hashing the identifier columns of the audited datasets (with the
usual normalisations) and matching the hex values of hash-looking columns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from pydantic import Field

from audit.checks.data_quality.validity import name_tokens, nonempty, resident_id_columns
from audit.core.check import Check, CheckMeta, CheckParams, register
from audit.core.context import AuditContext, Dataset, Subject
from audit.core.finding import Outcome
from audit.core.types import Category, Provenance, Severity, SubjectKind

__all__ = ["Pseudonymisation", "identifier_like_columns", "unkeyed_hash_sources"]

#: hex length -> unkeyed hash functions tried
HASHES: dict[int, tuple[str, ...]] = {
    32: ("md5",),
    40: ("sha1",),
    56: ("sha224",),
    64: ("sha256", "sha3_256"),
    128: ("sha512",),
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s\-().]{7,20}$")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T][\d:.]+)?$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")
_TOKEN_WORDS = {
    "token",
    "tokenised",
    "tokenized",
    "pseudonym",
    "pseudonymised",
    "pseudonymized",
    "hash",
    "hashed",
    "surrogate",
}
_ID_HINTS = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CN_MOBILE",
    "CN_RESIDENT_ID",
    "CREDIT_CARD",
    "CN_BANK_CARD",
    "IBAN_CODE",
    "US_SSN",
    "UK_NINO",
    "CN_PASSPORT",
)


def _variants(value: str) -> dict[str, str]:
    """Normalisations a system commonly applies before hashing an identifier."""
    s = value.strip()
    out = {"as stored": s, "lower-case": s.lower(), "upper-case": s.upper()}
    digits = re.sub(r"\D", "", s)
    if len(digits) >= 5:
        out["digits only"] = digits
        out["+digits"] = "+" + digits
        for cc in ("86", "44", "1"):
            if digits.startswith(cc) and len(digits) - len(cc) >= 9:
                out[f"without country code {cc}"] = digits[len(cc) :]
                out[f"national 0-prefixed (cc {cc})"] = "0" + digits[len(cc) :]
    return out


def _sample(series: pd.Series, n: int, seed: int) -> pd.Series:
    s = series[nonempty(series)]
    return s.sample(n=n, random_state=seed) if len(s) > n else s


def _hash_length(series: pd.Series, sample_size: int, seed: int) -> int | None:
    """Hex length when most sampled values are hex strings of one hash length."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return None
    sample = _sample(series, sample_size, seed).astype(str).str.strip()
    if not len(sample):
        return None
    lengths = sample[sample.str.fullmatch(_HEX.pattern)].str.len()
    if lengths.empty:
        return None
    top = int(lengths.mode().iloc[0])
    return top if top in HASHES and (lengths == top).sum() >= 0.9 * len(sample) else None


def identifier_like_columns(ds: Dataset, ctx: AuditContext, sample_size: int, seed: int) -> dict[str, str]:
    """Enumerable or guessable identifier columns in clear: column -> kind."""
    from audit.pii import column_name_hint

    out: dict[str, str] = {}
    if ds.roles.id and ds.roles.id in ds.frame.columns:
        out[ds.roles.id] = "record id"
    for col in ctx.facts.direct_identifier_columns.get(ds.name, []):
        out.setdefault(col, "direct identifier")
    for col in resident_id_columns(ds, sample_size, seed):
        out.setdefault(col, "CN_RESIDENT_ID")
    for c in ds.frame.columns:
        col = str(c)
        s = ds.frame[c]
        if col in out or c in ds.roles.text or pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
            continue
        if _hash_length(s, sample_size, seed):
            continue
        hint = column_name_hint(col)
        sample = _sample(s, sample_size, seed).astype(str).str.strip()
        if not len(sample):
            continue
        if sample.str.fullmatch(_DATE_LIKE.pattern).mean() >= 0.5:
            continue
        if sample.str.fullmatch(_EMAIL.pattern).mean() >= 0.5:
            out[col] = "EMAIL_ADDRESS"
        elif sample.str.fullmatch(_PHONE.pattern).mean() >= 0.5 and sample.str.count(r"\d").mean() >= 7:
            out[col] = (
                hint
                if hint in ("PHONE_NUMBER", "CN_MOBILE", "CN_RESIDENT_ID", "CREDIT_CARD", "CN_BANK_CARD")
                else "number"
            )
        elif hint in _ID_HINTS:
            out[col] = hint
    return out


def unkeyed_hash_sources(
    hashed: pd.Series,
    length: int,
    candidates: dict[tuple[str, str], pd.Series],
    *,
    max_candidates: int = 50_000,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The identifier column, normalisation and hash function that reproduce ``hashed`` values, if any."""
    observed = hashed.astype(str).str.strip().str.lower().tolist()
    targets = set(observed)
    best: dict[str, Any] | None = None
    for (dataset, col), values in candidates.items():
        vals = values[nonempty(values)]
        if len(vals) > max_candidates:
            vals = vals.sample(n=max_candidates, random_state=seed)
        variants = [_variants(str(v)) for v in vals.tolist()]
        for alg in HASHES[length]:
            fn: Callable[[bytes], Any] = getattr(hashlib, alg)
            matched: dict[str, set[str]] = {}
            for forms in variants:
                for vname, v in forms.items():
                    h = fn(v.encode("utf-8")).hexdigest()
                    if h in targets:
                        matched.setdefault(vname, set()).add(h)
            if not matched:
                continue
            vname, hits = max(matched.items(), key=lambda kv: len(kv[1]))
            share = sum(1 for t in observed if t in hits) / max(len(observed), 1)
            if best is None or share > best["reversed_share"]:
                best = {
                    "source": f"{dataset}.{col}",
                    "algorithm": alg,
                    "normalisation": vname,
                    "reversed_share": round(share, 4),
                }
    return best


class PseudonymisationParams(CheckParams):
    max_unkeyed: int = Field(
        0, ge=0, description="Largest acceptable number of columns holding unkeyed hashes of identifiers."
    )
    sample_size: int = Field(
        500, ge=10, description="Hash values sampled per column (and values sampled to recognise columns)."
    )
    max_candidates: int = Field(50_000, ge=100, description="Identifier values hashed per candidate column.")
    search_all_datasets: bool = Field(True, description="Also try identifier columns of the audit's other datasets.")


@register
class Pseudonymisation(Check):
    meta = CheckMeta(
        id="privacy.pseudonymisation",
        title="Pseudonymisation of identifiers: clear, tokenised or reversible hashes",
        category=Category.PRIVACY,
        severity=Severity.HIGH,
        subjects=(SubjectKind.DATASET,),
        regulations=("GDPR Art. 4(5)", "GDPR Art. 25", "GDPR Art. 32(1)(a)", "PIPL Art. 51(3)"),
        provenance=Provenance.GUIDANCE,
        formula="columns whose values are hex strings of a hash length (32/40/56/64/128) are matched against "
        "MD5/SHA-1/SHA-2/SHA-3 of the audit's identifier columns (as stored, case-folded, digits only, with and "
        "without country code); a column reproduced that way is an unkeyed hash of an enumerable identifier",
        default_threshold="0 unkeyed hashes; use a keyed hash (HMAC) or random tokens with the key held apart (ENISA guidance)",
        mode="H",
        help="Anyone can hash every phone number or customer number and look the result up: an unkeyed hash of an "
        "enumerable identifier leaves the data as identifiable as the clear value.",
        requires=("direct_identifier_columns",),
    )
    Params = PseudonymisationParams

    def evaluate(self, subject: Subject, params: PseudonymisationParams, ctx: AuditContext) -> Iterable[Outcome]:
        ds = subject.dataset
        assert ds is not None
        seed = ctx.seed
        hashed: dict[str, int] = {}
        for c in ds.frame.columns:
            if c in ds.roles.text:
                continue
            length = _hash_length(ds.frame[c], params.sample_size, seed)
            if length:
                hashed[str(c)] = length
        clear = identifier_like_columns(ds, ctx, params.sample_size, seed)
        candidates: dict[tuple[str, str], pd.Series] = {(ds.name, c): ds.frame[c] for c in clear}
        if params.search_all_datasets and hashed:
            for other in ctx.datasets.values():
                if other.name == ds.name:
                    continue
                for c in identifier_like_columns(other, ctx, params.sample_size, seed):
                    candidates[(other.name, c)] = other.frame[c]
        unkeyed: dict[str, dict[str, Any]] = {}
        unresolved: dict[str, str] = {}
        for col, length in hashed.items():
            sample = _sample(ds.frame[col], params.sample_size, seed)
            found = unkeyed_hash_sources(sample, length, candidates, max_candidates=params.max_candidates, seed=seed)
            if found:
                unkeyed[col] = {**found, "hex_length": length, "values_sampled": len(sample)}
            else:
                unresolved[col] = (
                    f"{length}-hex values not reproduced by {', '.join(HASHES[length]).upper()} of any identifier column"
                )
        tokenised = sorted(
            {c for c in unresolved}
            | {str(c) for c in ds.frame.columns if set(name_tokens(c)) & _TOKEN_WORDS and str(c) not in unkeyed}
        )
        evidence = {
            "clear_identifier_columns": clear,
            "hash_like_columns": hashed,
            "unkeyed_hash_columns": unkeyed,
            "tokenised_or_keyed_columns": tokenised,
            "not_reproduced": unresolved,
            "candidate_columns": [f"{d}.{c}" for d, c in candidates],
        }
        if unkeyed:
            parts = [
                f"{c} = {d['algorithm']}({d['source']}, {d['normalisation']}) for {d['reversed_share']:.0%} of {d['values_sampled']} sampled values"
                for c, d in unkeyed.items()
            ]
            note = "; ".join(parts) + ": replace by a keyed hash (HMAC) or random tokens with the key stored separately"
        else:
            clear_names = [c for c, k in clear.items() if k != "record id"]
            note = (
                f"identifiers in clear: {', '.join(clear_names)}" if clear_names else "no identifier column in clear"
            ) + (
                "; hashed columns not reproducible from the audited identifiers (keying cannot be confirmed from data: attest it)"
                if hashed
                else ""
            )
        yield self.judge(
            subject.label,
            len(unkeyed),
            threshold=params.max_unkeyed,
            op="<=",
            what="columns holding unkeyed hashes of identifiers",
            evidence=evidence,
            note=note,
        )
