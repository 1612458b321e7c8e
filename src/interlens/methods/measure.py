"""The measure methods in the one method shape (issue 29 item 1): ``run(config, dataset, scorer) -> Result``
for MMoE categorisation (Algorithm 1), the MINT interaction score (Eq. 1) and MINT task grouping (Eq. 2 and
Sec. 3.3). Thin wrappers over :mod:`interlens.measure` (the maths is unchanged)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from .config import MethodConfig
from .result import Result


class CategorizeConfig(MethodConfig):
    """``interactions categorize``: per-sample R / U1 / U2 / S (MMoE Algorithm 1) with the score beside it.

    ``files``: precomputed predictions per view (``{m1: file, m2: file, "m1+m2": file}``) instead of a scorer.
    """

    command: ClassVar[str] = "interactions categorize"
    title: ClassVar[str] = "Interaction categories"

    modalities: tuple[str | None, str | None] | None = None
    split: str | None = "test"
    fit_split: str | None = "train"
    val_split: str | None = "dev"
    reference: Literal["gold", "multimodal"] = "gold"
    S: int = Field(100, ge=1)
    C: int | None = Field(None, ge=1)
    seed: int = 0
    label_map: dict[str, str] | None = None
    files: dict[str, Path] | None = None
    categorize_train_steps: bool | None = None
    progress: bool = False


class ScoreConfig(CategorizeConfig):
    """``interactions score``: the dataset-level MINT interaction score (Eq. 1) with a bootstrap interval."""

    command: ClassVar[str] = "interactions score"
    title: ClassVar[str] = "Interaction score"

    reference: Literal["gold", "multimodal"] = "multimodal"


class GroupConfig(MethodConfig):
    """``interactions group``: distances between datasets' scores (MINT Eq. 2) and R / U / S task groups;
    ``results``: results.json files (or their folders) of score runs. Needs no dataset or scorer."""

    command: ClassVar[str] = "interactions group"

    results: tuple[Path, ...]
    delta: Literal["exact", "soft"] = "exact"
    n_groups: int = Field(3, ge=1)


@contextlib.contextmanager
def using(executor: Any) -> Iterator[None]:
    """Run the block on ``executor`` (the current one when None)."""
    if executor is None:
        yield
        return
    from ..execution.base import use_executor

    with use_executor(executor):
        yield


def run(config: CategorizeConfig | GroupConfig, dataset: Any = None, scorer: Any = None, *, executor: Any = None,
        cache: Any = None, checkpoint_dir: str | Path | None = None) -> Result:
    """Categorise / score ``dataset`` with ``scorer`` (fitted on ``config.fit_split`` when it needs it), or
    group score results (:class:`GroupConfig`). The result's ``payload`` is the
    :class:`~interlens.measure.InteractionReport` (its ``to_dict()`` is results.json), with its plots,
    report.md and per-sample predictions written by :meth:`Result.save`."""
    if isinstance(config, GroupConfig):
        return _group(config)
    from ..measure import measure_interactions, report_evidence, write_report_files

    with using(executor):
        report = measure_interactions(
            dataset, scorer, modalities=config.modalities, split=config.split, fit_split=config.fit_split,
            val_split=config.val_split, reference=config.reference, cache=cache,
            categorize_train_steps=config.categorize_train_steps, S=config.S, C=config.C, seed=config.seed,
            progress=config.progress, files=config.files, label_map=config.label_map, checkpoint_dir=checkpoint_dir)
    rows, checks = report_evidence(report)

    def files(out: Path, payload: dict[str, Any]) -> dict[str, Any]:
        write_report_files(report, out, title=config.title)
        return {}

    return Result.create(config.command, report, config=config, dataset=dataset, scorer=scorer,
                         seeds=[config.seed], predictions=rows, checks=checks, writers=[files])


def _group(config: GroupConfig) -> Result:
    from ..measure import group_results, load_score_results

    summary = group_results(load_score_results(config.results, config.delta), config.delta, config.n_groups)

    def plot(out: Path, payload: dict[str, Any]) -> dict[str, Any]:
        from ..report.plots import score_with_ci

        names = summary["distance"]["names"]
        if names:
            score_with_ci({n: (summary["scores"][n], *summary["intervals"][n]) for n in names}, out / "scores.png")
        return {}

    return Result.create(config.command, summary, config=config, writers=[plot])
