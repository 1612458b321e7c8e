"""The MINT study in the one method shape (issue 29 item 1): ``run(config, tasks, scorer) -> Result``, a thin
wrapper over :func:`interlens.mint.study.run_mint_study` (score each task's utterance-context interaction,
group the tasks, compare the training regimes; MINT Sec. 3). The dataset argument is the study's tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..scoring.base import Capability
from .config import MethodConfig
from .measure import using
from .result import Result


class MintConfig(MethodConfig):
    """``mint run``: the settings of :func:`~interlens.mint.study.run_mint_study`."""

    command: ClassVar[str] = "mint run"
    needs: ClassVar[frozenset[Capability]] = frozenset({Capability.TRAINABLE})

    regimes: tuple[Literal["group", "all", "single", "insta"], ...] = Field(("group", "all", "single", "insta"),
                                                                        min_length=1)
    grouping: Literal["prototype", "clustering"] = "prototype"
    n_groups: int = Field(3, ge=1)
    score_split: str = "dev"
    eval_split: str = "test"
    delta: Literal["exact", "soft"] = "exact"
    S: int = Field(100, ge=1)
    max_train: int | None = Field(None, ge=1)
    seeds: tuple[int, ...] = Field((0,), min_length=1)
    subset_seed: int | None = None
    modalities: dict[str, tuple[str, str]] | None = None


def run(config: MintConfig, tasks: Sequence[Any], scorer: Any, *, executor: Any = None,
        checkpoint_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> Result:
    """Run the MINT study on ``tasks`` (datasets, or registered names / dataset files) with ``scorer``.
    ``checkpoint_dir``: where finished seeds are kept so a killed study resumes (``seeds/seed<k>.json``);
    :meth:`Result.save` draws ``radar.png``, writes ``table.md``, the stored predictions and results.json."""
    from ..mint.study import radar_plot, run_mint_study, table_markdown

    with using(executor):
        results = run_mint_study(list(tasks), scorer, regimes=config.regimes, grouping=config.grouping,
                                 n_groups=config.n_groups, score_split=config.score_split,
                                 eval_split=config.eval_split, delta=config.delta, S=config.S,
                                 max_train=config.max_train, seeds=config.seeds, subset_seed=config.subset_seed,
                                 modalities=config.modalities, out=checkpoint_dir, progress=log,
                                 write=False)

    def files(out: Path, payload: dict[str, Any]) -> dict[str, Any]:
        from ..io import atomic_write_text

        seeds = list(config.seeds)
        radar_plot(payload["table"]["acc"], out / "radar.png",
                   title=f"MINT regimes ({getattr(scorer, 'name', scorer)}), mean accuracy over {len(seeds)} seed(s)")
        atomic_write_text(out / "table.md", table_markdown(payload["summary"], payload["significance"],
                                                           list(config.regimes), seeds=seeds,
                                                           flagged=payload["at_or_below_floor"]))
        return {"files": ["results.json", "table.md", "radar.png"]}

    datasets = [t for t in tasks if hasattr(t, "fingerprint")]
    return Result.create(config.command, results, config=config, datasets=datasets, scorer=scorer,
                         seeds=list(config.seeds), writers=[files])
