"""One LoRA SFT run as a plain function (what ``interlens train`` calls): fit, select, save, report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...data.schema import Dataset
from ...views import View
from .adapters import save_adapters
from .scorers import HFLMScorer, make_hf_scorer
from .training import TrainConfig, evaluate_labels


def train_adapter(dataset: Dataset, *, scorer: str = "hf-lm", model_path: str | os.PathLike,
                  view: str | None = None, adapter: str = "default", config: TrainConfig | None = None,
                  out: str | os.PathLike | None = None, **scorer_kwargs: Any) -> dict[str, Any]:
    """LoRA-tune ``adapter`` on ``dataset``'s train split (selection on its validation split), save it
    under ``out/adapters/<adapter>/`` and return a JSON-ready summary (losses, evaluations, metrics)."""
    model: HFLMScorer = make_hf_scorer(scorer, model_path, adapter=adapter, train=config or TrainConfig(),
                                       **scorer_kwargs)
    view = str(View.parse(view or model.default_view(dataset)).check(dataset.modalities, dataset.source))
    model.fit(dataset, view)
    result = model.train_result_
    summary: dict[str, Any] = {"scorer": scorer, "model_path": str(model_path), "dataset": dataset.name,
                               "view": view, "adapter": adapter, "template": model.builder_.template_key,
                               "train": result.to_dict(), "fingerprint": model.fingerprint}
    if "test" in dataset.splits:
        test = dataset.split("test")
        summary["test"] = evaluate_labels(model.model_, model.builder_, [test], view, adapter=adapter,
                                          batch_size=model.batch_size, device=model.device)[test.name]
    if out is not None:
        info = save_adapters(model.model_, Path(out) / "adapters", [adapter])
        summary["adapter_dir"] = str(info.folders[adapter])
    return summary
