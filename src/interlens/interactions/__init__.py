"""Per-sample interaction categories (MMoE), dataset-level interaction scores (MINT) and the
information-theoretic decomposition (PID, Liang et al. 2023). Pure maths (issue 29): the PID *method* on a
dataset + scorer is :func:`interlens.methods.pid.measure_pid`."""

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
from .pid import (
    PIDResult,
    discretize,
    joint_distribution,
    pid,
    pid_bootstrap,
    pid_from_distribution,
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
    "PIDResult", "discretize", "joint_distribution", "pid", "pid_bootstrap", "pid_from_distribution",
]
