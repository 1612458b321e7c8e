"""MMoE experts end to end on the synthetic data with planted interaction types (EmbeddingScorer).

One pipeline run (seed 0) is shared by the tests: baseline -> R/U/S experts fine-tuned from it ->
focal-loss router -> every fusion strategy on test. The router is trained twice on the same
experts: on the scorer's frozen ``features`` (the default) and on text embeddings + raw pixels.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from interlens.data.synthetic import make_synthetic
from interlens.experts import InteractionRouter, evaluate_experts, train_experts
from interlens.experts.train import group_categories
from interlens.scoring.embedding import EmbeddingScorer

pytestmark = pytest.mark.slow


def _macro(report: dict[str, Any], strategy: str) -> float:
    return next(r["macro_f1"] for r in report["rows"] if r["strategy"] == strategy)


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    data = make_synthetic(n=1200, seed=0)
    cats = {s.id: s.meta["interaction"] for s in data.samples}  # planted ground truth
    system = train_experts(EmbeddingScorer(fusion="tensor", epochs=40, seed=0), data, cats, cats,
                           router=InteractionRouter(seed=0))
    default = evaluate_experts(system, data, categories=cats)

    text_dim = 384  # MiniLM part of EmbeddingScorer.features

    def raw_features(ds):
        pixels = np.stack([np.asarray(s.inputs["image"], dtype=np.float64).ravel() for s in ds.samples])
        return np.concatenate([system.baseline.features(ds)[:, :text_dim], pixels], axis=1)

    train, dev = data.split("train"), data.split("dev")
    y_train = group_categories([cats[i] for i in train.ids])
    y_dev = group_categories([cats[i] for i in dev.ids])
    router = InteractionRouter(seed=0, classes=system.experts).fit(
        raw_features(train), list(y_train), X_val=raw_features(dev), y_val=list(y_dev))
    raw = evaluate_experts(dataclasses.replace(system, router=router, router_features=raw_features), data,
                           categories=cats)
    return {"default": default, "raw": raw}


def test_synergy_expert_raises_synergy_f1(run: dict[str, Any]) -> None:
    s_row = next(r for r in run["default"]["rq2"] if r["category"] == "S")
    assert s_row["own_expert"] == "S"
    assert s_row["expert_S_f1"] > s_row["baseline_f1"] + 0.1, s_row


def test_oracle_is_an_upper_bound_for_routing(run: dict[str, Any]) -> None:
    for name, report in run.items():
        assert _macro(report, "oracle") >= _macro(report, "router_soft"), name
        assert _macro(report, "oracle") > _macro(report, "baseline") + 0.05, name


def test_router_soft_beats_baseline_with_input_level_router(run: dict[str, Any]) -> None:
    report = run["raw"]
    assert report["router_confusion"]["acc"] > run["default"]["router_confusion"]["acc"]
    assert _macro(report, "router_soft") > _macro(report, "baseline"), (
        _macro(report, "router_soft"), _macro(report, "baseline"))


@pytest.mark.xfail(strict=True, reason=(
    "known gap: EmbeddingScorer.features keeps too little of the image style that encodes the planted "
    "type (image style decodable at ~0.79 from features vs 1.0 from pixels), so the router reaches "
    "~0.67-0.71 accuracy and router_soft trails the baseline by ~0.7-3.3 macro-F1 points (seeds 0-2); "
    "see docs/experts.md"))
def test_router_soft_beats_baseline_with_scorer_features(run: dict[str, Any]) -> None:
    report = run["default"]
    soft, base = _macro(report, "router_soft"), _macro(report, "baseline")
    assert soft > base, f"router_soft {soft:.4f} vs baseline {base:.4f} (router acc " \
                        f"{report['router_confusion']['acc']:.3f})"
