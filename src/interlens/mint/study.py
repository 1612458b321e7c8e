"""The MINT study as one function (what ``interlens mint run`` runs), with any trainable scorer.

Per task (MINT Sec. 3): the interaction score between the utterance and its context -- two text-kind
modalities -- with the *multimodal prediction* as reference (Eq. 1; :func:`interlens.measure.
measure_interactions` with ``reference="multimodal"``), the distance matrix of the scores (Eq. 2) and
the R / U / S groups (Sec. 3.3: nearest prototype, or agglomerative clustering). Then the training
regimes of Table 2 through :func:`interlens.scoring.hf.group_tuning.run_group_tuning`: one model per
interaction group, one on all tasks, one per task and INSTA-style groups (instruction similarity, the
same number of groups), each task evaluated on its evaluation split; a Table-2-like table (task x
regime, mean row), the training majority class per task (``at_or_below_majority``) and a radar plot
like Fig. 4 (a missing value is drawn as a gap, never as 0).

Tasks are datasets (registered names, dataset files or :class:`Dataset` objects); their utterance and
context modalities are renamed ``utterance`` / ``context`` so that one multi-task model reads every task
through the same view.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..scoring.base import Capability, Scorer, clone, require

#: training regimes (MINT Table 2) -> the strategy names of run_group_tuning
REGIMES = {"group": "interaction", "all": "all", "single": "single", "insta": "insta"}
UTTERANCE, CONTEXT = "utterance", "context"
VIEW = f"{UTTERANCE}+{CONTEXT}"


@dataclass
class MintTask:
    """One task ready for the study: the dataset with modalities ``utterance`` and ``context``."""

    name: str
    dataset: Dataset
    source_modalities: tuple[str, str]

    def parts(self, eval_split: str) -> tuple[Dataset, Dataset, Dataset]:
        return self.dataset.split("train"), self.dataset.split("dev"), self.dataset.split(eval_split)


def prepare_task(spec: str | os.PathLike | Dataset, *, data_root: str | os.PathLike | None = None,
                 options: Mapping[str, Any] | None = None, modalities: Sequence[str] | None = None,
                 eval_split: str = "test", max_train: int | None = None, seed: int = 0) -> MintTask:
    """Load a task and keep its utterance and context: the two text-kind modalities (``modalities``
    names them when there are more), renamed ``utterance`` / ``context``. Needs train, dev and
    ``eval_split``; ``max_train`` keeps a seeded random subset of train (CPU time)."""
    from ..data.resolve import resolve_dataset

    data = spec if isinstance(spec, Dataset) else resolve_dataset(spec, data_root, **dict(options or {}))
    texts = data.modalities_of_kind("text")
    if modalities:
        chosen = tuple(modalities)
        bad = [m for m in chosen if m not in texts]
        if len(chosen) != 2 or bad:
            raise DataError(f"task {data.name!r}: utterance/context must be two text-kind modalities of "
                            f"{dict(data.kinds)} (got {list(chosen)})", file=data.source, field="modalities")
    elif len(texts) == 2:
        chosen = (texts[0], texts[1])
    else:
        raise DataError(f"task {data.name!r}: MINT needs an utterance and a context (two text-kind modalities); "
                        f"it has {dict(data.kinds)} -- name them with modalities=", file=data.source,
                        field="modalities")
    missing = [s for s in ("train", "dev", eval_split) if s not in data.splits]
    if missing:
        raise DataError(f"task {data.name!r} lacks split(s) {missing}", file=data.source, field="split")
    samples = [Sample(s.id, {UTTERANCE: s.inputs[chosen[0]], CONTEXT: s.inputs[chosen[1]]}, s.label, s.group,
                      s.meta) for s in data.samples]
    splits = {k: list(v) for k, v in data.splits.items()}
    if max_train is not None and len(splits["train"]) > max_train:
        keep = set(np.random.default_rng(seed).choice(splits["train"], max_train, replace=False).tolist())
        splits["train"] = [i for i in splits["train"] if i in keep]
    used = {i for k in ("train", "dev", eval_split) for i in splits[k]}
    renamed = Dataset(name=data.name, labels=data.labels, samples=[s for s in samples if s.id in used],
                      modalities=(UTTERANCE, CONTEXT), splits={k: splits[k] for k in ("train", "dev", eval_split)},
                      task=data.task, dimension=data.dimension, source=data.source, info=dict(data.info),
                      kinds={UTTERANCE: "text", CONTEXT: "text"})
    return MintTask(data.name, renamed, chosen)


def _groups(assignment: Mapping[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for task, group in assignment.items():
        groups.setdefault(group, []).append(task)
    return dict(sorted(groups.items()))


def _finite(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def run_mint_study(tasks: Sequence[str | os.PathLike | Dataset], scorer: str | Scorer = "minilm-ft", *,
                   scorer_options: Mapping[str, Any] | None = None, data_root: str | os.PathLike | None = None,
                   dataset_options: Mapping[str, Any] | None = None,
                   modalities: Mapping[str, Sequence[str]] | None = None,
                   regimes: Sequence[str] = tuple(REGIMES), grouping: str = "prototype", n_groups: int = 3,
                   score_split: str = "dev", eval_split: str = "test", delta: str = "exact", S: int = 100,
                   max_train: int | None = None, seed: int = 0, out: str | os.PathLike | None = None
                   ) -> dict[str, Any]:
    """The MINT study on ``tasks`` with ``scorer`` (a registered name + ``scorer_options``, or an
    unfitted Scorer; it must be TRAINABLE and read the ``utterance+context`` view).

    Per task, a clone is fitted on train (views utterance, context, utterance+context; selection on
    dev) and the interaction score is measured on ``score_split`` (default dev: the multimodal
    reference needs no gold label, and test stays for evaluation) with ``delta`` (MINT's exact 0/1
    or soft). Groups: ``grouping="prototype"`` (nearest of 2 / 1 / 0 -> R / U / S, Sec. 3.3 step 1) or
    ``"clustering"`` (agglomerative on the Eq. 2 distances into ``n_groups``). Regimes
    (:data:`REGIMES`) are trained with :func:`run_group_tuning` and evaluated on ``eval_split``.
    ``modalities``: ``{task: (utterance, context)}`` where a task has more than two text-kind
    modalities. Writes ``results.json``, ``table.md`` and ``radar.png`` into ``out`` when given.
    """
    from ..measure import group_results, measure_interactions
    from ..scoring.hf.group_tuning import run_group_tuning

    unknown = [r for r in regimes if r not in REGIMES]
    if unknown or not regimes:
        raise DataError(f"unknown regime(s) {unknown}; choose from {list(REGIMES)}", field="regimes")
    if grouping not in ("prototype", "clustering"):
        raise DataError(f"unknown grouping {grouping!r}; choose prototype or clustering", field="grouping")
    if isinstance(scorer, str):
        from ..scoring.registry import make_scorer, scorer_class

        require(scorer_class(scorer), Capability.TRAINABLE, "the MINT study (fits one model per task group)")
        template = make_scorer(scorer, **{**({"seed": seed} if "seed" in scorer_class(scorer).param_names()
                                             else {}), **dict(scorer_options or {})})
    else:
        if scorer_options:
            raise DataError("scorer options given with a scorer instance", field="scorer_option")
        template = scorer
    require(template, Capability.TRAINABLE, "the MINT study (fits one model per task group)")
    if not tasks:
        raise DataError("give at least one task", field="tasks")
    prepared: dict[str, MintTask] = {}
    for spec in tasks:
        name = spec.name if isinstance(spec, Dataset) else str(spec)
        task = prepare_task(spec, data_root=data_root, options=dataset_options,
                            modalities=(modalities or {}).get(name), eval_split=eval_split, max_train=max_train,
                            seed=seed)
        if task.name in prepared:
            raise DataError(f"task {task.name!r} given twice", field="tasks")
        template.check_view(task.dataset, VIEW)  # refused before any training
        prepared[task.name] = task

    # 1. interaction score per task (MINT Eq. 1, multimodal reference)
    scores: dict[str, dict[str, Any]] = {}
    for name, task in prepared.items():
        report = measure_interactions(task.dataset, clone(template), modalities=(UTTERANCE, CONTEXT),
                                      split=score_split, reference="multimodal", S=S, seed=seed)
        full = report.to_dict()
        scores[name] = {"interaction_score": full["interaction_score"], "counts": full["counts"],
                        "metrics": full["metrics"], "n": full["n"], "split": score_split,
                        "source_modalities": list(task.source_modalities)}
    # 2. distance matrix (Eq. 2) and groups (Sec. 3.3)
    grouped = group_results(scores, delta=delta, n_groups=n_groups)
    assignment = grouped["groups_prototype"] if grouping == "prototype" else grouped["groups_clustering"]
    groups = _groups(assignment)
    # 3. training regimes (Table 2)
    strategies = [REGIMES[r] for r in regimes]
    tuning = run_group_tuning({n: t.parts(eval_split) for n, t in prepared.items()}, groups, scorer=template,
                              strategies=strategies, view=VIEW, insta_groups=len(groups), zero_shot=False)
    names = {v: k for k, v in REGIMES.items()}
    rows = [{**r, "regime": names.get(r["strategy"], r["strategy"])} for r in tuning.table.to_dict("records")]
    majority = _majority(prepared, eval_split)
    for row in rows:
        row["at_or_below_majority"] = bool(row["acc"] <= majority[row["task"]]["acc"] + 1e-12)
    table = {metric: _wide(rows, list(prepared), list(regimes), metric) for metric in ("acc", "macro_f1")}
    results: dict[str, Any] = {
        "command": "mint run", "tasks": list(prepared), "scorer": {"name": template.name,
                                                                   "params": _jsonable(template.get_params())},
        "settings": {"regimes": list(regimes), "grouping": grouping, "n_groups": n_groups, "score_split": score_split,
                     "eval_split": eval_split, "delta": delta, "S": S, "max_train": max_train, "seed": seed,
                     "view": VIEW},
        "interaction": {"scores": grouped["scores"], "intervals": grouped["intervals"],
                        "per_task": scores},
        "distance": grouped["distance"], "groups": groups,
        "groups_prototype": grouped["groups_prototype"], "groups_clustering": grouped["groups_clustering"],
        "groupings": tuning.groupings, "rows": rows, "table": table, "majority": majority,
        "at_or_below_majority": sorted({f"{r['regime']}:{r['task']}" for r in rows if r["at_or_below_majority"]}),
        "note": "per-task values of one seed; significance tests need per-sample predictions (not kept by "
                "run_group_tuning)",
    }
    if out is not None:
        from ..io import atomic_write_text, write_json

        out = Path(out)
        radar_plot(table["acc"], out / "radar.png", title=f"MINT regimes ({template.name}), accuracy")
        atomic_write_text(out / "table.md", table_markdown(table, majority))
        results["files"] = ["results.json", "table.md", "radar.png"]
        write_json(out / "results.json", results)
    return results


def _majority(tasks: Mapping[str, MintTask], eval_split: str) -> dict[str, dict[str, Any]]:
    from ..baselines import majority_class, metric_value

    out = {}
    for name, task in tasks.items():
        train, test = task.dataset.split("train"), task.dataset.split(eval_split)
        label = majority_class(train.y)
        pred = np.full(len(test), label)
        out[name] = {"label": task.dataset.labels[label], "fit_on": "train",
                     "acc": metric_value(test.y, pred, "acc", len(task.dataset.labels)),
                     "macro_f1": metric_value(test.y, pred, "macro_f1", len(task.dataset.labels))}
    return out


def _wide(rows: list[dict[str, Any]], tasks: list[str], regimes: list[str], metric: str
          ) -> dict[str, dict[str, float | None]]:
    """``{task: {regime: value}}`` plus a ``mean`` row over the tasks that have every regime's value."""
    table: dict[str, dict[str, float | None]] = {t: dict.fromkeys(regimes) for t in tasks}
    for r in rows:
        if r["regime"] in regimes:
            table[r["task"]][r["regime"]] = _finite(r[metric])
    table["mean"] = {g: (float(np.mean(v)) if (v := [table[t][g] for t in tasks]) and None not in v else None)
                     for g in regimes}
    return table


