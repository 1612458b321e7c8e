"""MMoE experts end to end on the synthetic data with planted interaction types (EmbeddingScorer).

One pipeline run (seed 0) is shared by the tests: baseline -> R/U/S experts fine-tuned from it ->
focal-loss router on ``EmbeddingScorer.features`` -> every fusion strategy on test.
"""

from __future__ import annotations

from typing import Any

import pytest

from interlens.data.synthetic import make_synthetic
from interlens.experts import InteractionRouter, evaluate_experts, train_experts
from interlens.scoring.embedding import EmbeddingScorer

pytestmark = pytest.mark.slow


def _macro(report: dict[str, Any], strategy: str) -> float:
    return next(r["macro_f1"] for r in report["rows"] if r["strategy"] == strategy)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    data = make_synthetic(n=1200, seed=0)
    cats = {s.id: s.meta["interaction"] for s in data.samples}  # planted ground truth
    system = train_experts(EmbeddingScorer(fusion="tensor", epochs=40, seed=0), data, cats, cats,
                           router=InteractionRouter(seed=0))
    return evaluate_experts(system, data, categories=cats)


def test_synergy_expert_raises_synergy_f1(report: dict[str, Any]) -> None:
    s_row = next(r for r in report["rq2"] if r["category"] == "S")
    assert s_row["own_expert"] == "S"
    assert s_row["expert_S_f1"] > s_row["baseline_f1"] + 0.1, s_row


def test_oracle_is_an_upper_bound_for_routing(report: dict[str, Any]) -> None:
    assert _macro(report, "oracle") >= _macro(report, "router_soft")
    assert _macro(report, "oracle") >= _macro(report, "router_top1")
    assert _macro(report, "oracle") > _macro(report, "baseline") + 0.05


def test_router_weighted_fusion_beats_single_baseline(report: dict[str, Any]) -> None:
    soft, base = _macro(report, "router_soft"), _macro(report, "baseline")
    assert soft > base, f"router_soft {soft:.4f} vs baseline {base:.4f} (router acc " \
                        f"{report['router_confusion']['acc']:.3f})"
    assert report["router_confusion"]["acc"] > 0.6
