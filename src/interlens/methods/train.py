"""``interlens train`` in the one method shape (issue 29 items 1 and 4): ``run(config, dataset, scorer) -> Result``
fits any trainable, savable scorer on the train split (selection on the validation split), saves it with its
own ``save_pretrained`` under ``workdir/model`` (reload: ``<Scorer>.from_pretrained``, docs/saved-models.md)
and reports each fitted view's metrics on the validation and test splits (the test split is a test look,
issue 26). The LoRA SFT of the Hugging Face LM scorers keeps its own path
(:func:`interlens.scoring.hf.workflow.train_adapter`, called by the CLI)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from ..scoring.base import Capability, require
from .config import MethodConfig
from .measure import using
from .result import Result


class TrainConfig(MethodConfig):
    """``interlens train`` (non-LoRA scorers): the views to fit (default: the scorer's, every readable modality
    alone plus all together) and whether the fitted scorer is saved."""

    command: ClassVar[str] = "train"
    needs: ClassVar[frozenset[Capability]] = frozenset({Capability.TRAINABLE, Capability.SAVABLE})

    views: tuple[str, ...] | None = None
    save_models: bool = True


def run(config: TrainConfig, dataset: Any, scorer: Any, *, executor: Any = None,
        workdir: str | Path | None = None) -> Result:
    """Fit ``scorer`` (unfitted) on ``dataset``'s train split (the whole dataset when it has no splits; selection
    on its validation split) for ``config.views``; with ``config.save_models`` and a ``workdir``, save it under
    ``workdir/model``. The payload: scorer, dataset, views, val_split, fingerprint, fit_seconds, the model folder
    and how to reload it, and ``metrics[split][view]`` (ACC, F1, ... on the validation and test splits)."""
    from ..evidence.ledger import record_evaluation
    from ..evidence.store import metric_checks, view_rows
    from ..metrics import classification_metrics
    from ..scoring.hf.scorers import VAL_SPLITS

    require(scorer, Capability.TRAINABLE, "interlens train")
    require(scorer, Capability.SAVABLE, "interlens train (saves with save_pretrained)")
    views = [str(scorer.check_view(dataset, v)) for v in config.views] if config.views else None
    train_set = dataset.split("train") if "train" in dataset.splits else dataset
    val_name = next((s for s in VAL_SPLITS if s in dataset.splits), None)
    started = time.perf_counter()
    with using(executor):
        scorer.fit(train_set, views, val=dataset.split(val_name) if val_name else None)
    payload: dict[str, Any] = {"scorer": scorer.name, "dataset": dataset.name, "views": views, "val_split": val_name,
                               "fingerprint": scorer.fingerprint,
                               "fit_seconds": round(time.perf_counter() - started, 3),
                               "train_set": train_set.name, "n_train": len(train_set)}
    fitted = [str(v) for v in scorer.fit_views(train_set, views)]
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    metrics: dict[str, dict[str, Any]] = {}
    for split in [s for s in (val_name, "test") if s is not None and s in dataset.splits]:
        part = dataset.split(split)
        probs = {v: scorer.predict_proba(part, v).probs for v in fitted}
        metrics[split] = {v: classification_metrics(part.y, p.argmax(axis=1), len(part.labels))
                          for v, p in probs.items()}
        rows += view_rows(part.ids, part.y, probs, split=split)
        checks += metric_checks(f"/metrics/{split}", metrics[split], split=split, n_labels=len(part.labels))
    payload["metrics"] = metrics
    if "test" in metrics:  # issue 26: a test look
        payload["test_looks"] = {dataset.name: record_evaluation(dataset, "test", {
            "method": "train", "scorer": scorer.name, "fingerprint": scorer.fingerprint, "views": fitted})}
    if config.save_models and workdir is not None:
        folder = Path(workdir) / "model"
        scorer.save_pretrained(folder)
        payload["model_dir"] = str(folder)
        payload["models"] = {scorer.name: str(folder)}
        payload["reload"] = f"{type(scorer).__module__}.{type(scorer).__name__}.from_pretrained({str(folder)!r})"
    seed = scorer.get_params().get("seed")
    return Result.create(config.command, payload, config=config, dataset=dataset, scorer=scorer,
                         seeds=[seed] if isinstance(seed, int) else None, predictions=rows or None,
                         checks=checks or None)
