"""The debias experiment in the one method shape (issue 29 item 1): ``run(config, dataset, scorer) -> Result``,
a thin wrapper over :func:`interlens.debias.evaluate.run_experiment` (baseline, MID, and the methods asked for:
MCTD, MME-JD with trained and oracle router, MRID; the debias paper's Sec. 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..scoring.base import Capability
from .config import MethodConfig
from .measure import using
from .result import Result


class DebiasConfig(MethodConfig):
    """``debias evaluate``: the methods beyond the baseline, the modalities, the seed and the experiment's
    ``experiment`` settings (:class:`~interlens.debias.plan.ExperimentSettings` keys, validated before any work)."""

    command: ClassVar[str] = "debias evaluate"
    needs: ClassVar[frozenset[Capability]] = frozenset({Capability.TRAINABLE})

    methods: tuple[Literal["mid", "mctd", "mmejd"], ...] = ("mid", "mctd", "mmejd")
    text_modality: str | None = None
    image_modality: str | None = None
    seed: int = 0
    experiment: dict[str, Any] = Field(default_factory=dict)

    def required(self) -> frozenset[Capability]:
        """The baseline's ``trainable`` plus what each method needs (:data:`interlens.debias.plan.NEEDS`); an
        image-kind image modality also needs ``input_gradients`` (saliency), which depends on the data and is
        checked by the plan before any work."""
        from ..debias.plan import NEEDS, methods_of

        return self.needs | {cap for m in methods_of(self.methods) for cap, _ in NEEDS[m]}


def run(config: DebiasConfig, dataset: Any, scorer: Any, *, executor: Any = None,
        workdir: str | Path | None = None) -> Result:
    """Run the experiment on ``dataset`` with ``scorer`` (its figures and counterfactual files go to
    ``workdir`` when given; save the result into the same folder to keep them together)."""
    from ..debias.evaluate import run_experiment
    from ..debias.plan import ExperimentSettings

    settings = ExperimentSettings.build(None, config.experiment)
    with using(executor):
        results = run_experiment(dataset, scorer=scorer, text_modality=config.text_modality,
                                 image_modality=config.image_modality, methods=config.methods, out=workdir,
                                 seed=config.seed, settings=settings)
    results["command"] = config.command
    return Result.create(config.command, results, config=config, dataset=dataset, scorer=scorer, seeds=[config.seed])
