"""The benchmark in the one method shape (issue 29 item 1): ``run(config, tasks, scorer) -> Result``, a thin
wrapper over :class:`interlens.bench.runner.Runner` (tasks x seeds with one scorer and method, MMLA-style;
the runner keeps its unit scheduler, its resumable run folder and its per-sample files)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..scoring.base import Capability
from .config import MethodConfig
from .result import Result


class BenchConfig(MethodConfig):
    """``bench run``: the method (zero-shot / sft / it), the seeds, a sample limit, the bootstrap size (0: no
    intervals), whether trained models are saved, and ``new_look`` (allow a test evaluation of a configuration
    the run's pre-registered plan did not fix; it is counted as a new test look)."""

    command: ClassVar[str] = "bench run"

    method: Literal["zero-shot", "sft", "it"] = "zero-shot"
    seeds: tuple[int, ...] = Field((0,), min_length=1)
    limit: int | None = Field(None, ge=1)
    n_boot: int = Field(1000, ge=0)
    save_models: bool = False
    new_look: bool = False

    def required(self) -> frozenset[Capability]:
        """What the runner checks for this method (:data:`interlens.bench.runner.NEEDS`)."""
        from ..bench.runner import NEEDS, _parse_method

        return self.needs | {NEEDS[_parse_method(self.method)]}


def _scorer(scorer: Any, scorer_params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(registered name, parameters the runner rebuilds the scorer from per seed): a name with
    ``scorer_params``, or an unfitted scorer's parameters (less its in-memory objects and seed) updated by them."""
    if isinstance(scorer, str):
        return scorer, dict(scorer_params or {})
    hidden = set(getattr(scorer, "_unhashed_params", ())) | {"seed"}
    kept = {k: v for k, v in scorer.get_params().items() if k not in hidden}
    return scorer.name, {**kept, **dict(scorer_params or {})}


def build_runner(config: BenchConfig, tasks: Sequence[Any], scorer: Any, *, workdir: str | Path,
                 data_root: str | Path | None = None, log: Callable[[str], None] | None = None,
                 scorer_params: Mapping[str, Any] | None = None,
                 auxiliary: Mapping[str, Sequence[Any]] | None = None) -> Any:
    """The :class:`~interlens.bench.runner.Runner` of :func:`run` (everything is checked now, before any work):
    what a caller builds itself to inspect the run folder or prefit ensemble members first."""
    from ..bench.runner import Runner

    name, params = _scorer(scorer, scorer_params)
    return Runner(list(tasks), name, config.method, list(config.seeds), workdir, scorer_params=params,
                  data_root=data_root, limit=config.limit, n_boot=config.n_boot, log=log,
                  save_models=config.save_models, auxiliary=auxiliary)


def run(config: BenchConfig, tasks: Sequence[Any], scorer: Any, *, executor: Any = None,
        workdir: str | Path, data_root: str | Path | None = None,
        log: Callable[[str], None] | None = None, scorer_params: Mapping[str, Any] | None = None,
        auxiliary: Mapping[str, Sequence[Any]] | None = None, plan: Any = None, runner: Any = None) -> Result:
    """Run (or resume) ``tasks`` (:class:`~interlens.bench.registry.TaskSpec`) x ``config.seeds`` with
    ``scorer`` (a registered name with ``scorer_params``, or an unfitted scorer whose name and parameters the
    runner rebuilds per seed) in the run folder ``workdir`` (units, per-sample files, checkpoints).
    ``auxiliary``: ``{task: [TaskSpec]}`` whose training samples are pooled into the task's (sft); ``plan``: a
    pre-registered plan (file or :class:`~interlens.evidence.plan.Plan`) the test looks are counted under
    (``config.new_look``); ``runner``: the :func:`build_runner` of these arguments, already built. The payload
    is the bench results.json (``bench_payload`` plus the chance-floor verdict)."""
    from ..bench.runner import bench_verdict
    from ..evidence.bench import bench_payload
    from ..scoring.registry import make_scorer

    if runner is None:
        runner = build_runner(config, tasks, scorer, workdir=workdir, data_root=data_root, log=log,
                              scorer_params=scorer_params, auxiliary=auxiliary)
    results = runner.run(executor, plan=plan, new_look=config.new_look)
    payload = {**bench_payload(runner, results), **bench_verdict(results, workdir, limited=config.limit is not None)}
    if isinstance(scorer, str):  # the scorer of the provenance: the one the parameters rebuild
        name, params = _scorer(scorer, scorer_params)
        scorer = make_scorer(name, **params)
    return Result.create(config.command, payload, config=config, scorer=scorer, seeds=list(config.seeds),
                         limits={"limit": config.limit} if config.limit is not None else None)
