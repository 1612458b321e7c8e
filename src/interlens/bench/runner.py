"""Benchmark runner: tasks x seeds under one method, any registered scorer, resumable.

Methods (MMLA Sec. 4): ``zero-shot`` (no training; scorers declaring ``Capability.ZERO_SHOT``),
``sft`` (one model per task and seed, fitted on the task's fit split; scorers declaring
``Capability.TRAINABLE``) and ``it`` (instruction tuning, MMLA Sec. 3.3: one model per seed for all
tasks). The capability is checked in the constructor, before any data is read.

Instruction tuning has two forms:

* **prompt-based scorers** (those that can also score zero-shot, e.g. ``hf-lm``): one model trained on
  the tasks' training sets together, each sample prompted with *its own* task's dimension and label
  set (the scorer's ``fit_tasks(trains, views, vals=...)``, one Dataset per task); at evaluation the
  model is scored on each task's own data, i.e. on that task's labels and dimension only;
* **classifier scorers**: one shared head over task-prefixed labels (``mintrec:Complain``, ...); at
  evaluation the task's own label columns are taken and renormalised.

The view is the scorer's :meth:`~interlens.scoring.base.Scorer.default_view` of the task's data
(restricted to ``TaskSpec.modalities`` when the task names some): modalities are picked by kind.

Every finished task x seed unit is written atomically to ``<out>/units/<method>__<task>__seed<k>.json``
together with a config hash (scorer, params, method, task spec, data fingerprint, limit); a re-run
skips units whose file exists with the same hash, so a killed run resumes where it stopped. Inside an
SFT unit the fitted model is checkpointed under ``<out>/checkpoints/<unit>/`` (an ``ensemble`` scorer:
each member as it finishes, :mod:`interlens.checkpoints`), so a unit killed mid-fit refits only what
was unfinished; the folder is removed once the unit is recorded.
Each unit's per-sample predictions (id, gold, predicted label, probabilities; like lm-eval's
``--log_samples``) go to ``<out>/samples/<unit>.jsonl``; with ``save_models`` every trained model is
saved with its ``save_pretrained`` under ``<out>/models/<unit>/`` (instruction tuning: ``it__seed<k>``).
:meth:`Runner.artifacts` lists both (relative to ``out``) for ``results.json``.

Units run on an executor (:mod:`interlens.execution`): in this process by default, or as Ray tasks
(one per task x seed; one per seed for instruction tuning) declaring one CPU (and one GPU for a
``device=cuda`` scorer); this process writes each unit file as the unit arrives.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.paths import inside, safe_name
from ..data.schema import Dataset, Sample
from ..errors import DataError, unknown_name
from ..execution.base import Executor, current_executor, resources_for
from ..integrity import write_text_verified
from ..io import to_jsonable, write_json
from ..progress import metrics_scope, progress, report_metrics
from ..scoring.base import Capability, CapabilityError, Scorer, fingerprint_of, require
from ..scoring.registry import check_param_names, make_scorer, scorer_class
from .methods import METHODS, Method
from .registry import TaskSpec
from .results import RunResults, UnitResult, check_samples, load_unit, summarize, task_report

#: the capability each method needs from the scorer class
NEEDS = {Method.ZERO_SHOT: Capability.ZERO_SHOT, Method.SFT: Capability.TRAINABLE, Method.IT: Capability.TRAINABLE}

logger = logging.getLogger(__name__)


def _limit(dataset: Dataset, n: int | None) -> Dataset:
    if n is None or len(dataset) <= n:
        return dataset
    return dataset.subset(dataset.ids[:n], name=dataset.name)


def is_prompt_based(scorer_cls: type) -> bool:
    """Prompt-based (LLM) scorers are those that score labels zero-shot from a prompt."""
    return Capability.ZERO_SHOT in getattr(scorer_cls, "capabilities", frozenset())


def _parse_method(method: Method | str) -> Method:
    try:
        return Method(method)
    except ValueError:
        raise unknown_name("method", str(method), list(METHODS)) from None


class Runner:
    """See the module docstring. ``load(task)`` returns the task's Dataset (default: ``task.load``)."""

    def __init__(self, tasks: Sequence[TaskSpec], scorer: str, method: Method | str, seeds: Sequence[int],
                 out: str | Path, *, scorer_params: dict[str, Any] | None = None,
                 data_root: str | Path | None = None, limit: int | None = None, n_boot: int = 1000,
                 load: Callable[[TaskSpec], Dataset] | None = None, log: Callable[[str], None] | None = None,
                 save_models: bool = False, auxiliary: Mapping[str, Sequence[TaskSpec]] | None = None) -> None:
        self.method = _parse_method(method)
        self.scorer_cls = scorer_class(scorer)
        self.scorer, self.scorer_params = scorer, dict(scorer_params or {})
        check_param_names(self.scorer_cls, self.scorer_params)
        if "seed" in self.scorer_params:
            raise DataError("the scorer's seed is set per run by the benchmark's seeds; drop seed=", field="seed")
        require(self.scorer_cls, NEEDS[self.method], f"bench {self.method.value}")
        self.tasks = list(tasks)
        if not self.tasks:
            raise DataError("no tasks given", field="tasks")
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise DataError("no seeds given: the benchmark needs at least one", field="seeds")
        if len(set(self.seeds)) != len(self.seeds):
            raise DataError(f"seeds repeat: {self.seeds}", field="seeds")
        if self.method is not Method.ZERO_SHOT:
            for task in self.tasks:
                if not task.splits.get("fit"):
                    raise DataError(f"task {task.name!r} has no training split; method {self.method.value} needs "
                                    "one (use --method zero-shot)", file=task.file or None, field="split")
        self.auxiliary = {name: list(aux) for name, aux in (auxiliary or {}).items() if aux}
        unknown = sorted(set(self.auxiliary) - {t.name for t in self.tasks})
        if unknown:
            raise DataError(f"auxiliary training data given for tasks not in the run: {unknown}", field="auxiliary")
        if self.auxiliary and self.method is not Method.SFT:
            raise DataError(f"auxiliary training data is for sft (one model per task), not {self.method.value}",
                            field="auxiliary")
        for aux in (a for auxes in self.auxiliary.values() for a in auxes):
            if not aux.splits.get("fit"):
                raise DataError(f"auxiliary task {aux.name!r} has no training split", file=aux.file or None,
                                field="split")
        for task in [*self.tasks, *(a for auxes in self.auxiliary.values() for a in auxes)]:
            safe_name(task.name, "task name", file=task.file or None)  # it becomes unit/model/checkpoint paths
        self.prompt_it = self.method is Method.IT and is_prompt_based(self.scorer_cls)
        if self.prompt_it and Capability.MULTI_TASK not in self.scorer_cls.capabilities:
            raise CapabilityError(f"scorer {scorer!r} is prompt-based but lacks capability 'multi_task' (fit_tasks: "
                                  "training on several tasks, each with its own prompt), needed for bench it")
        # parameter values (the tasks' prompt parameters included) are checked now, before any work
        self._make(self.seeds[0], self.tasks if self.method is Method.IT else self.tasks[:1])
        self.out, self.limit, self.n_boot = Path(out), limit, n_boot
        self.save_models = save_models
        self.load = load or (lambda task: task.load(data_root))
        self.log = log or (lambda msg: None)
        self._data: dict[str, Dataset] = {}
        self.computed: list[tuple[str, int]] = []
        #: the instruction-tuned model of each seed (this process's runs)
        self.it_models: dict[int, Scorer] = {}

    # -- data -------------------------------------------------------------------------------------
    def data(self, task: TaskSpec) -> Dataset:
        if task.name not in self._data:
            self._data[task.name] = self.load(task)
        return self._data[task.name]

    def split(self, task: TaskSpec, key: str) -> Dataset | None:
        name = task.splits.get(key)
        return _limit(self.data(task).split(name), self.limit) if name else None

    def fit_split(self, task: TaskSpec, view: str) -> Dataset:
        """The task's fit split under ``view``'s modalities, pooled with its auxiliary tasks' fit samples
        that carry one of its labels (:func:`~interlens.bench.pooling.with_auxiliary_training`)."""
        train = self.split(task, "fit")
        assert train is not None  # noqa: S101 - checked in the constructor
        if task.name not in self.auxiliary:
            return train
        from .pooling import with_auxiliary_training

        aux = [self.split(a, "fit") for a in self.auxiliary[task.name]]
        return with_auxiliary_training(train.with_modalities(view.split("+")), [a for a in aux if a is not None])

    def task_modalities(self, task: TaskSpec) -> tuple[str, ...] | None:
        """The modalities the task shows this scorer (None: all): ``prompt_modalities`` for prompt-based
        scorers when the task names them, else ``modalities``."""
        if task.prompt_modalities and is_prompt_based(self.scorer_cls):
            return task.prompt_modalities
        return task.modalities

    def view(self, scorer: Scorer, task: TaskSpec) -> str:
        """The scorer's default view of the task's data (restricted to the task's modalities)."""
        data = self.data(task)
        modalities = self.task_modalities(task)
        if modalities:
            data = data.with_modalities(modalities)
        return str(scorer.default_view(data))

    # -- units ------------------------------------------------------------------------------------
    def _under(self, *parts: str) -> Path:
        """``out/<parts>`` after checking it resolves inside ``out`` (issue 30: names never escape ``--out``)."""
        return inside(self.out, self.out.joinpath(*parts), "run path")

    def unit_path(self, task: TaskSpec, seed: int) -> Path:
        return self._under("units", f"{self.unit_name(task, seed)}.json")

    def unit_name(self, task: TaskSpec | str, seed: int) -> str:
        name = safe_name(str(getattr(task, "name", task)), "task name")
        return f"{self.method.value}__{name}__seed{int(seed)}"

    def samples_path(self, task: TaskSpec | str, seed: int) -> Path:
        return self._under("samples", f"{self.unit_name(task, seed)}.jsonl")

    def model_dir(self, task: TaskSpec | None, seed: int) -> Path:
        """Where a unit's model is saved (``task=None``: the seed's instruction-tuned model)."""
        return self._under("models", f"{self.method.value}__seed{int(seed)}" if task is None
                           else self.unit_name(task, seed))

    def _save_model(self, model: Scorer, task: TaskSpec | None, seed: int) -> None:
        """``model.save_pretrained`` into :meth:`model_dir` (when asked and the scorer can save)."""
        if not self.save_models or self.method is Method.ZERO_SHOT:
            return
        from ..scoring.base import Capability, has_capability

        if not has_capability(model, Capability.SAVABLE):
            logger.warning("scorer %s does not declare %r (save_pretrained); its models are not saved", self.scorer,
                           Capability.SAVABLE.value)
            return
        model.save_pretrained(self.model_dir(task, seed))
        from ..scoring.saving import seal

        seal(self.model_dir(task, seed))  # every file's hash in interlens.sha256 (issue 30)
        logger.info("saved model: %s", self.model_dir(task, seed))

    def settings(self) -> dict[str, Any]:
        """What shaped the training data: each task's loader options (``bench run --task-option`` included)
        and the auxiliary tasks per task (empty: none); and what each task's spec gave the scorer
        (:meth:`prompt_params`: template and verbaliser of a prompt-based scorer; empty: nothing)."""
        return {"task_options": {t.name: t.options for t in self.tasks},
                "auxiliary": {name: [a.name for a in aux] for name, aux in self.auxiliary.items()},
                "prompt_params": {t.name: p for t in self.tasks
                                  if (p := self.prompt_params(self.tasks if self.method is Method.IT else [t]))}}

    def prompt_params(self, tasks: Sequence[TaskSpec]) -> dict[str, Any]:
        """The scorer parameters the task spec sets for a scorer that takes them (``hf-lm``, ``hf-vlm``; issue
        28), unless the run's scorer params set them: ``template`` (the task's prompt, e.g. ``mmla@1``) and
        ``verbalizer`` (the task's label words, e.g. MUStARD's ``not_sarcastic`` -> ``sincere``; only when a
        task has one). ``tasks``: the unit's task, or every task of an instruction-tuned model (their words in
        one mapping; a label two tasks word differently is refused)."""
        names = self.scorer_cls.param_names()
        out: dict[str, Any] = {}
        prompts = {t.prompt for t in tasks}
        if "template" in names and "template" not in self.scorer_params and len(prompts) == 1:
            out["template"] = prompts.pop()
        if "verbalizer" in names and "verbalizer" not in self.scorer_params and any(t.verbalizer for t in tasks):
            words: dict[str, str] = {}
            for task in tasks:
                for label in task.labels:
                    word = str((task.verbalizer or {}).get(label, label))
                    if words.setdefault(label, word) != word:
                        raise DataError(f"label {label!r} is worded {words[label]!r} and {word!r} by the tasks' "
                                        "verbalizers; one instruction-tuned model takes one verbalizer",
                                        file=task.file or None, field="verbalizer")
            out["verbalizer"] = words
        return out

    def artifacts(self) -> dict[str, dict[str, str]]:
        """The saved models and per-sample files of this run's units that exist, relative to ``out``."""
        models: dict[str, str] = {}
        samples: dict[str, str] = {}
        for seed in self.seeds:
            if self.method is Method.IT and (folder := self.model_dir(None, seed)).is_dir():
                models[folder.name] = folder.relative_to(self.out).as_posix()
            for task in self.tasks:
                name = self.unit_name(task, seed)
                if (folder := self.model_dir(task, seed)).is_dir():
                    models[name] = folder.relative_to(self.out).as_posix()
                if (path := self.samples_path(task, seed)).is_file():
                    samples[name] = path.relative_to(self.out).as_posix()
        return {"models": models, "samples": samples}

    def config(self, task: TaskSpec, seed: int) -> str:
        extra = [list(task.prompt_modalities)] if task.prompt_modalities and is_prompt_based(self.scorer_cls) else []
        if words := self.prompt_params(self.tasks if self.method is Method.IT else [task]).get("verbalizer"):
            extra.append({"verbalizer": words})  # the prompts the unit's scorer saw (template: in its fingerprint)
        if task.name in self.auxiliary:
            extra.append([(a.to_dict(), self.data(a).fingerprint()) for a in self.auxiliary[task.name]])
        return fingerprint_of(self.scorer, self.scorer_params, self.method.value, task.to_dict(), seed, self.limit,
                              self.data(task).fingerprint(),
                              [t.name for t in self.tasks] if self.method is Method.IT else None, *extra)

    def done(self, task: TaskSpec, seed: int) -> UnitResult | None:
        path = self.unit_path(task, seed)
        if not path.exists():
            return None
        unit = load_unit(path)  # its .sha256 checked: an edited unit is refused, never reported (issue 30)
        if unit.config != self.config(task, seed):
            return None
        check_samples(self.samples_path(task, seed), path)  # a deleted or edited samples file is refused too
        return unit

    def _make(self, seed: int, tasks: Sequence[TaskSpec] = ()) -> Scorer:
        """The scorer of a unit on ``tasks`` (:meth:`prompt_params` of theirs; none: the run's params only)."""
        params = {**self.prompt_params(tasks), **self.scorer_params} if tasks else dict(self.scorer_params)
        if "seed" in self.scorer_cls.param_names():
            params["seed"] = seed
        return make_scorer(self.scorer, **params)

    def checkpoint_dir(self, task: TaskSpec | str, seed: int) -> Path:
        """Where an unfinished SFT unit keeps its fitted model (an ensemble: each member as it finishes),
        so a killed unit resumes without refitting; removed once the unit is recorded."""
        return self._under("checkpoints", self.unit_name(task, seed))

    def _fit(self, model: Scorer, train: Dataset, view: str, val: Dataset | None,
             checkpoints: Path | None = None) -> None:
        from ..checkpoints import fit_or_restore
        from ..scoring.registry import planned_fingerprint

        planned = planned_fingerprint(model, train, [view], val) if checkpoints is not None else None
        how = fit_or_restore(model, train, [view], val, fingerprint=planned, directory=checkpoints)
        if how == "restored":
            self.log(f"{train.name}: fitted model restored from {checkpoints}")
        self._check_fitted(model, train.name)

    def prefit_members(self, members: Sequence[int]) -> list[tuple[str, int, int, str]]:
        """Fit members ``members`` of every unfinished unit's ensemble into the unit's checkpoint folder, so
        a process running the units with the same ``out`` restores them instead of fitting them: one
        ensemble unit's members split over processes (results identical to one process fitting all).
        Returns ``(task, seed, member, "fitted" | "restored")`` per member; sft with ``ensemble`` only."""
        if self.method is not Method.SFT or self.scorer != "ensemble":
            raise DataError(f"prefit_members splits an ensemble's members: it needs method sft and scorer "
                            f"'ensemble', not {self.method.value} with {self.scorer!r}", field="scorer")
        fitted = []
        for seed in self.seeds:
            for task in self.tasks:
                if self.done(task, seed) is not None:
                    continue
                model = self._make(seed, [task])
                view = self.view(model, task)
                train, val = self.fit_split(task, view), self.split(task, "val")
                model.member_checkpoints = self.checkpoint_dir(task, seed)  # type: ignore[attr-defined]
                for k in members:
                    _, how = model.fit_member(k, train, [view], val)  # type: ignore[attr-defined]
                    self.log(f"{task.name} seed {seed}: ensemble member {k} {how} in {model.member_checkpoints}")
                    fitted.append((task.name, seed, k, how))
        return fitted

    def _check_fitted(self, model: Scorer, what: str) -> None:
        if not model.is_fitted:
            raise DataError(f"scorer {self.scorer!r} learned nothing from {what!r} (fit recorded no history); "
                            f"method {self.method.value} needs a trained model", field="scorer")

    def _evaluate(self, task: TaskSpec, seed: int, model: Scorer, view: str, fit_s: float, started: float,
                  it_labels: tuple[str, ...] | None = None) -> tuple[UnitResult, str, list[dict[str, Any]]]:
        test = self.split(task, "eval")
        assert test is not None  # noqa: S101 - splits.eval is required by TaskSpec
        if it_labels is not None:
            preds = model.predict_proba(_prefixed(task, test, it_labels, view.split("+")), view)
            columns = [it_labels.index(f"{task.name}:{label}") for label in task.labels]
            probs = preds.align([f"{task.name}/{i}" for i in test.ids]).probs[:, columns]
            with np.errstate(invalid="ignore", divide="ignore"):
                probs = probs / probs.sum(axis=1, keepdims=True)
        else:
            preds = model.predict_proba(test, view).align(test.ids)
            if tuple(preds.labels) != tuple(test.labels):
                raise DataError(f"scorer {self.scorer!r} returned labels {list(preds.labels)} for task {task.name} "
                                f"({list(test.labels)})", field="labels")
            probs = preds.probs
        metrics = task_report(test.y, probs, len(task.labels), n_boot=self.n_boot, seed=seed)
        metrics["majority"] = majority_report(test.y, probs, self.split(task, "fit"), task.labels)  # issue 12
        unit = UnitResult(task=task.name, seed=seed, method=self.method.value, scorer=self.scorer,
                          scorer_fingerprint=str(model.fingerprint), data_fingerprint=self.data(task).fingerprint(),
                          evaluation_split=task.evaluation_split, metrics=metrics, config=self.config(task, seed),
                          wall_s=time.perf_counter() - started, fit_s=fit_s, fit_s_total=model.fit_seconds)
        return unit, view, sample_rows(test, probs, task.labels)

    def _record(self, unit: UnitResult, view: str, samples: list[dict[str, Any]]) -> UnitResult:
        """Write one finished unit and its per-sample predictions (in the driver, as soon as it arrives)
        and log it."""
        write_text_verified(self.samples_path(unit.task, unit.seed),
                            "".join(json.dumps(to_jsonable(row), ensure_ascii=False) + "\n" for row in samples))
        write_text_verified(self.unit_path(self._task(unit.task), unit.seed),
                            json.dumps(to_jsonable(unit.__dict__), indent=2, ensure_ascii=False) + "\n")
        remove_checkpoints(self.checkpoint_dir(unit.task, unit.seed))  # recorded: not needed
        self.computed.append((unit.task, unit.seed))
        metrics = unit.metrics
        report_metrics({**metrics, "wall_s": unit.wall_s}, step=unit.seed, prefix=f"{unit.task}/per_seed")  # live
        self.log(f"{unit.task} seed {unit.seed}: acc {metrics['acc']:.4f} macro-F1 {metrics['macro_f1']:.4f} "
                 f"({unit.wall_s:.0f}s, view {view})")
        return unit

    def _task(self, name: str) -> TaskSpec:
        return next(t for t in self.tasks if t.name == name)

    def _work(self, item: tuple[int, list[TaskSpec]]) -> list[tuple[UnitResult, str, list[dict[str, Any]]]]:
        """One executor item: an instruction-tuning seed (all its tasks), or one task x seed unit."""
        seed, todo = item
        if self.method is Method.IT:
            return self._run_it(seed, todo)
        task = todo[0]
        t0 = time.perf_counter()
        model = self._make(seed, [task])
        view = self.view(model, task)
        logger.debug("unit %s: %s on view %s", self.unit_name(task, seed), self.scorer, view)
        if self.method is Method.SFT:
            self._fit(model, self.fit_split(task, view), view, self.split(task, "val"),
                      self.checkpoint_dir(task, seed))
            self._save_model(model, task, seed)
        return [self._evaluate(task, seed, model, view, time.perf_counter() - t0, t0)]

    def _scoped_work(self, item: tuple[int, list[TaskSpec]]) -> list[tuple[UnitResult, str, list[dict[str, Any]]]]:
        """:meth:`_work` with the metrics it reports during training (epochs, steps) named by its unit,
        ``<task>/seed<k>/...`` (instruction tuning: ``it/seed<k>/...``), for a tracker run."""
        seed, todo = item
        with metrics_scope(f"it/seed{seed}" if self.method is Method.IT else f"{todo[0].name}/seed{seed}"):
            return self._work(item)

    def __getstate__(self) -> dict[str, Any]:
        """What a Ray worker gets: the loaded data, not the driver's logger, loader or models."""
        state = dict(self.__dict__)
        state.update(log=None, load=None, it_models={}, computed=[])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.log = lambda msg: None

    def run(self, executor: Executor | None = None, *, plan: Any = None, new_look: bool = False) -> RunResults:
        """Run the missing units on ``executor`` (default: the current one, see :mod:`interlens.execution`);
        each finished unit is written by this process as it arrives, so a killed run resumes. Before the
        first evaluation each task to evaluate is a test look in the ledger (``plan``: a pre-registered plan
        file or :class:`~interlens.evidence.plan.Plan`; another configuration under it needs ``new_look``)."""
        started = time.perf_counter()
        units: dict[tuple[str, int], UnitResult] = {}
        work: list[tuple[int, list[TaskSpec]]] = []
        for task in [*self.tasks, *(a for auxes in self.auxiliary.values() for a in auxes)]:
            self.data(task)  # loaded here, once: remote workers get the data, not the loader
        for seed in self.seeds:
            todo = []
            for task in self.tasks:
                found = self.done(task, seed)
                if found is not None:
                    units[(task.name, seed)] = found
                    self.log(f"{task.name} seed {seed}: done (resumed)")
                else:
                    todo.append(task)
            if todo and self.method is Method.IT:
                work.append((seed, todo))
            else:
                work += [(seed, [task]) for task in todo]
        from ..evidence.bench import record_test_looks  # issue 26: looks counted before any evaluation

        self.test_looks = record_test_looks(self, {t.name for _, todo in work for t in todo}, plan, new_look=new_look)
        cpus, gpus = resources_for(self.scorer_params.get("device"))
        label = f"bench {self.method.value} {self.scorer}"
        with progress(sum(len(todo) for _, todo in work), label, "unit") as bar:
            for _, finished in (executor or current_executor()).map_unordered(self._scoped_work, work,
                                                                              num_cpus=cpus, num_gpus=gpus):
                for unit, view, samples in finished:
                    units[(unit.task, unit.seed)] = self._record(unit, view, samples)
                bar.advance(len(finished))
        summaries = [summarize(task, [units[(task.name, s)] for s in self.seeds]) for task in self.tasks]
        fingerprints = {f"{t.name}/seed{s}": units[(t.name, s)].scorer_fingerprint
                        for t in self.tasks for s in self.seeds}
        return RunResults(method=self.method.value, scorer=self.scorer, scorer_params=self.scorer_params,
                          scorer_fingerprints=fingerprints, seeds=self.seeds, tasks=summaries,
                          data_fingerprints={t.name: self.data(t).fingerprint() for t in self.tasks},
                          wall_s=time.perf_counter() - started)

    # -- instruction tuning -----------------------------------------------------------------------
    def _run_it(self, seed: int, todo: list[TaskSpec]) -> list[tuple[UnitResult, str, list[dict[str, Any]]]]:
        t0 = time.perf_counter()
        model = self._make(seed, self.tasks)
        view = self._common_view(model)
        if self.prompt_it:
            trains = [d for _, d in self._parts("fit")]
            model.fit_tasks(trains, [view], vals=[d for _, d in self._parts("val")])  # type: ignore[attr-defined]
            self._check_fitted(model, "+".join(t.name for t in self.tasks))
            labels = None
        else:
            labels = tuple(f"{t.name}:{label}" for t in self.tasks for label in t.labels)
            train, val = self._prefixed_union("fit", labels, view), self._prefixed_union("val", labels, view)
            self._fit(model, train, view, val)
        fit_s = time.perf_counter() - t0
        self.it_models[seed] = model
        self._save_model(model, None, seed)
        return [self._evaluate(task, seed, model, view, fit_s, time.perf_counter(), labels) for task in todo]

    def _common_view(self, model: Scorer) -> str:
        """The modalities every task's view has (first task's order): one model reads all tasks."""
        views = [self.view(model, t).split("+") for t in self.tasks]
        common = [m for m in views[0] if all(m in v for v in views[1:])]
        if not common:
            raise DataError(f"instruction tuning needs a modality shared by every task; the views are "
                            f"{dict(zip([t.name for t in self.tasks], ['+'.join(v) for v in views], strict=True))}",
                            field="modalities")
        return "+".join(common)

    def _parts(self, key: str) -> list[tuple[TaskSpec, Dataset]]:
        return [(t, d) for t in self.tasks if (d := self.split(t, key)) is not None]

    def _prefixed_union(self, key: str, labels: tuple[str, ...], view: str) -> Dataset | None:
        parts = self._parts(key)
        if not parts:
            return None
        modalities = view.split("+")
        samples = [s for t, d in parts for s in _prefixed(t, d, labels, modalities).samples]
        first = parts[0][1]
        return Dataset(name=f"it-union/{key}", labels=labels, samples=samples, modalities=tuple(modalities),
                       splits={}, kinds={m: first.kind(m) for m in modalities})


