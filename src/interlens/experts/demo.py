"""The experts part of ``interlens demo``: MMoE experts + every fusion on the synthetic data."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from ..data.schema import Dataset
from ..scoring.base import clone
from .router import InteractionRouter
from .train import ExpertFallbackWarning, evaluate_experts, measured_categories, train_experts


def demo_experts(dataset: Dataset, scorer: Any, *, progress: bool = False, seed: int = 0) -> dict[str, Any]:
    """Categories measured from cross-fitted unimodal predictions (MMoE Sec. 3.1) -> baseline, R/U/S
    experts and router -> every fusion strategy on test, scored against the gold labels.

    ``scorer`` is only used as a template: unfitted clones with the same parameters are trained.
    The demo keeps every training sample (no confidence filter); ``interlens experts train``
    applies the paper's filter and rebalancing. Returns ``{"fusion": {strategy: metrics}, "experts":
    full report}``.
    """
    if progress:
        logging.getLogger(__name__).info("experts: measuring categories, training baseline, R/U/S experts and "
                                         "router ...")
    cats = measured_categories(scorer, dataset, seed=seed, train_filters=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExpertFallbackWarning)
        system = train_experts(clone(scorer), dataset, cats, cats, router=InteractionRouter(seed=seed))
    report = evaluate_experts(system, dataset, categories=cats)
    report["warnings"] = [str(w.message) for w in caught]
    if any(s.meta.get("interaction") for s in dataset.samples):
        test = dataset.split("test")
        planted = np.array([s.meta.get("interaction") for s in test.samples])
        measured = np.array([cats[i] for i in test.ids])
        report["categories_vs_planted_test_acc"] = float(np.mean(planted == measured))
    fusion = {r["strategy"]: {k: r[k] for k in ("acc", "precision", "recall", "f1", "macro_f1")}
              for r in report["rows"]}
    return {"fusion": fusion, "experts": report}
