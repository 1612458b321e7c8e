"""Per-sample interaction categories (MMoE) and dataset-level interaction scores (MINT)."""

from .categorize import (
    CATEGORIES,
    MMOE_GROUPS,
    categorize,
    categorize_mmoe_code,
    category_counts,
    missing_mask,
    to_mmoe_groups,
)
from .filtering import (
    TRAIN_ONLY,
    Rebalanced,
    SplitCategories,
    TrainOnlyError,
    categorize_split,
    confidence_mask,
    margin,
    rebalance,
)
from .score import (
    PROTOTYPES,
    InteractionScore,
    agreement,
    align_inputs,
    check_score_range,
    distance_matrix,
    group_by_clustering,
    group_by_prototype,
    interaction_score,
)

__all__ = [
    "CATEGORIES", "MMOE_GROUPS", "PROTOTYPES", "TRAIN_ONLY", "InteractionScore", "Rebalanced",
    "SplitCategories", "TrainOnlyError", "agreement", "align_inputs", "categorize", "categorize_mmoe_code",
    "categorize_split", "category_counts", "check_score_range", "confidence_mask", "distance_matrix",
    "group_by_clustering", "group_by_prototype", "interaction_score", "margin", "missing_mask",
    "rebalance", "to_mmoe_groups",
]