def remove_checkpoints(folder: Path) -> None:
    """Remove a recorded unit's checkpoint folder: only the files a run writes there (``*.safetensors``, their
    ``.sha256``, unfinished ``.*.tmp``), then the folder when that empties it; a link is never followed and
    anything else is left where it is (issue 30: clean-up removes only what the run created)."""
    from ..checkpoints import SUFFIX

    if folder.is_symlink() or not folder.is_dir():
        return
    for entry in folder.iterdir():
        name = entry.name
        ours = name.endswith((SUFFIX, SUFFIX + ".sha256")) or (name.startswith(".") and name.endswith(".tmp"))
        if ours and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        logger.warning("left %s in place: it holds files this run did not write", folder)


def sample_rows(test: Dataset, probs: np.ndarray, labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per-sample predictions of one unit: id, gold and predicted label, probabilities by label
    (a sample the scorer could not score has ``pred`` and ``probs`` null)."""
    rows = []
    for sample, p in zip(test.samples, probs, strict=True):
        scored = not np.isnan(p).all()
        rows.append({"id": sample.id, "gold": sample.label,
                     "pred": labels[int(np.nanargmax(p))] if scored else None,
                     "probs": dict(zip(labels, (float(v) for v in p), strict=True)) if scored else None})
    return rows


def majority_report(y: np.ndarray, probs: np.ndarray, fit: Dataset | None, labels: Sequence[str]) -> dict[str, Any]:
    """The majority class of the fit split (the evaluation split when there is none, said in ``fit_on``)
    on the evaluation split, the chance ``floors`` of the evaluation split (constant floor = its label
    prior, an oracle; issue 26), and whether the model is at or below them. ``p_vs_majority`` (exact
    paired permutation test) is None for a model at or below the highest floor: no claim for it."""
    from ..baselines import comparison_table, floors, majority_class

    fitted = fit is not None and len(fit) > 0
    label = majority_class(fit.y if fitted else y)
    pred = np.where(np.isnan(probs).all(axis=1), -1, np.nan_to_num(probs, nan=-np.inf).argmax(axis=1))
    rows = {r["name"]: r for r in comparison_table(y, {"model": pred}, None, label, n_labels=len(labels))}
    fl = floors(fit.y if fitted else y, y, labels)
    fl["train_majority"]["fit_on"] = "fit" if fitted else "eval"
    return {"label": labels[label], "fit_on": "fit" if fitted else "eval", "acc": fl["train_majority"]["acc"],
            "at_or_below_majority": rows["model"]["at_or_below_majority"],
            "p_vs_majority": rows["model"]["p_vs_majority"], "floors": fl,
            "at_or_below_floor": rows["model"]["at_or_below_floor"]}


def _seed_word(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def item_correctness(out: Path, method: str, task: Any, seeds: Sequence[int]) -> np.ndarray | None:
    """``[n_items, n_seeds]`` 0/1 correctness of a task from its per-sample files (None if one is missing
    or the items differ between seeds)."""
    cols, ids = [], None
    for seed in seeds:
        name = f"{method}__{safe_name(str(task.task), 'task name')}__seed{int(seed)}"
        path = inside(out, out / "samples" / f"{name}.jsonl", "samples file")
        found = check_samples(path, out / "units" / f"{name}.json")  # hash checked; a missing one is refused
        if found.suffix == ".gz":
            import gzip

            text = gzip.decompress(found.read_bytes()).decode("utf-8")
        else:
            text = found.read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        these = [r.get("id") for r in rows]
        if ids is not None and these != ids:
            return None
        ids = these
        cols.append([1.0 if r.get("pred") is not None and r.get("pred") == r.get("gold") else 0.0 for r in rows])
    return np.asarray(cols, dtype=np.float64).T if cols and ids else None


def _item_correctness_from_rows(rows: Sequence[Mapping[str, Any]], task: str, seeds: Sequence[int]
                                ) -> np.ndarray | None:
    """The same ``[n_items, n_seeds]`` matrix from stored prediction rows (``evidence.store``: label indices;
    a study file kept without its run folder). None when a seed is missing or the items differ."""
    cols, ids = [], None
    for seed in seeds:
        sel = [r for r in rows if r.get("task") == task and str(r.get("seed")) == str(seed)]
        these = [r.get("id") for r in sel]
        if not sel or (ids is not None and these != ids):
            return None
        ids = these
        cols.append([1.0 if r.get("pred") is not None and r.get("pred") == r.get("gold") else 0.0 for r in sel])
    return np.asarray(cols, dtype=np.float64).T if cols else None


def bench_verdict(results: RunResults, out: str | Path | None = None, *, n_boot: int = 10000,
                  limited: bool | None = None, rows: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Issue 26 for ``bench run``: per task the chance ``floors`` of its evaluation split, one warning per
    task whose mean ACC is at or below the highest floor, and a one-line ``verdict``: ACC (mean, or the
    single value and "1 seed") vs the highest floor and, where MMLA publishes a number for the same split,
    the test-item bootstrap CI of our ACC and of the difference to the reference (Qwen2-0.5B), with the
    reference's binomial SE (:func:`~interlens.baselines.bootstrap_vs_reference`, per-sample files under
    ``out``, or the stored prediction ``rows`` of a study file). ``limited`` (default: the run's ``limits``
    attribute, as :func:`~interlens.bench.report.load_run`
    sets it from the provenance): a ``--limit`` run is never compared with the reference."""
    from ..baselines import at_or_below_floor, bootstrap_vs_reference, floor_warning
    from .reference import MODELS, reference_acc

    per_task: dict[str, Any] = {}
    warnings: list[str] = []
    parts: list[str] = []
    limited = bool(getattr(results, "limits", None)) if limited is None else limited
    for t in results.tasks:
        first = next(iter(t.per_seed.values()), {}) if t.per_seed else {}
        fl = (first.get("majority") or {}).get("floors")
        acc = t.summary.get("acc", {}).get("mean")
        n = len(t.seeds)
        shown = (f"{100 * acc:.2f}" if n == 1 else f"{100 * acc:.2f} ± {100 * t.summary['acc']['std']:.2f}") \
            if acc is not None and np.isfinite(acc) else "n/a"
        entry: dict[str, Any] = {"floors": fl, "acc": acc, "n_seeds": n,
                                 "at_or_below_floor": None if fl is None else at_or_below_floor(acc, fl)}
        text = f"{t.title}: ACC {shown} ({_seed_word(n)}, {t.evaluation_split})"
        if fl is not None:
            text += f", floor {100 * fl['highest_floor_acc']:.2f}"
            warning = floor_warning(f"{t.title} (mean over {_seed_word(n)})" if n > 1 else t.title, acc, fl,
                                    split=t.evaluation_split)
            if warning:
                warnings.append(warning)
                text += " (NOT above chance)"
        ref = reference_acc(t.task, MODELS[0])
        correct = (_item_correctness_from_rows(rows, t.task, t.seeds) if rows is not None else
                   item_correctness(Path(out), results.method, t, t.seeds) if out is not None else None)
        if ref is not None and t.comparable_to_paper and limited:
            text += f"; not compared with {MODELS[0]} ({ref:.2f}): a --limit run evaluates part of the test split"
        elif ref is not None and t.comparable_to_paper and correct is not None:
            cmp = bootstrap_vs_reference(correct, ref / 100, n_boot=n_boot)
            entry["vs_reference"] = {"model": MODELS[0], **cmp}
            text += (f"; vs {MODELS[0]} {ref:.2f}: diff {100 * cmp['diff']:+.2f} "
                     f"[{100 * cmp['diff_ci95'][0]:+.2f}, {100 * cmp['diff_ci95'][1]:+.2f}] (item bootstrap; "
                     f"p = {cmp['p_value']:.3g}; reference SE {100 * cmp['reference_binomial_se']:.2f}): "
                     f"{cmp['verdict']}")
        per_task[t.task] = entry
        parts.append(text)
    return {"floors": {k: v["floors"] for k, v in per_task.items()}, "verdict_per_task": per_task,
            "warnings": warnings, "verdict": "bench: " + " | ".join(parts)}


def _prefixed(task: TaskSpec, dataset: Dataset, labels: tuple[str, ...],
              modalities: Sequence[str] | None = None) -> Dataset:
    """``dataset`` with task-prefixed ids and labels over the shared label set ``labels``."""
    modalities = list(modalities or dataset.modalities)
    samples = [Sample(f"{task.name}/{s.id}", {m: s.inputs[m] for m in modalities},
                      f"{task.name}:{s.label}" if s.label else None, s.group, {**s.meta, "task": task.name})
               for s in dataset.samples]
    return Dataset(name=f"{task.name}-it", labels=labels, samples=samples, modalities=tuple(modalities), splits={},
                   dimension=task.dimension, kinds={m: dataset.kind(m) for m in modalities})


def run_benchmark(tasks: Sequence[TaskSpec], scorer: str, method: Method | str, seeds: Sequence[int],
                  out: str | Path, *, plan: Any = None, new_look: bool = False, **kw: Any) -> RunResults:
    """Run (or resume) a benchmark and write ``<out>/results.json`` with the stored predictions
    (``predictions.jsonl.gz``) and the test-look count per task; ``plan``/``new_look``: see :meth:`Runner.run`."""
    from ..evidence.bench import bench_payload

    runner = Runner(tasks, scorer, method, seeds, out, **kw)
    results = runner.run(plan=plan, new_look=new_look)
    write_json(Path(out) / "results.json", {**bench_payload(runner, results),
                                            **bench_verdict(results, out, limited=runner.limit is not None)})
    return results
