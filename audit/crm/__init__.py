"""CRM modelling stack and the built-in demo CRM.

Models are trained here and handed to the audit checks as artifacts
(:mod:`audit.crm.artifacts`); the checks never refit anything.
"""

from .artifacts import (
    ClassifierArtifact,
    ModelArtifact,
    RecommenderArtifact,
    RegressorArtifact,
    SegmentationArtifact,
    TextModelArtifact,
)
from .classify import (
    evaluate_classifier,
    evaluate_regressor,
    make_classifier,
    make_regressor,
    train_classifier,
    train_regressor,
)
from .demo import (
    IDENTITY_TERMS,
    PLANTED,
    DemoCRM,
    PlantedProblem,
    crm_demo_stack,
    customer_frame,
    generate_demo,
    is_valid_cn_resident_id,
    write_demo,
)
from .nlp import TextClassifier, TextPreprocessor, evaluate_text_classifier, porter_stem, tokenize
from .preprocess import CRMPreprocessor
from .recommend import (
    ContentRecommender,
    HybridRecommender,
    KNNWithMeansRecommender,
    evaluate_recommender,
    ranking_metrics,
    split_ratings,
)
from .segmentation import DBSCANSegmenter, KMeansSegmenter, rfm_features, segment_profiles, treatment_by_rank

__all__ = [
    "IDENTITY_TERMS",
    "PLANTED",
    "CRMPreprocessor",
    "ClassifierArtifact",
    "ContentRecommender",
    "DBSCANSegmenter",
    "DemoCRM",
    "HybridRecommender",
    "KMeansSegmenter",
    "KNNWithMeansRecommender",
    "ModelArtifact",
    "PlantedProblem",
    "RecommenderArtifact",
    "RegressorArtifact",
    "SegmentationArtifact",
    "TextClassifier",
    "TextModelArtifact",
    "TextPreprocessor",
    "crm_demo_stack",
    "customer_frame",
    "evaluate_classifier",
    "evaluate_recommender",
    "evaluate_regressor",
    "evaluate_text_classifier",
    "generate_demo",
    "is_valid_cn_resident_id",
    "make_classifier",
    "make_regressor",
    "porter_stem",
    "ranking_metrics",
    "rfm_features",
    "segment_profiles",
    "split_ratings",
    "tokenize",
    "train_classifier",
    "train_regressor",
    "treatment_by_rank",
    "write_demo",
]
