"""Scorer registry (PEFT-style explicit mapping name -> factory) and the fit-or-reuse step.

``fit_and_predict`` is the one place that turns (dataset, scorer, views) into cached
Predictions: when every requested row is already in the cache under the fingerprint the fitted
scorer *will* have, fitting is skipped entirely (a second run is a cache read).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..cache import PredictionCache
from ..data.schema import Dataset
from ..errors import unknown_name
from ..predictions import Predictions
from ..views import View
from .base import cached_predict, fingerprint_of


def _embedding(**kw: Any):
    from .embedding import EmbeddingScorer

    return EmbeddingScorer(**kw)


def _precomputed(**kw: Any):
    from .precomputed import PrecomputedScorer

    return PrecomputedScorer(**kw)


def _minilm_ft(**kw: Any):
    from ..bench.finetune import MiniLMFineTuneScorer

    return MiniLMFineTuneScorer(**kw)


def _hf(name: str) -> Callable[..., Any]:
    def factory(**kw: Any):
        from .hf import make_hf_scorer

        return make_hf_scorer(name, **kw)

    return factory


SCORERS: dict[str, Callable[..., Any]] = {
    "embedding": _embedding,      # frozen MiniLM + small image encoder, trainable heads (CPU default)
    "precomputed": _precomputed,  # predictions read from files (other people's models, APIs)
    "hf-lm": _hf("hf-lm"),        # Hugging Face causal LM, label-likelihood scoring
    "hf-vlm": _hf("hf-vlm"),      # Hugging Face vision LM
    "minilm-ft": _minilm_ft,      # MiniLM fine-tuned end to end (the MMLA CPU default)
}


def make_scorer(name: str, **params: Any) -> Any:
    if name not in SCORERS:
        raise unknown_name("scorer", name, list(SCORERS))
    return SCORERS[name](**params)


@dataclass
class _Planned:
    """Stands in for a scorer whose predictions are all cached (no fitting needed)."""

    name: str
    fingerprint: str

    def predict_proba(self, dataset: Dataset, view: View) -> Predictions:  # pragma: no cover - never called
        raise RuntimeError("planned scorer has no model")


def planned_fingerprint(scorer: Any, train: Dataset, views: Sequence[str], val: Dataset | None) -> str | None:
    """The fingerprint ``scorer.fit(train, views, val=val)`` will produce (None if unknowable)."""
    if not hasattr(scorer, "get_params") or getattr(scorer, "name", "") != "embedding":
        return None
    history = [("fit", train.fingerprint(), [str(View.parse(v)) for v in views],
                val.fingerprint() if val is not None else None)]
    # json round-trip equality with EmbeddingScorer.fingerprint (tuples and lists hash alike)
    return fingerprint_of("embedding", scorer.get_params(), history)


def fit_and_predict(scorer: Any, dataset: Dataset, views: Sequence[str | View], *, eval_split: str | None,
                    fit_split: str | None = "train", val_split: str | None = "dev",
                    cache: PredictionCache | None = None, progress: bool = False, batch_size: int = 256
                    ) -> dict[str, Predictions]:
    """Predictions of ``scorer`` for each view on ``eval_split`` (whole dataset if None).

    Trainable scorers are fitted on ``fit_split`` (model selection on ``val_split`` when present);
    fitting is skipped when the cache already holds every row.
    """
    views = [View.parse(v).check(dataset.modalities, dataset.source) for v in views]
    target = dataset.split(eval_split) if eval_split else dataset
    trainable = hasattr(scorer, "fit") and getattr(scorer, "name", "") not in ("precomputed",)
    if trainable and fit_split:
        train = dataset.split(fit_split)
        val = dataset.split(val_split) if val_split and val_split in dataset.splits else None
        planned = planned_fingerprint(scorer, train, [str(v) for v in views], val)
        if planned is not None and cache is not None and all(
                len(cache.get(planned, str(v), target.fingerprint(), target.ids)) == len(target) for v in views):
            stand_in = _Planned(scorer.name, planned)
            return {str(v): cached_predict(stand_in, target, v, cache=cache) for v in views}
        status = contextlib.nullcontext()
        if progress:
            from rich.console import Console

            status = Console(stderr=True).status(f"fitting {scorer.name} on {train.name} ({len(train)} samples)")
        with status:
            if getattr(scorer, "name", "") == "embedding":
                scorer.fit(train, [str(v) for v in views], val=val)
            else:
                scorer.fit(train)
    return {str(v): cached_predict(scorer, target, v, cache=cache, progress=progress, batch_size=batch_size)
            for v in views}
