"""The MMoE experts study in the one method shape (issue 29 item 1): ``run(config, dataset, scorer) -> Result``,
a thin wrapper over :func:`interlens.experts.pipeline.train_experts_study` (baseline, one expert per interaction
group, a router; every fusion strategy on test; MMoE Sec. 3-4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..experts.train import MIN_SUBSET
from ..scoring.base import Capability
from .config import MethodConfig
from .measure import using
from .result import Result


class ExpertsConfig(MethodConfig):
    """``experts train``: the settings of :func:`~interlens.experts.pipeline.train_experts_study`."""

    command: ClassVar[str] = "experts train"
    needs: ClassVar[frozenset[Capability]] = frozenset({Capability.TRAINABLE, Capability.FINETUNE,
                                                        Capability.FEATURES})

    categories: Literal["planted", "measured", "auto"] = "auto"
    seeds: tuple[int, ...] = Field((0, 1, 2), min_length=1)
    grouping: Literal["mmoe", "split_u"] = "mmoe"
    delta: float = 0.1
    train_filters: bool = True
    modalities: tuple[str, ...] | None = None
    folds: int = Field(2, ge=2)
    view: str | None = None
    min_subset: int = Field(MIN_SUBSET, ge=1)
    expert_epochs: int | None = Field(None, ge=1)
    expert_lr: float | None = None
    router: Literal["mlp", "linear", "logreg"] = "mlp"
    class_balanced: bool = False
    rq4: bool = False
    n_random: int = Field(3, ge=1)
    max_train: int | None = Field(None, ge=1)


def run(config: ExpertsConfig, dataset: Any, scorer: Any, *, executor: Any = None,
        save_models: str | Path | None = None, log: Callable[[str], None] | None = None) -> Result:
    """Train and evaluate the experts study; :meth:`Result.save` draws the fusion plots and writes the
    per-sample predictions and results.json. ``save_models``: a folder for each seed's models."""
    from ..experts.pipeline import experts_plots, train_experts_study

    with using(executor):
        results = train_experts_study(dataset, scorer, categories=config.categories, seeds=config.seeds,
                                      grouping=config.grouping, delta=config.delta,
                                      train_filters=config.train_filters, modalities=config.modalities,
                                      folds=config.folds, view=config.view, min_subset=config.min_subset,
                                      expert_epochs=config.expert_epochs, expert_lr=config.expert_lr,
                                      router=config.router, class_balanced=config.class_balanced, rq4=config.rq4,
                                      n_random=config.n_random, log=log, save_models=save_models,
                                      max_train=config.max_train)
    return Result.create(config.command, results, config=config, dataset=dataset, scorer=scorer,
                         seeds=list(config.seeds), writers=[experts_plots])
