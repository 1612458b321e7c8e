"""MMoE interaction experts: fusion strategies, the interaction router, RQ4, training and evaluation.

See docs/experts.md. Pure array functions live in :mod:`.fusion` and :mod:`.rq4`; :mod:`.router`
is the focal-loss interaction classifier; :mod:`.train` runs the whole MMoE pipeline with a scorer;
:mod:`.pipeline` is the whole study behind ``interlens experts train`` / ``evaluate`` (any scorer
with the ``trainable``, ``finetune`` and ``features`` capabilities); :mod:`.authors` reads the MMoE
authors' stored expert logits.
"""

from .fusion import (
    FUSION_STRATEGIES,
    FusionInputs,
    FusionStrategy,
    category_prior,
    evaluate_fusion,
    format_table,
    fuse_all,
    get_fusion,
    normalise_router,
    register_fusion,
    select_best_expert,
    softmax,
)
from .router import InteractionRouter, focal_loss, router_confusion
from .rq4 import ce_moe, expert_cross_entropy, random_categories_like
from .train import (
    ExpertFallbackWarning,
    ExpertSystem,
    check_experts_scorer,
    evaluate_experts,
    evaluate_inputs,
    group_categories,
    measured_categories,
    run_experts,
    run_rq4,
    train_experts,
)

__all__ = [
    "FUSION_STRATEGIES", "ExpertFallbackWarning", "ExpertSystem", "FusionInputs", "FusionStrategy",
    "InteractionRouter", "category_prior", "ce_moe", "check_experts_scorer", "evaluate_experts", "evaluate_fusion",
    "evaluate_inputs", "expert_cross_entropy", "focal_loss", "format_table", "fuse_all", "get_fusion",
    "group_categories", "measured_categories", "normalise_router", "random_categories_like", "register_fusion",
    "router_confusion", "run_experts", "run_rq4", "select_best_expert", "softmax", "train_experts",
]
