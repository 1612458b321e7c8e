"""The benchmark's scorer registry: name -> factory(seed=..., **params).

``embedding`` (frozen MiniLM + trainable head) and the HF LM scorers come from
:mod:`interlens.scoring.registry` (so does ``minilm-ft``, the fine-tuned MiniLM of :mod:`.finetune`).
Only the benchmark-specific extras live here. ``register_scorer`` adds one (tests use it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import unknown_name


def _from_scoring(name: str) -> Callable[..., Any]:
    def factory(**kw: Any) -> Any:
        from ..scoring.registry import make_scorer

        return make_scorer(name, **kw)

    return factory


BENCH_SCORERS: dict[str, Callable[..., Any]] = {
    "minilm-ft": _from_scoring("minilm-ft"),
    "embedding": _from_scoring("embedding"),
    "hf-lm": _from_scoring("hf-lm"),
}
# methods each scorer supports (zero-shot needs a model that scores labels without training)
ZERO_SHOT = {"hf-lm"}


def register_scorer(name: str, factory: Callable[..., Any], *, zero_shot: bool = False) -> None:
    BENCH_SCORERS[name] = factory
    if zero_shot:
        ZERO_SHOT.add(name)


def make_bench_scorer(name: str, **params: Any) -> Any:
    if name not in BENCH_SCORERS:
        raise unknown_name("scorer", name, list(BENCH_SCORERS))
    return BENCH_SCORERS[name](**params)
