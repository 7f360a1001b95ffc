"""The model kinds an audit understands: one table read by config, context, checks and docs.

Each kind names the subject kind its checks are registered for, the artifact
class the CRM stack hands to those checks, and the sources a model of that kind
can come from (trained here, loaded from a file, or imported from the outputs of
the user's own system). Config validation refuses any kind/source/algorithm
combination this table does not list, so a name can never mean one thing in
``audit.yaml`` and another in the checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from audit.core.types import SubjectKind

__all__ = [
    "KINDS",
    "ModelKind",
    "SourceSpec",
    "checks_for",
    "kind_names",
    "model_kind",
    "source_names",
]

SourceName = Literal["train", "skops", "pickle", "predictions", "recommendations", "assignments"]

_NO_ESTIMATOR = "the model itself is not part of the audit (outputs only)"


@dataclass(frozen=True)
class SourceSpec:
    """One way a model of a kind reaches the audit."""

    name: SourceName
    summary: str
    needs_path: bool = False
    algorithms: tuple[str, ...] = ()
    default_algorithm: str | None = None
    file_columns: tuple[str, ...] = ()
    optional_columns: tuple[str, ...] = ()
    # check id (or id prefix ending in '.') -> why it cannot measure a model from this source
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def unavailable_reason(self, check_id: str) -> str | None:
        for key, reason in self.unavailable.items():
            if check_id == key or (key.endswith(".") and check_id.startswith(key)):
                return reason
        return None


@dataclass(frozen=True)
class ModelKind:
    """A model kind: its name in audit.yaml, what checks see, and where it may come from."""

    name: str
    subject: SubjectKind
    artifact: str  # class name in audit.crm.artifacts
    description: str
    sources: Mapping[str, SourceSpec]
    dataset_roles: tuple[str, ...] = ()  # roles its main dataset must declare (any source)

    def source(self, name: str) -> SourceSpec | None:
        return self.sources.get(name)


def _loaded(kind: str, extra: str = "") -> tuple[SourceSpec, SourceSpec]:
    skops = SourceSpec(
        "skops",
        f"a fitted {kind} saved with skops.io.dump; its types are checked before loading" + extra,
        needs_path=True,
    )
    pickle = SourceSpec(
        "pickle",
        f"a fitted {kind} saved with pickle/joblib; loaded only with --trust-pickle (unpickling runs code)" + extra,
        needs_path=True,
    )
    return skops, pickle


_CLASSIFIER_NO_MODEL = {"explain.": f"{_NO_ESTIMATOR}: SHAP values and reason codes need the model"}

KINDS: dict[str, ModelKind] = {
    k.name: k
    for k in (
        ModelKind(
            name="classifier",
            subject=SubjectKind.CLASSIFIER,
            artifact="ClassifierArtifact",
            description="binary decisions on tabular customer data (churn, credit, eligibility)",
            sources={
                "train": SourceSpec(
                    "train",
                    "trained by the audit on the dataset's features and target",
                    algorithms=("logistic_regression", "random_forest", "svc", "mlp"),
                    default_algorithm="logistic_regression",
                ),
                **{s.name: s for s in _loaded("classifier", "; it must score the declared features with predict_proba")},
                "predictions": SourceSpec(
                    "predictions",
                    "the outputs of your own model, joined to the dataset by id",
                    needs_path=True,
                    file_columns=("id", "y_true", "y_pred"),
                    optional_columns=("score",),
                    unavailable=_CLASSIFIER_NO_MODEL,
                ),
            },
        ),
        ModelKind(
            name="regressor",
            subject=SubjectKind.REGRESSOR,
            artifact="RegressorArtifact",
            description="numeric estimates on tabular customer data (customer value, credit limit)",
            sources={
                "train": SourceSpec(
                    "train",
                    "trained by the audit on the dataset's features and target",
                    algorithms=("linear_regression", "ridge", "random_forest", "gradient_boosting"),
                    default_algorithm="linear_regression",
                ),
                **{s.name: s for s in _loaded("regressor", "; it must predict from the declared features")},
                "predictions": SourceSpec(
                    "predictions",
                    "the outputs of your own model, joined to the dataset by id",
                    needs_path=True,
                    file_columns=("id", "y_true", "y_pred"),
                ),
            },
        ),
        ModelKind(
            name="segmentation",
            subject=SubjectKind.SEGMENTATION,
            artifact="SegmentationArtifact",
            description="customer segments, optionally tied to treatments (offers, tiers)",
            sources={
                "train": SourceSpec(
                    "train",
                    "clustered by the audit on the declared features (or RFM features from a transactions dataset)",
                    algorithms=("kmeans", "dbscan"),
                    default_algorithm="kmeans",
                ),
                **{s.name: s for s in _loaded("segmenter", "; it must assign segments with predict")},
                "assignments": SourceSpec(
                    "assignments",
                    "your own segment per customer, joined to the dataset by id",
                    needs_path=True,
                    file_columns=("id", "segment"),
                ),
            },
            dataset_roles=("id",),
        ),
        ModelKind(
            name="recommender",
            subject=SubjectKind.RECOMMENDER,
            artifact="RecommenderArtifact",
            description="ranked item lists per user, judged against held-out ratings",
            sources={
                "train": SourceSpec(
                    "train",
                    "trained by the audit on the ratings dataset (per-user hold-out for evaluation)",
                    algorithms=("user_knn", "content", "hybrid"),
                    default_algorithm="user_knn",
                ),
                "recommendations": SourceSpec(
                    "recommendations",
                    "the lists your own recommender served, judged against the ratings dataset as held-out ratings",
                    needs_path=True,
                    file_columns=("user", "item", "rank"),
                    optional_columns=("score",),
                ),
            },
            dataset_roles=("user", "item", "rating"),
        ),
        ModelKind(
            name="text_classifier",
            subject=SubjectKind.TEXT_CLASSIFIER,
            artifact="TextModelArtifact",
            description="labels for free text (sentiment, ticket topic), English and Chinese",
            sources={
                "train": SourceSpec(
                    "train",
                    "TF-IDF + logistic regression trained by the audit on the dataset's text and target",
                    algorithms=("tfidf_logistic_regression",),
                    default_algorithm="tfidf_logistic_regression",
                ),
                **{s.name: s for s in _loaded("text pipeline", "; it must take raw strings (vectoriser inside the pipeline)")},
                "predictions": SourceSpec(
                    "predictions",
                    "the labels your own model gave each text, joined to the dataset by id",
                    needs_path=True,
                    file_columns=("id", "y_true", "y_pred"),
                    optional_columns=("score",),
                    unavailable={
                        "nlp.counterfactual_flip_rate": f"{_NO_ESTIMATOR}: identity swaps need a model to re-score the edited texts",
                        "nlp.counterfactual_score_gap": f"{_NO_ESTIMATOR}: identity swaps need a model to re-score the edited texts",
                    },
                ),
            },
            dataset_roles=("text",),
        ),
    )
}


def kind_names() -> tuple[str, ...]:
    return tuple(KINDS)


def source_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for k in KINDS.values() for s in k.sources))


def model_kind(name: str) -> ModelKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown model kind {name!r}; known: {', '.join(KINDS)}") from None


def checks_for(kind: str) -> list[str]:
    """Ids of the registered checks that measure models of ``kind``."""
    from audit.checks import load_builtin_checks
    from audit.core.check import REGISTRY

    load_builtin_checks()
    subject = model_kind(kind).subject
    return [c.meta.id for c in REGISTRY.all() if subject in c.meta.subjects]
