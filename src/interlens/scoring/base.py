"""The Scorer protocol and the cached prediction loop shared by every scorer.

A scorer follows the scikit-learn contract: the constructor only stores parameters, ``fit``
returns ``self`` and sets state ending in ``_``, ``predict_proba(dataset, view)`` returns
:class:`~interlens.predictions.Predictions`. ``fingerprint`` identifies the scorer *and its learned
state* (parameters, training-data fingerprint, seed), so cached predictions can never come from a
different model or prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..cache import PredictionCache
from ..data.schema import Dataset
from ..predictions import Predictions
from ..views import View


@runtime_checkable
class Scorer(Protocol):
    """What every scorer provides."""

    name: str

    @property
    def fingerprint(self) -> str: ...

    def fit(self, dataset: Dataset, view: View | str | None = None) -> Scorer: ...

    def predict_proba(self, dataset: Dataset, view: View | str) -> Predictions: ...


def fingerprint_of(*parts: Any) -> str:
    """Stable 16-hex-char hash of JSON-serialisable parts."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached_predict(
    scorer: Any,
    dataset: Dataset,
    view: View | str,
    *,
    cache: PredictionCache | None = None,
    batch_size: int = 256,
    compute: Callable[[Dataset, View], np.ndarray] | None = None,
    progress: bool = False,
) -> Predictions:
    """Probabilities for every sample of ``dataset`` under ``view``, reusing and filling ``cache``.

    ``compute(sub_dataset, view) -> probs[n, K]`` does the real work for the samples not yet
    cached (default: ``scorer.predict_proba(sub, view).probs``). Each batch is committed to the
    cache before the next starts, so an interrupted run resumes from the cache. Results do not
    depend on ``batch_size``: scorers must score each sample independently of its batch.
    """
    view = View.parse(view).check(dataset.modalities, dataset.source)
    compute = compute or (lambda sub, v: scorer.predict_proba(sub, v).probs)
    key = (scorer.fingerprint, str(view), dataset.fingerprint())
    ids = dataset.ids
    found = cache.get(*key, ids) if cache is not None else {}
    todo = [i for i in ids if i not in found]
    bar = None
    if progress and todo:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"{scorer.name} · {view}", total=len(todo))
    try:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            probs = np.asarray(compute(dataset.subset(chunk), view), dtype=np.float64)
            if cache is not None:
                cache.put(*key, chunk, probs)
            found.update(zip(chunk, probs, strict=True))
            if bar is not None:
                bar.advance(task, len(chunk))
    finally:
        if bar is not None:
            bar.stop()
    probs = np.stack([found[i] for i in ids]) if ids else np.zeros((0, len(dataset.labels)))
    return Predictions(ids, dataset.labels, probs, str(view), scorer.fingerprint, dataset.fingerprint(),
                       meta={"scorer_name": scorer.name, "cached": len(ids) - len(todo), "computed": len(todo)})
