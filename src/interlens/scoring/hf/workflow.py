"""One LoRA SFT run as a plain function (what ``interlens train`` calls): fit, select, save, report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...data.schema import Dataset
from ...errors import DataError
from ..registry import make_scorer
from .scorers import VAL_SPLITS, HFLMScorer
from .training import TrainConfig, evaluate_labels


def train_adapter(dataset: Dataset, *, scorer: str = "hf-lm", model_path: str | os.PathLike,
                  view: str | None = None, adapter: str = "default", config: TrainConfig | None = None,
                  out: str | os.PathLike | None = None, **scorer_kwargs: Any) -> dict[str, Any]:
    """LoRA-tune ``adapter`` on ``dataset``'s train split (the whole dataset when it has no splits;
    selection on its validation split), save it under ``out/adapters/<adapter>/`` and return a
    JSON-ready summary (losses, evaluations, test metrics)."""
    model = make_scorer(scorer, model_path=model_path, adapter=adapter, train=config or TrainConfig(),
                        **scorer_kwargs)
    if not isinstance(model, HFLMScorer):
        raise DataError(f"interlens train fine-tunes hf-lm / hf-vlm models, not {scorer!r}", field="scorer")
    view = str(model.check_view(dataset, view or model.default_view(dataset)))
    train = dataset.split("train") if "train" in dataset.splits else dataset
    val_name = next((s for s in VAL_SPLITS if s in dataset.splits), None)
    model.fit(train, [view], val=dataset.split(val_name) if val_name else None)
    result = model.train_result_
    name = model.adapters_[model._key(view)]
    summary: dict[str, Any] = {"scorer": scorer, "model_path": str(model_path), "dataset": dataset.name,
                               "view": view, "adapter": name, "template": model.builder_.template_key,
                               "train": result.to_dict(), "fingerprint": model.fingerprint}
    if "test" in dataset.splits:
        test = dataset.split("test")
        logprobs: dict[str, Any] = {}
        summary["test"] = evaluate_labels(model.model_, model.builder_, [test], view, adapter=name,
                                          batch_size=model.batch_size, device=model.device,
                                          logprobs_out=logprobs)[test.name]
        _evidence(summary, test, logprobs[test.name], view)
    if out is not None:
        info = model.save_adapters(Path(out) / "adapters")
        summary["adapter_dir"] = str(info.folders[name])
    return summary



def _evidence(summary: dict[str, Any], test: Dataset, logprobs: Any, view: str) -> None:
    """Issue 26: the test predictions (label likelihoods, normalised) and the checks re-deriving
    ``summary["test"]``, handed to the results writer under ``_evidence`` (rows in the shape of
    :mod:`interlens.evidence.store`, built here: scoring sits below the evidence package)."""
    from ...torch_utils import softmax

    probs = softmax(logprobs, axis=1)
    rows = [{"id": str(i), "gold": int(g), "pred": int(p.argmax()), "probs": [float(v) for v in p], "seed": None,
             "model": view, "split": "test"} for i, g, p in zip(test.ids, test.y, probs, strict=True)]
    checks = [{"pointer": f"/test/{m}", "metric": m, "model": view, "split": "test", "seed": "mean",
               "n_labels": len(test.labels)}
              for m in ("acc", "weighted_f1", "weighted_p", "macro_f1", "macro_r", "macro_p")
              if isinstance(summary["test"].get(m), int | float)]
    summary["_evidence"] = {"rows": rows, "checks": checks}
