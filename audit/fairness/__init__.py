"""Fairness measurement: pure functions returning figures with uncertainty.

Modules
-------
groups
    Group labels from protected attributes (single, intersectional, banded).
classification
    Rates, disparities, calibration and performance gaps of classifiers.
segmentation
    Balance and distribution distance of customer segments across groups.
recommendation
    Quality, exposure, popularity and price fairness of recommenders.
proxy
    Associations between features and protected attributes.
counterfactual
    Identity-term swaps for text models.
"""

from audit.fairness.classification import (
    CELLS,
    DEFAULT_METRICS,
    NAMED_DISPARITIES,
    RATE_METRICS,
    GroupConfusion,
    calibration_by_group,
    calibration_gap,
    classification_fairness,
    confusion_by_group,
    demographic_parity_difference,
    disparities_from_counts,
    equal_opportunity_difference,
    equalized_odds_difference,
    performance_by_group,
    rate_disparity,
    rates_by_group,
    rates_from_counts,
    resolve_metric,
    selection_rate_impact_ratio,
)
from audit.fairness.counterfactual import (
    CounterfactualResult,
    TermList,
    TermSwapper,
    counterfactual_flip_rate,
    load_identity_terms,
    make_swapper,
    swap_identity_terms,
)
from audit.fairness.groups import (
    UNKNOWN,
    GroupLabels,
    as_groups,
    band_label,
    encode_attribute,
    group_sets,
    make_groups,
)
from audit.fairness.proxy import (
    ProxyAUCResult,
    cramers_v,
    discretise,
    protected_attribute_auc,
    proxy_associations,
)
from audit.fairness.recommendation import (
    exposure_parity,
    gini,
    item_exposure,
    popularity_bias,
    price_differential,
    quality_gap,
    quality_per_user,
)
from audit.fairness.results import Estimate, FairnessResult
from audit.fairness.segmentation import (
    ClusterTable,
    cluster_balance,
    cluster_composition,
    cluster_table,
    segment_treatment_impact_ratio,
    total_variation_distance,
)

__all__ = [
    "CELLS",
    "DEFAULT_METRICS",
    "NAMED_DISPARITIES",
    "RATE_METRICS",
    "UNKNOWN",
    "ClusterTable",
    "CounterfactualResult",
    "Estimate",
    "FairnessResult",
    "GroupConfusion",
    "GroupLabels",
    "ProxyAUCResult",
    "TermList",
    "TermSwapper",
    "as_groups",
    "band_label",
    "calibration_by_group",
    "calibration_gap",
    "classification_fairness",
    "cluster_balance",
    "cluster_composition",
    "cluster_table",
    "confusion_by_group",
    "counterfactual_flip_rate",
    "cramers_v",
    "demographic_parity_difference",
    "discretise",
    "disparities_from_counts",
    "encode_attribute",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "exposure_parity",
    "gini",
    "group_sets",
    "item_exposure",
    "load_identity_terms",
    "make_groups",
    "make_swapper",
    "performance_by_group",
    "popularity_bias",
    "price_differential",
    "protected_attribute_auc",
    "proxy_associations",
    "quality_gap",
    "quality_per_user",
    "rate_disparity",
    "rates_by_group",
    "rates_from_counts",
    "resolve_metric",
    "segment_treatment_impact_ratio",
    "selection_rate_impact_ratio",
    "swap_identity_terms",
    "total_variation_distance",
]