def table_markdown(table: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                   majority: Mapping[str, Mapping[str, Any]]) -> str:
    """Table 2 style Markdown: task x regime, accuracy / macro-F1 in %, the majority class's accuracy."""
    acc, f1 = table["acc"], table["macro_f1"]
    regimes = list(next(iter(acc.values())))
    lines = ["| task | " + " | ".join(f"{r} acc / macro-F1" for r in regimes) + " | majority acc |",
             "|---|" + "---|" * (len(regimes) + 1)]

    def cell(a: float | None, f: float | None) -> str:
        return "–" if a is None else f"{100 * a:.2f} / {100 * f:.2f}" if f is not None else f"{100 * a:.2f}"

    for task in acc:
        maj = f"{100 * majority[task]['acc']:.2f}" if task in majority else ""
        lines.append(f"| {task} | " + " | ".join(cell(acc[task][r], f1[task][r]) for r in regimes) + f" | {maj} |")
    return "\n".join(lines) + "\n"


def radar_plot(values: Mapping[str, Mapping[str, float | None]], path: str | os.PathLike, *,
               title: str = "") -> Path:
    """Fig. 4 style radar: one axis per task (the ``mean`` row is left out), one line per regime.
    A missing value (None / NaN) is a gap in the line and its axis label says "(missing)"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in values if t != "mean"]
    regimes = list(next(iter(values.values()))) if values else []
    angles = np.linspace(0, 2 * np.pi, len(tasks), endpoint=False)
    fig = plt.figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(projection="polar")
    missing_any = set()
    for regime in regimes:
        v = np.array([np.nan if values[t][regime] is None else float(values[t][regime]) for t in tasks])
        missing_any |= {tasks[i] for i in np.flatnonzero(np.isnan(v))}
        closed = np.ma.masked_invalid(np.append(v, v[:1]))
        ax.plot(np.append(angles, angles[:1]), closed, marker="o", label=regime)
    ax.set_xticks(angles)
    ax.set_xticklabels([t + (" (missing)" if t in missing_any else "") for t in tasks], fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.1), fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | type(None) | list | dict | tuple) else repr(v))
            for k, v in params.items()}
