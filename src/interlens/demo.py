"""``interlens demo``: the main job on built-in data, offline, in well under two minutes.

Synthetic text + digit-image data with planted interaction types -> embedding scorer (MiniLM text
encoder, small image encoder) -> unimodal and multimodal predictions -> categories (MMoE Alg. 1)
checked against the planted truth -> MINT score -> report.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .cache import PredictionCache
from .data.synthetic import ground_truth, make_synthetic
from .measure import measure_interactions, write_report


def run_demo(out: str | Path, *, n: int = 2000, seed: int = 0, cache_path: str | Path | None = None,
             use_cache: bool = True, experts: bool = True, progress: bool = False) -> dict[str, Any]:
    """Run the demo and write ``out/results.json`` (+ report.md and plots). Returns the results dict."""
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    start = time.perf_counter()
    out = Path(out)
    dataset = make_synthetic(n=n, seed=seed)
    from .scoring.embedding import EmbeddingScorer

    scorer = EmbeddingScorer(seed=seed)
    cache = PredictionCache(cache_path if cache_path else out / "cache.sqlite") if use_cache else None
    try:
        report = measure_interactions(dataset, scorer, modalities=("text", "image"), split="test",
                                      reference="gold", cache=cache, progress=progress)
    finally:
        if cache is not None:
            cache.close()
    truth = ground_truth(dataset.split("test"))
    types = ["R", "U1", "U2", "S"]
    confusion = {t: {c: int(((truth == t) & (report.categories == c)).sum()) for c in [*types, "missing"]}
                 for t in types}
    extra: dict[str, Any] = {
        "categorization_accuracy": float(np.mean(report.categories == truth)),
        "categorization_confusion": {"rows": "planted type", "columns": "measured category", "counts": confusion},
        "synthetic": {"n": n, "seed": seed, "proportions": dataset.info["proportions"],
                      "splits": {k: len(v) for k, v in dataset.splits.items()}},
    }
    if experts:
        try:
            from .experts.demo import demo_experts
        except ImportError:  # experts module not installed in this build
            demo_experts = None
        if demo_experts is not None:
            extra.update(demo_experts(dataset, scorer, progress=progress))
    extra["runtime_seconds"] = time.perf_counter() - start
    write_report(report, out, extra=extra, title="interlens demo")
    return report.to_dict() | extra
