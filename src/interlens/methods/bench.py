"""The benchmark in the one method shape (issue 29 item 1): ``run(config, tasks, scorer) -> Result``, a thin
wrapper over :class:`interlens.bench.runner.Runner` (tasks x seeds with one scorer and method, MMLA-style;
the runner keeps its unit scheduler, its resumable run folder and its per-sample files)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..scoring.base import Capability
from .config import MethodConfig
from .result import Result


class BenchConfig(MethodConfig):
    """``bench run``: the method (zero-shot / sft / it), the seeds, a sample limit and the bootstrap size."""

    command: ClassVar[str] = "bench run"

    method: Literal["zero-shot", "sft", "it"] = "zero-shot"
    seeds: tuple[int, ...] = Field((0,), min_length=1)
    limit: int | None = Field(None, ge=1)
    n_boot: int = Field(1000, ge=1)
    save_models: bool = False

    def required(self) -> frozenset[Capability]:
        """What the runner checks for this method (:data:`interlens.bench.runner.NEEDS`)."""
        from ..bench.runner import NEEDS, _parse_method

        return self.needs | {NEEDS[_parse_method(self.method)]}


def run(config: BenchConfig, tasks: Sequence[Any], scorer: Any, *, executor: Any = None,
        workdir: str | Path, data_root: str | Path | None = None,
        log: Callable[[str], None] | None = None) -> Result:
    """Run (or resume) ``tasks`` (:class:`~interlens.bench.registry.TaskSpec`) x ``config.seeds`` with
    ``scorer`` (a registered name, or an unfitted scorer whose name and parameters the runner rebuilds per
    seed) in the run folder ``workdir`` (units, per-sample files, checkpoints). The payload is the bench
    results.json (``bench_payload`` plus the chance-floor verdict)."""
    from ..bench.runner import Runner, bench_verdict
    from ..evidence.bench import bench_payload

    name = scorer if isinstance(scorer, str) else scorer.name
    params = {} if isinstance(scorer, str) else {k: v for k, v in scorer.get_params().items()
                                                 if k not in set(getattr(scorer, "_unhashed_params", ())) | {"seed"}}
    runner = Runner(list(tasks), name, config.method, list(config.seeds), workdir, scorer_params=params,
                    data_root=data_root, limit=config.limit, n_boot=config.n_boot, log=log,
                    save_models=config.save_models)
    results = runner.run(executor)
    payload = {**bench_payload(runner, results), **bench_verdict(results, workdir, limited=config.limit is not None)}
    return Result.create(config.command, payload, config=config, scorer=scorer, seeds=list(config.seeds),
                         limits={"limit": config.limit} if config.limit is not None else None)
