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
        summary["test"] = evaluate_labels(model.model_, model.builder_, [test], view, adapter=name,
                                          batch_size=model.batch_size, device=model.device)[test.name]
    if out is not None:
        info = model.save_adapters(Path(out) / "adapters")
        summary["adapter_dir"] = str(info.folders[name])
    return summary
