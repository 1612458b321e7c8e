"""Counterfactual debiasing (MME-JD paper: MID, MCTD, MME-JD, MRID). See docs/debias.md."""

from .core import (
                   CATEGORIES,
                   ROUTER_CLASSES,
                   alpha_blend,
                   debias_categories,
                   debias_category,
                   mask_words,
                   mid_correct,
                   mmejd_combine,
                   mrid_correct,
                   saliency_to_mask,
)

__all__ = ["CATEGORIES", "ROUTER_CLASSES", "alpha_blend", "debias_categories", "debias_category", "mask_words",
           "mid_correct", "mmejd_combine", "mrid_correct", "saliency_to_mask"]
