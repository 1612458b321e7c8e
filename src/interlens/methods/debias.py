"""The debias experiment in the one method shape (issue 29 item 1): ``run(config, dataset, scorer) -> Result``,
a thin wrapper over :func:`interlens.debias.evaluate.run_experiment` (baseline, MID, and the methods asked for:
MCTD, MME-JD with trained and oracle router, MRID; the debias paper's Sec. 4)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..scoring.base import Capability
from .config import MethodConfig
from .measure import using
from .result import Result


class DebiasConfig(MethodConfig):
    """``debias evaluate``: the methods beyond the baseline, the modalities, the seed, the data's size (``n``
    samples of the built-in ``spurious`` dataset; ``max_train``: a seeded random subset of train) and the
    experiment's ``experiment`` settings (:class:`~interlens.debias.plan.ExperimentSettings` keys, validated
    before any work; the CLI's ``--setting``)."""

    command: ClassVar[str] = "debias evaluate"
    needs: ClassVar[frozenset[Capability]] = frozenset({Capability.TRAINABLE})

    methods: tuple[Literal["mid", "mctd", "mmejd"], ...] = ("mid", "mctd", "mmejd")
    text_modality: str | None = None
    image_modality: str | None = None
    seed: int = 0
    n: int = Field(3000, ge=1)
    max_train: int | None = Field(None, ge=1)
    experiment: dict[str, Any] = Field(default_factory=dict)

    def required(self) -> frozenset[Capability]:
        """The baseline's ``trainable`` plus what each method needs (:data:`interlens.debias.plan.NEEDS`); an
        image-kind image modality also needs ``input_gradients`` (saliency), which depends on the data and is
        checked by the plan before any work."""
        from ..debias.plan import NEEDS, methods_of

        return self.needs | {cap for m in methods_of(self.methods) for cap, _ in NEEDS[m]}


class DebiasTrainConfig(DebiasConfig):
    """``debias train --method M``: the same experiment with one method beside the baseline and MID (its
    results carry ``kind`` ``interlens.debias.train``)."""

    command: ClassVar[str] = "debias train"


def run(config: DebiasConfig, dataset: Any, scorer: Any, *, executor: Any = None,
        workdir: str | Path | None = None, scorer_options: Mapping[str, Any] | None = None,
        data_root: str | os.PathLike | None = None, dataset_options: Mapping[str, Any] | None = None) -> Result:
    """Run the experiment on ``dataset`` with ``scorer`` (its figures and counterfactual files go to
    ``workdir`` when given; save the result into the same folder to keep them together).

    ``dataset``: a Dataset, ``"spurious"`` (``config.n`` samples, ``config.seed``), a registered name or a
    dataset file (with ``data_root`` / ``dataset_options``); ``scorer``: a Scorer or a registered name (with
    ``scorer_options``; the debias defaults fill the rest). Both are resolved by
    :func:`interlens.debias.pipeline.prepare_debias` (the scorer is refused before any data is read when it
    lacks a capability the methods need); ``config.max_train`` subsets train."""
    from ..debias.evaluate import run_experiment
    from ..debias.pipeline import prepare_debias
    from ..debias.plan import ExperimentSettings

    settings = ExperimentSettings.build(None, config.experiment)
    data, model = prepare_debias(dataset, scorer, dict(scorer_options or {}), config.methods, n=config.n,
                                 seed=config.seed, data_root=data_root, options=dict(dataset_options or {}),
                                 max_train=config.max_train)
    with using(executor):
        results = run_experiment(data, scorer=model, text_modality=config.text_modality,
                                 image_modality=config.image_modality, methods=config.methods, out=workdir,
                                 seed=config.seed, settings=settings)
    results["command"] = DebiasConfig.command  # the experiment that ran (``debias train`` runs it too)
    return Result.create(config.command, results, config=config, dataset=data, scorer=model, seeds=[config.seed])
