"""Benchmark runner: tasks x seeds under one method, resumable.

Methods (MMLA Sec. 4): ``zero-shot`` (no training; LLM scorers that score labels), ``sft`` (one model per
task and seed, trained on the task's fit split) and ``it`` (instruction tuning: one model per seed for
all tasks). For ``it`` with a classifier scorer, the model is trained once on the union of the tasks'
training data with task-prefixed labels (``mintrec:Complain``, ...) -- one shared head over the union
of label sets; at evaluation the probabilities of the task's own labels are taken and renormalised.

Every finished task x seed unit is written atomically to ``<out>/units/<method>__<task>__seed<k>.json``
together with a config hash (scorer, params, method, task spec, data fingerprint, limit); a re-run
skips units whose file exists with the same hash, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..io import read_json, write_json
from ..scoring.base import fingerprint_of
from .registry import TaskSpec
from .results import RunResults, UnitResult, summarize, task_report
from .scorers import ZERO_SHOT, make_bench_scorer

METHODS = ("zero-shot", "sft", "it")
VIEW = "text"


def _limit(dataset: Dataset, n: int | None) -> Dataset:
    if n is None or len(dataset) <= n:
        return dataset
    return dataset.subset(dataset.ids[:n], name=dataset.name)


def _fit(scorer: Any, train: Dataset, val: Dataset | None) -> Any:
    params = inspect.signature(scorer.fit).parameters
    views: Any = [VIEW] if getattr(scorer, "name", "") == "embedding" else VIEW
    if "val" in params and val is not None:
        return scorer.fit(train, views, val=val)
    return scorer.fit(train, views)


class Runner:
    """See the module docstring. ``load(task)`` returns the task's Dataset (default: ``task.load``)."""

    def __init__(self, tasks: Sequence[TaskSpec], scorer: str, method: str, seeds: Sequence[int], out: str | Path,
                 *, scorer_params: dict[str, Any] | None = None, data_root: str | Path | None = None,
                 limit: int | None = None, n_boot: int = 1000,
                 load: Callable[[TaskSpec], Dataset] | None = None, log: Callable[[str], None] | None = None
                 ) -> None:
        if method not in METHODS:
            from ..errors import unknown_name

            raise unknown_name("method", method, list(METHODS))
        if method == "zero-shot" and scorer not in ZERO_SHOT:
            raise DataError(f"scorer {scorer!r} needs training; zero-shot works with {sorted(ZERO_SHOT)}",
                            field="method")
        self.tasks, self.scorer, self.method = list(tasks), scorer, method
        self.seeds, self.out = [int(s) for s in seeds], Path(out)
        self.scorer_params, self.limit, self.n_boot = dict(scorer_params or {}), limit, n_boot
        self.load = load or (lambda task: task.load(data_root))
        self.log = log or (lambda msg: None)
        self._data: dict[str, Dataset] = {}
        self.computed: list[tuple[str, int]] = []

    # -- data -------------------------------------------------------------------------------------
    def data(self, task: TaskSpec) -> Dataset:
        if task.name not in self._data:
            self._data[task.name] = self.load(task)
        return self._data[task.name]

    def split(self, task: TaskSpec, key: str) -> Dataset | None:
        name = task.splits.get(key)
        return _limit(self.data(task).split(name), self.limit) if name else None

    # -- units ------------------------------------------------------------------------------------
    def unit_path(self, task: TaskSpec, seed: int) -> Path:
        return self.out / "units" / f"{self.method}__{task.name}__seed{seed}.json"

    def config(self, task: TaskSpec, seed: int) -> str:
        return fingerprint_of(self.scorer, self.scorer_params, self.method, task.to_dict(), seed, self.limit,
                              self.data(task).fingerprint(),
                              [t.name for t in self.tasks] if self.method == "it" else None)

    def done(self, task: TaskSpec, seed: int) -> UnitResult | None:
        path = self.unit_path(task, seed)
        if not path.exists():
            return None
        unit = UnitResult.from_dict(read_json(path))
        return unit if unit.config == self.config(task, seed) else None

    def _evaluate(self, task: TaskSpec, seed: int, model: Any, fit_s: float, started: float,
                  it_labels: tuple[str, ...] | None = None) -> UnitResult:
        test = self.split(task, "eval")
        if it_labels is not None:
            preds = model.predict_proba(_prefixed(task, test, it_labels), VIEW)
            columns = [it_labels.index(f"{task.name}:{label}") for label in task.labels]
            probs = preds.probs[:, columns]
            with np.errstate(invalid="ignore", divide="ignore"):
                probs = probs / probs.sum(axis=1, keepdims=True)
        else:
            probs = model.predict_proba(test, VIEW).align(test.ids).probs
        metrics = task_report(test.y, probs, len(task.labels), n_boot=self.n_boot, seed=seed)
        unit = UnitResult(task=task.name, seed=seed, method=self.method, scorer=self.scorer,
                          scorer_fingerprint=str(model.fingerprint), data_fingerprint=self.data(task).fingerprint(),
                          evaluation_split=task.evaluation_split, metrics=metrics, config=self.config(task, seed),
                          wall_s=time.perf_counter() - started, fit_s=fit_s)
        write_json(self.unit_path(task, seed), unit.__dict__)
        self.computed.append((task.name, seed))
        self.log(f"{task.name} seed {seed}: acc {metrics['acc']:.4f} macro-F1 {metrics['macro_f1']:.4f} "
                 f"({unit.wall_s:.0f}s)")
        return unit

    def _make(self, seed: int) -> Any:
        return make_bench_scorer(self.scorer, seed=seed, **self.scorer_params)

    def run(self) -> RunResults:
        started = time.perf_counter()
        units: dict[tuple[str, int], UnitResult] = {}
        for seed in self.seeds:
            todo = []
            for task in self.tasks:
                found = self.done(task, seed)
                if found is not None:
                    units[(task.name, seed)] = found
                    self.log(f"{task.name} seed {seed}: done (resumed)")
                else:
                    todo.append(task)
            if not todo:
                continue
            if self.method == "it":
                t0 = time.perf_counter()
                union, labels = self._union()
                model = self._make(seed)
                _fit(model, union, None)
                fit_s = time.perf_counter() - t0
                for task in todo:
                    units[(task.name, seed)] = self._evaluate(task, seed, model, fit_s, time.perf_counter(), labels)
                continue
            for task in todo:
                t0 = time.perf_counter()
                model = self._make(seed)
                if self.method == "sft":
                    train = self.split(task, "fit")
                    if train is None:
                        raise DataError(f"task {task.name} has no training split; use --method zero-shot",
                                        file=task.file, field="splits")
                    _fit(model, train, self.split(task, "val"))
                units[(task.name, seed)] = self._evaluate(task, seed, model, time.perf_counter() - t0, t0)
        summaries = [summarize(task, [units[(task.name, s)] for s in self.seeds]) for task in self.tasks]
        fingerprints = {f"{t.name}/seed{s}": units[(t.name, s)].scorer_fingerprint
                        for t in self.tasks for s in self.seeds}
        return RunResults(method=self.method, scorer=self.scorer, scorer_params=self.scorer_params,
                          scorer_fingerprints=fingerprints, seeds=self.seeds, tasks=summaries,
                          data_fingerprints={t.name: self.data(t).fingerprint() for t in self.tasks},
                          wall_s=time.perf_counter() - started)

    def _union(self) -> tuple[Dataset, tuple[str, ...]]:
        labels = tuple(f"{t.name}:{label}" for t in self.tasks for label in t.labels)
        samples = []
        for task in self.tasks:
            train = self.split(task, "fit")
            if train is None:
                raise DataError(f"task {task.name} has no training split for instruction tuning", field="splits")
            samples += _prefixed(task, train, labels).samples
        return Dataset(name="it-union", labels=labels, samples=samples, modalities=("text",),
                       splits={"train": [s.id for s in samples]}, dimension="mixed"), labels


def _prefixed(task: TaskSpec, dataset: Dataset, labels: tuple[str, ...]) -> Dataset:
    samples = [Sample(f"{task.name}/{s.id}", dict(s.inputs), f"{task.name}:{s.label}" if s.label else None, s.group,
                      {**s.meta, "task": task.name}) for s in dataset.samples]
    return Dataset(name=f"{task.name}-it", labels=labels, samples=samples, modalities=("text",), splits={},
                   dimension=task.dimension)


def run_benchmark(tasks: Sequence[TaskSpec], scorer: str, method: str, seeds: Sequence[int], out: str | Path,
                  **kw: Any) -> RunResults:
    """Run (or resume) a benchmark and write ``<out>/results.json``."""
    results = Runner(tasks, scorer, method, seeds, out, **kw).run()
    write_json(Path(out) / "results.json", results.to_dict())
    return results
