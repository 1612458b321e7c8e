"""The MINT study as one function (what ``interlens mint run`` runs), with any trainable scorer.

Per task (MINT Sec. 3): the interaction score between the utterance and its context -- two text-kind
modalities -- with the *multimodal prediction* as reference (Eq. 1; :func:`interlens.measure.
measure_interactions` with ``reference="multimodal"``), the distance matrix of the scores (Eq. 2) and
the R / U / S groups (Sec. 3.3: nearest prototype, or agglomerative clustering). Then the training
regimes of Table 2 through :func:`interlens.mint.group_tuning.run_group_tuning`: one model per
interaction group, one on all tasks, one per task and INSTA-style groups (instruction similarity, the
same number of groups), each task evaluated on its evaluation split. Every seed repeats all of it
(scores, groups, regimes; the groups may differ between seeds).

Honest baselines (issue 12 item 4): per task the training majority class and the two unimodal models
(utterance only, context only: the models already fitted to measure the interaction score, scored on
the evaluation split); an exact paired permutation test (:func:`interlens.baselines.permutation_test`)
of each regime and baseline against ``single`` (one model per task, MINT's baseline) and against the
majority class, on the per-sample predictions pooled over seeds; flags for regimes at or below the
majority class. Outputs a Table-2-like table (mean ± std over seeds) and a radar plot like Fig. 4
(a missing value is drawn as a gap, never as 0).

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
from ..progress import track
from ..scoring.base import Capability, Scorer, clone, require

#: training regimes (MINT Table 2) -> the strategy names of run_group_tuning
REGIMES = {"group": "interaction", "all": "all", "single": "single", "insta": "insta"}
UTTERANCE, CONTEXT = "utterance", "context"
VIEW = f"{UTTERANCE}+{CONTEXT}"
#: baseline columns of the table: training majority class, utterance-only and context-only models
BASELINES = ("majority", UTTERANCE, CONTEXT)
#: the regime every other column is tested against (one model per task: MINT Table 2's baseline)
REFERENCE = "single"
METRICS = ("acc", "macro_f1")


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
    used = {i for k in ("train", "dev", eval_split) for i in splits[k]}
    renamed = Dataset(name=data.name, labels=data.labels, samples=[s for s in samples if s.id in used],
                      modalities=(UTTERANCE, CONTEXT), splits={k: splits[k] for k in ("train", "dev", eval_split)},
                      task=data.task, dimension=data.dimension, source=data.source, info=dict(data.info),
                      kinds={UTTERANCE: "text", CONTEXT: "text"})
    return subset_train(MintTask(data.name, renamed, chosen), max_train, seed)


def subset_train(task: MintTask, max_train: int | None, seed: int) -> MintTask:
    """``task`` with its train split cut to a seeded random subset of ``max_train`` samples (order kept)."""
    train = task.dataset.splits["train"]
    if max_train is None or len(train) <= max_train:
        return task
    keep = set(np.random.default_rng(seed).choice(train, max_train, replace=False).tolist())
    splits = {**{k: list(v) for k, v in task.dataset.splits.items()}, "train": [i for i in train if i in keep]}
    used = {i for v in splits.values() for i in v}
    data = task.dataset.derive(task.dataset.name, [s for s in task.dataset.samples if s.id in used], splits=splits,
                               info={**task.dataset.info, "max_train": {"n": max_train, "of": len(train),
                                                                        "seed": seed}})
    return MintTask(task.name, data, task.source_modalities)


def _groups(assignment: Mapping[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for task, group in assignment.items():
        groups.setdefault(group, []).append(task)
    return dict(sorted(groups.items()))


def every_task_grouping(scores: Mapping[str, Mapping[str, Any]], *, delta: str = "exact", n_groups: int = 3
                        ) -> dict[str, Any]:
    """Scores, 95 % intervals, the Eq. 2 distance matrix and both groupings (Sec. 3.3: nearest prototype;
    agglomerative clustering into ``n_groups``) over EVERY task of ``scores`` (``{task: {"interaction_score":
    {delta: {score, ci_low, ci_high}}}}``), also those whose score comes from a view at chance (issue 26 flags
    them; the training regimes still need each task in a group)."""
    from ..interactions import distance_matrix, group_by_clustering, group_by_prototype

    raw = {n: float(r["interaction_score"][delta]["score"]) for n, r in scores.items()}
    names, dist = distance_matrix(raw)
    return {"scores": raw,
            "intervals": {n: [float(r["interaction_score"][delta]["ci_low"]),
                              float(r["interaction_score"][delta]["ci_high"])] for n, r in scores.items()},
            "distance": {"names": names, "matrix": dist.tolist()}, "groups_prototype": group_by_prototype(raw),
            "groups_clustering": group_by_clustering(raw, n_groups=min(n_groups, len(raw)))}


def grouping_stability(assignments: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """How stable a task grouping is across seeds: the adjusted Rand index (``sklearn.metrics.
    adjusted_rand_score``; 1 = the same partition, ~0 = chance agreement) of every pair of seeds' ``{task:
    group}`` assignments (over the tasks they share), their mean and minimum, and how many seeds give each
    task its most frequent group. Group names do not matter to the index, only the partition."""
    from itertools import combinations

    from sklearn.metrics import adjusted_rand_score

    seeds = list(assignments)
    pairs = {}
    for a, b in combinations(seeds, 2):
        tasks = [t for t in assignments[a] if t in assignments[b]]
        pairs[f"{a}-{b}"] = float(adjusted_rand_score([assignments[a][t] for t in tasks],
                                                      [assignments[b][t] for t in tasks]))
    tasks = sorted({t for one in assignments.values() for t in one})
    modal = {}
    for t in tasks:
        got = [one[t] for one in assignments.values() if t in one]
        best = max(sorted(set(got)), key=got.count)
        modal[t] = {"group": best, "seeds": got.count(best), "of": len(got)}
    values = list(pairs.values())
    return {"adjusted_rand_index": pairs, "mean_ari": float(np.mean(values)) if values else None,
            "min_ari": float(min(values)) if values else None, "modal_group": modal,
            "note": "adjusted Rand index between the seeds' partitions of the tasks (sklearn.metrics."
                    "adjusted_rand_score); 1.0 = identical partitions"}


def groups_span(assignments: Mapping[str, Mapping[str, str]], wanted: Sequence[str] = ("R", "U", "S")
                ) -> dict[str, Any]:
    """Which of ``wanted`` groups hold at least one task in each seed, and in how many seeds all of them do
    (issue 27 item 5: at least one task in each of R, U and S in at least two of three seeds)."""
    per_seed = {}
    for seed, one in assignments.items():
        sizes = {g: sum(1 for v in one.values() if v == g) for g in wanted}
        per_seed[seed] = {"sizes": sizes, "missing": [g for g in wanted if sizes[g] == 0]}
    n_all = sum(1 for v in per_seed.values() if not v["missing"])
    need = min(2, len(per_seed))
    return {"per_seed": per_seed, "seeds_with_all": n_all, "n_seeds": len(per_seed),
            "holds": bool(per_seed) and n_all >= need, "rule": f"every one of {list(wanted)} holds a task in at "
            f"least {need} of {len(per_seed)} seeds"}


def span_reason(per_seed: Mapping[str, Mapping[str, Any]], delta_cut: float = 0.5) -> dict[str, Any]:
    """The measured reason why no task reaches the S (score < 0.5) or R (score >= 1.5) region of the
    nearest-prototype rule: per seed the lowest and highest score with their 95 % intervals and dev counts,
    and per task the share of dev samples whose multimodal prediction agrees with neither unimodal model
    (the per-sample S of Eq. 1's sum) and with both (per-sample R)."""
    out: dict[str, Any] = {"per_seed": {}, "per_task_share": {}}
    for seed, one in per_seed.items():
        inter = one["interaction"]
        scores, intervals = inter["scores"], inter["intervals"]
        low, high = min(scores, key=scores.get), max(scores, key=scores.get)
        out["per_seed"][seed] = {
            "lowest": {"task": low, "score": scores[low], "ci95": intervals[low], "n": inter["n"][low]},
            "highest": {"task": high, "score": scores[high], "ci95": intervals[high], "n": inter["n"][high]},
            "below_S_cut": [t for t, v in scores.items() if v < delta_cut],
            "above_R_cut": [t for t, v in scores.items() if v >= 2 - delta_cut]}
        for task, r in inter["per_task"].items():
            counts, n = r.get("counts") or {}, r.get("n") or 0
            share = out["per_task_share"].setdefault(task, {"neither": [], "both": []})
            share["neither"].append(float(counts.get("S", 0)) / n if n else None)
            share["both"].append(float(counts.get("R", 0)) / n if n else None)
    return out


def compare_regimes(predictions: Mapping[str, Mapping[str, Any]], names: Sequence[str], regime: str,
                    others: Sequence[str], *, n_boot: int = 2000) -> dict[str, Any]:
    """``regime`` against each of ``others``: per task and over the items of every task pooled, the paired
    test over TEST ITEMS (seeds averaged per item; :func:`interlens.baselines.paired_over_items`) and a verdict
    -- "gain" / "loss" when the item-bootstrap 95 % CI of the accuracy difference excludes 0, else "no gain"."""
    from ..baselines import paired_over_items

    def verdict(test: Mapping[str, Any]) -> str:
        lo, hi = test["ci95"]
        return "gain" if lo > 0 else "loss" if hi < 0 else "no gain"

    out: dict[str, Any] = {}
    for other in others:
        per_task, mine, theirs = {}, [], []
        for name in names:
            a, b = item_correctness(predictions, name, regime), item_correctness(predictions, name, other)
            test = paired_over_items(a, b, n_boot=n_boot)
            per_task[name] = {**test, "verdict": verdict(test)}
            mine.append(a)
            theirs.append(b)
        pooled_test = paired_over_items(np.concatenate(mine), np.concatenate(theirs), n_boot=n_boot)
        counts = {v: sum(1 for t in per_task.values() if t["verdict"] == v) for v in ("gain", "loss", "no gain")}
        out[f"{regime}_vs_{other}"] = {"per_task": per_task, "pooled": {**pooled_test, "verdict": verdict(pooled_test)},
                                       "tasks": counts}
    return out


def _finite(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _seeded(template: Scorer, seed: int) -> Scorer:
    """An unfitted clone of ``template`` with ``seed`` (scorers without a seed parameter: a plain clone)."""
    return clone(template, seed=seed) if "seed" in template.param_names() else clone(template)


def _predicted(scorer: Scorer, dataset: Dataset, view: str) -> list[int]:
    from .group_tuning import predicted_labels

    return [int(p) for p in predicted_labels(scorer.logits(dataset, view))]


def _metrics(gold: Sequence[int], pred: Sequence[int], n_labels: int) -> dict[str, float]:
    from ..metrics import classification_metrics

    m = classification_metrics(np.asarray(gold), np.asarray(pred), n_labels)
    return {k: float(m[k]) for k in METRICS}


def aggregate(values: Sequence[float | None]) -> dict[str, Any]:
    """``mean`` and sample standard deviation ``std`` (ddof = 1; None with one value) of per-seed
    values; both None when a seed's value is missing (a missing value stays missing)."""
    vals = [_finite(v) for v in values]
    if not vals or None in vals:
        return {"mean": None, "std": None, "values": vals}
    return {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
            "values": vals}


def run_mint_study(tasks: Sequence[str | os.PathLike | Dataset], scorer: str | Scorer = "minilm-ft", *,
                   scorer_options: Mapping[str, Any] | None = None, data_root: str | os.PathLike | None = None,
                   dataset_options: Mapping[str, Any] | None = None,
                   modalities: Mapping[str, Sequence[str]] | None = None,
                   regimes: Sequence[str] = tuple(REGIMES), grouping: str = "prototype", n_groups: int = 3,
                   score_split: str = "dev", eval_split: str = "test", delta: str = "exact", S: int = 100,
                   max_train: int | None = None, seed: int = 0, seeds: Sequence[int] | None = None,
                   subset_seed: int | None = None, out: str | os.PathLike | None = None,
                   progress: Any | None = None, write: bool = True) -> dict[str, Any]:
    """The MINT study on ``tasks`` with ``scorer`` (a registered name + ``scorer_options``, or an
    unfitted Scorer; it must be TRAINABLE and read the ``utterance+context`` view), once per seed.

    ``seeds`` (default ``(seed,)``): per seed the scorer's ``seed`` parameter is set, the train subset
    (``max_train``) is drawn with that seed (``subset_seed``: one fixed subset for every seed instead),
    and the whole study runs: per task a clone is fitted on train (views utterance, context,
    utterance+context; selection on dev) and the interaction score is measured on ``score_split``
    (default dev: the multimodal reference needs no gold label, and test stays for evaluation) with
    ``delta`` (MINT's exact 0/1 or soft); the same fitted unimodal models give the utterance-only and
    context-only baselines on ``eval_split``. Groups: ``grouping="prototype"`` (nearest of 2 / 1 / 0 ->
    R / U / S, Sec. 3.3 step 1) or ``"clustering"`` (agglomerative on the Eq. 2 distances into
    ``n_groups``). Regimes (:data:`REGIMES`) are trained with :func:`run_group_tuning` and evaluated on
    ``eval_split``. ``modalities``: ``{task: (utterance, context)}`` where a task has more than two
    text-kind modalities. ``progress``: a callable given one line per step. Writes ``results.json``,
    ``table.md`` and ``radar.png`` into ``out`` when given (``write=False``: ``out`` only keeps the finished
    seeds, and :func:`interlens.methods.mint.run`'s :meth:`~interlens.methods.result.Result.save` writes the rest).

    Result keys: ``summary[metric][task or "mean"][column]`` = ``{"mean", "std", "values"}`` (columns:
    the regimes and :data:`BASELINES`); ``table[metric][task][regime]`` = the mean; ``significance
    [task][column]`` = paired tests ``vs_single`` / ``vs_majority`` (accuracy, pooled over seeds);
    ``predictions[seed][task]`` = ``{"ids", "gold", "pred": {column: [...]}}``; ``per_seed[seed]``:
    scores, distances, groups, groupings, majority class; ``rows``: every (seed, regime, task) row.
    """
    from ..measure import group_results, measure_interactions
    from .group_tuning import run_group_tuning

    unknown = [r for r in regimes if r not in REGIMES]
    if unknown or not regimes:
        raise DataError(f"unknown regime(s) {unknown}; choose from {list(REGIMES)}", field="regimes")
    if grouping not in ("prototype", "clustering"):
        raise DataError(f"unknown grouping {grouping!r}; choose prototype or clustering", field="grouping")
    seeds = [int(s) for s in (seeds if seeds is not None else (seed,))]
    if not seeds or len(set(seeds)) != len(seeds):
        raise DataError(f"seeds must be distinct and at least one, got {seeds}", field="seeds")
    if isinstance(scorer, str):
        from ..scoring.registry import make_scorer, scorer_class

        require(scorer_class(scorer), Capability.TRAINABLE, "the MINT study (fits one model per task group)")
        template = make_scorer(scorer, **dict(scorer_options or {}))
    else:
        if scorer_options:
            raise DataError("scorer options given with a scorer instance", field="scorer_option")
        template = scorer
    require(template, Capability.TRAINABLE, "the MINT study (fits one model per task group)")
    if not tasks:
        raise DataError("give at least one task", field="tasks")
    say = progress or (lambda line: None)
    loaded: dict[str, MintTask] = {}
    for spec in tasks:
        name = spec.name if isinstance(spec, Dataset) else str(spec)
        task = prepare_task(spec, data_root=data_root, options=dataset_options,
                            modalities=(modalities or {}).get(name), eval_split=eval_split)
        if task.name in loaded:
            raise DataError(f"task {task.name!r} given twice", field="tasks")
        template.check_view(task.dataset, VIEW)  # refused before any training
        loaded[task.name] = task
    names = list(loaded)
    per_seed: dict[str, dict[str, Any]] = {}
    predictions: dict[str, dict[str, dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    from ..scoring.base import fingerprint_of

    # a killed study resumes: each finished seed is kept in out/seeds/seed<k>.json under a key of every input
    study_key = fingerprint_of(template.fingerprint, {n: t.dataset.fingerprint() for n, t in loaded.items()},
                               list(regimes), grouping, n_groups, score_split, eval_split, delta, S, max_train,
                               subset_seed, "per-seed v2: every task grouped, dev counts")
    for s in track(list(seeds), "mint study", "seed"):
        done_path = Path(out) / "seeds" / f"seed{s}.json" if out is not None else None
        if done_path is not None and done_path.exists():
            from ..io import read_json

            done = read_json(done_path)
            if done.get("key") == study_key:
                say(f"seed {s}: finished earlier, reusing {done_path}")
                predictions[str(s)], per_seed[str(s)] = done["predictions"], done["per_seed"]
                rows.extend(done["rows"])
                continue
        seeded = _seeded(template, s)
        prepared = {n: subset_train(t, max_train, s if subset_seed is None else subset_seed)
                    for n, t in loaded.items()}
        preds: dict[str, dict[str, Any]] = {}
        # 1. interaction score per task (MINT Eq. 1, multimodal reference) + unimodal baselines
        scores: dict[str, dict[str, Any]] = {}
        majority: dict[str, dict[str, Any]] = {}
        for name, task in prepared.items():
            say(f"seed {s}: interaction score of {name} (3 views)")
            fitted = clone(seeded)
            report = measure_interactions(task.dataset, fitted, modalities=(UTTERANCE, CONTEXT), split=score_split,
                                          reference="multimodal", S=S, seed=s)
            full = report.to_dict()
            scores[name] = {"interaction_score": full["interaction_score"], "counts": full["counts"],
                            "metrics": full["metrics"], "n": full["n"], "split": score_split,
                            "source_modalities": list(task.source_modalities),
                            "views_at_chance": full.get("uninformative")}  # issue 26 (score split)
            evaluated = task.dataset.split(eval_split)
            label = _majority_label(task.dataset.split("train"))
            majority[name] = {"label": task.dataset.labels[label], "index": label, "fit_on": "train"}
            preds[name] = {"ids": list(evaluated.ids), "gold": [int(g) for g in evaluated.y],
                           "pred": {"majority": [label] * len(evaluated),
                                    UTTERANCE: _predicted(fitted, evaluated, UTTERANCE),
                                    CONTEXT: _predicted(fitted, evaluated, CONTEXT)}}
        # 2. distance matrix (Eq. 2) and groups (Sec. 3.3)
        grouped = group_results(scores, delta=delta, n_groups=n_groups)
        # every task needs a group to be trained in: the partition uses every task's score (MINT Sec. 3.3), and
        # a task whose score comes from a view at its chance floor (issue 26) is flagged beside it, not dropped
        everyone = every_task_grouping(scores, delta=delta, n_groups=n_groups)
        assignment = everyone["groups_prototype"] if grouping == "prototype" else everyone["groups_clustering"]
        groups = _groups(assignment)
        # 3. training regimes (Table 2)
        say(f"seed {s}: groups {groups}; training regimes {list(regimes)}")
        tuning = run_group_tuning({n: t.parts(eval_split) for n, t in prepared.items()}, groups, scorer=seeded,
                                  strategies=[REGIMES[r] for r in regimes], view=VIEW, insta_groups=len(groups),
                                  zero_shot=False)
        regime_of = {v: k for k, v in REGIMES.items()}
        for strategy, by_task in tuning.predictions.items():
            for name, kept in by_task.items():
                if kept["ids"] != preds[name]["ids"]:
                    raise DataError(f"task {name!r}: the {strategy} predictions are not on the evaluation split",
                                    field="predictions")
                preds[name]["pred"][regime_of[strategy]] = kept["pred"]
        for name, p in preds.items():
            k = len(prepared[name].dataset.labels)
            majority[name].update(_metrics(p["gold"], p["pred"]["majority"], k))
        for r in tuning.table.to_dict("records"):
            regime = regime_of.get(r["strategy"], r["strategy"])
            rows.append({**r, "seed": s, "regime": regime,
                         "at_or_below_majority": bool(r["acc"] <= majority[r["task"]]["acc"] + 1e-12)})
        predictions[str(s)] = preds
        per_seed[str(s)] = {
            "interaction": {"scores": everyone["scores"], "intervals": everyone["intervals"],
                            "n": {n: scores[n]["n"] for n in names}, "uninformative": grouped["uninformative"],
                            "per_task": scores},
            "distance": everyone["distance"], "groups": groups, "groups_prototype": everyone["groups_prototype"],
            "groups_clustering": everyone["groups_clustering"],
            "informative_only": {k: grouped[k] for k in ("scores", "groups_prototype", "groups_clustering")},
            "groupings": tuning.groupings, "majority": majority}
        if done_path is not None:
            from ..io import to_jsonable, write_json

            write_json(done_path, to_jsonable({"key": study_key, "seed": s, "predictions": preds,
                                               "per_seed": per_seed[str(s)],
                                               "rows": [r for r in rows if r["seed"] == s]}))
    columns = [*regimes, *BASELINES]
    summary = _summary(predictions, loaded, names, columns)
    table = {m: {row: {r: summary[m][row][r]["mean"] for r in regimes} for row in summary[m]} for m in METRICS}
    flagged = sorted(f"{r}:{t}" for t in names for r in regimes
                     if summary["acc"][t][r]["mean"] is not None
                     and summary["acc"][t][r]["mean"] <= summary["acc"][t]["majority"]["mean"] + 1e-12)
    task_floors = {t: _task_floors(predictions, per_seed, summary, t, loaded[t].dataset.labels) for t in names}
    below = sorted(f"{c}:{t}" for t in names for c in columns if c != "majority"
                   and at_or_below_floor(summary["acc"][t][c]["mean"], task_floors[t]))
    significance = _significance(predictions, names, columns, REFERENCE if REFERENCE in regimes else None,
                                 below=below)
    verdict = mint_verdict(summary, task_floors, below, list(regimes), len(seeds), eval_split)
    results: dict[str, Any] = {
        "command": "mint run", "tasks": names, "scorer": {"name": template.name,
                                                          "params": _jsonable(template.get_params())},
        "settings": {"regimes": list(regimes), "grouping": grouping, "n_groups": n_groups, "score_split": score_split,
                     "eval_split": eval_split, "delta": delta, "S": S, "max_train": max_train, "seeds": seeds,
                     "subset_seed": subset_seed, "view": VIEW, "reference_regime": REFERENCE,
                     "baselines": list(BASELINES), "std": "sample standard deviation over seeds (ddof=1)"},
        "task_sizes": {n: {k: len(v) for k, v in t.dataset.splits.items()} for n, t in loaded.items()},
        "interaction": {"scores": {n: {**aggregate([per_seed[str(s)]["interaction"]["scores"][n] for s in seeds]),
                                       "ci95_per_seed": [per_seed[str(s)]["interaction"]["intervals"][n]
                                                         for s in seeds],
                                       "n_per_seed": [per_seed[str(s)]["interaction"]["per_task"][n]["n"]
                                                      for s in seeds],
                                       "split": score_split,
                                       "uninformative_in_seeds": [s for s in seeds if n in per_seed[str(s)][
                                           "interaction"].get("uninformative", {})]}
                                   for n in names}},
        "groups_per_seed": {str(s): per_seed[str(s)]["groups"] for s in seeds},
        "grouping_per_seed": {kind: {str(s): per_seed[str(s)][f"groups_{kind}"] for s in seeds}
                              for kind in ("prototype", "clustering")},
        "stability": {kind: grouping_stability({str(s): per_seed[str(s)][f"groups_{kind}"] for s in seeds})
                      for kind in ("prototype", "clustering")},
        "span": {"prototype": groups_span({str(s): per_seed[str(s)]["groups_prototype"] for s in seeds}),
                 "prototype_informative_only": groups_span(
                     {str(s): per_seed[str(s)].get("informative_only", {}).get("groups_prototype", {})
                      for s in seeds}),
                 "clustering": groups_span({str(s): per_seed[str(s)]["groups_clustering"] for s in seeds}),
                 "reason": span_reason({str(s): per_seed[str(s)] for s in seeds})},
        "comparisons": compare_regimes(predictions, names, "group", [r for r in ("all", "single", "insta")
                                                                     if r in regimes]) if "group" in regimes else {},
        "per_seed": per_seed, "rows": rows, "summary": summary, "table": table, "significance": significance,
        "at_or_below_majority": flagged, "at_or_below_floor": [b for b in below if b.split(":")[0] in regimes],
        "floors": task_floors, **verdict, "predictions": predictions,
        "note": "p-values: paired sign-flip permutation test over TEST ITEMS of each item's accuracy averaged over "
                "seeds (exact when <= 20 items differ), with the mean difference, Cohen's d_z, the rank-biserial "
                "correlation and an item-bootstrap 95 % CI (interlens.baselines.paired_over_items; issue 26). "
                "Seeds are not samples. No p-value vs the majority for a column at or below the chance floor.",
    }
    _evidence(results, predictions, loaded, names, eval_split, seeds)  # issue 26: stored rows, checks, test looks
    if out is not None and write:
        from ..evidence.store import save_result
        from ..io import atomic_write_text

        out = Path(out)
        radar_plot(table["acc"], out / "radar.png",
                   title=f"MINT regimes ({template.name}), mean accuracy over {len(seeds)} seed(s)")
        atomic_write_text(out / "table.md", table_markdown(summary, significance, list(regimes), seeds=seeds,
                                                           flagged=results["at_or_below_floor"]))
        results["files"] = ["results.json", "table.md", "radar.png"]
        save_result(out, results)
    return results


def _evidence(results: dict[str, Any], predictions: Mapping[str, Mapping[str, Any]], tasks: Mapping[str, MintTask],
              names: list[str], eval_split: str, seeds: Sequence[int]) -> None:
    """Issue 26: every regime's and baseline's per-sample predictions per seed and task (rows for
    ``predictions.jsonl.gz``), checks re-deriving each summary mean and per-seed value, and one test look per
    task in the ledger (``test_looks``)."""
    from ..evidence.ledger import record_evaluation
    from ..evidence.store import attach_evidence, check, rows_from_arrays

    rows, checks = [], []
    for seed, by_task in predictions.items():
        for name, p in by_task.items():
            for column, pred in p["pred"].items():
                rows += rows_from_arrays(p["ids"], p["gold"], pred, model=column, seed=int(seed), split=eval_split,
                                         task=name)
    order = [str(s) for s in seeds]
    for metric, by_task in results["summary"].items():
        for name in names:
            k = len(tasks[name].dataset.labels)
            for column, stat in by_task.get(name, {}).items():
                if stat.get("mean") is None or column not in predictions[order[0]][name]["pred"]:
                    continue
                base = f"/summary/{metric}/{name}/{column}"
                checks.append(check(f"{base}/mean", metric, model=column, split=eval_split, task=name, n_labels=k))
                checks += [check(f"{base}/values/{i}", metric, model=column, split=eval_split, task=name,
                                 seed=int(s), n_labels=k) for i, s in enumerate(order)]
    attach_evidence(results, rows, checks)
    config = {"method": "mint", "scorer": results["scorer"],
              "settings": {k: v for k, v in results["settings"].items() if k != "seeds"}, "tasks": names}
    results["test_looks"] = {name: record_evaluation(tasks[name].dataset, eval_split, config, task=name)
                             for name in names}


def at_or_below_floor(acc: float | None, floor: Mapping[str, Any]) -> bool:
    """:func:`interlens.baselines.at_or_below_floor` (a missing accuracy is not flagged here)."""
    from ..baselines import at_or_below_floor as below

    return acc is not None and below(acc, floor)


def _majority_label(train: Dataset) -> int:
    from ..baselines import majority_class

    return majority_class(train.y)


def _summary(predictions: Mapping[str, Mapping[str, Any]], tasks: Mapping[str, MintTask], names: list[str],
             columns: list[str]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """``summary[metric][task | "mean"][column]``: mean ± std over seeds (the ``mean`` row: per seed the
    mean over tasks, then mean ± std of that over seeds; missing when a task lacks the column)."""
    values: dict[str, dict[str, dict[str, list[float | None]]]] = {
        m: {t: {c: [] for c in columns} for t in [*names, "mean"]} for m in METRICS}
    for preds in predictions.values():
        for name in names:
            p, k = preds[name], len(tasks[name].dataset.labels)
            for c in columns:
                got = _metrics(p["gold"], p["pred"][c], k) if c in p["pred"] else dict.fromkeys(METRICS)
                for m in METRICS:
                    values[m][name][c].append(got[m])
        for m in METRICS:
            for c in columns:
                per_task = [values[m][t][c][-1] for t in names]
                values[m]["mean"][c].append(None if None in per_task else float(np.mean(per_task)))
    return {m: {t: {c: aggregate(v) for c, v in cols.items()} for t, cols in rows.items()}
            for m, rows in values.items()}


def pooled(predictions: Mapping[str, Mapping[str, Any]], task: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Gold and ``column``'s predictions of ``task`` concatenated over seeds (in seed order)."""
    gold = np.concatenate([np.asarray(p[task]["gold"]) for p in predictions.values()])
    pred = np.concatenate([np.asarray(p[task]["pred"][column]) for p in predictions.values()])
    return gold, pred


def item_correctness(predictions: Mapping[str, Mapping[str, Any]], task: str, column: str) -> np.ndarray:
    """``[n_items, n_seeds]`` 0/1 correctness of ``column`` on ``task``'s evaluation items, one column per
    seed (the items must be the same in every seed)."""
    ids, cols = None, []
    for seed, p in predictions.items():
        if ids is not None and list(p[task]["ids"]) != ids:
            raise DataError(f"task {task!r}: seed {seed} was evaluated on other items than the first seed",
                            field="predictions")
        ids = list(p[task]["ids"])
        cols.append(np.asarray(p[task]["pred"][column]) == np.asarray(p[task]["gold"]))
    return np.stack(cols, axis=1).astype(np.float64)


def _significance(predictions: Mapping[str, Mapping[str, Any]], names: list[str], columns: list[str],
                  reference: str | None, *, below: Sequence[str] = (), n_boot: int = 2000
                  ) -> dict[str, dict[str, dict[str, Any]]]:
    """Per task and column: the paired test over TEST ITEMS (per-item accuracy averaged over seeds;
    :func:`interlens.baselines.paired_over_items`) vs. the reference regime and vs. the majority class;
    none vs. the majority for a ``column:task`` in ``below`` (at or below the chance floor; issue 26)."""
    from ..baselines import paired_over_items

    skip = set(below)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in names:
        out[name] = {}
        ref = item_correctness(predictions, name, reference) if reference else None
        maj = item_correctness(predictions, name, "majority")
        for c in columns:
            correct = item_correctness(predictions, name, c)
            entry: dict[str, Any] = {"n_items": int(correct.shape[0]), "n_seeds": int(correct.shape[1])}
            if ref is not None and c != reference:
                entry["vs_single"] = paired_over_items(correct, ref, n_boot=n_boot)
            if c != "majority" and f"{c}:{name}" not in skip:
                entry["vs_majority"] = paired_over_items(correct, maj, n_boot=n_boot)
            elif c != "majority":
                entry["at_or_below_floor"] = True
            out[name][c] = entry
    return out


def _task_floors(predictions: Mapping[str, Mapping[str, Any]], per_seed: Mapping[str, Mapping[str, Any]],
                 summary: Mapping[str, Any], task: str, labels: Sequence[str]) -> dict[str, Any]:
    """The chance floors of ``task``'s evaluation split (issue 26): its constant floor (label prior, an
    oracle) and the train majority (its mean accuracy over seeds; the label of the first seed)."""
    from ..baselines import floors

    first = next(iter(predictions.values()))[task]
    out = floors(None, first["gold"], list(labels))
    maj = next(iter(per_seed.values()))["majority"][task]
    acc = summary["acc"][task]["majority"]["mean"]
    out["train_majority"] = {"index": maj["index"], "label": maj["label"], "acc": acc, "fit_on": "train"}
    out["highest_floor_acc"] = float(max(out["constant_floor"]["acc"], acc))
    return out


def mint_verdict(summary: Mapping[str, Any], task_floors: Mapping[str, Mapping[str, Any]], below: Sequence[str],
                 regimes: Sequence[str], n_seeds: int, split: str) -> dict[str, Any]:
    """``warnings`` (each regime or baseline column of a task at or below its chance floor) and a one-line
    ``verdict``: mean accuracy over tasks per regime, the floors' mean and how many cells are at chance."""
    from ..baselines import floor_warning

    warnings = []
    for cell in below:
        column, task = cell.split(":", 1)
        mean = summary["acc"][task][column]["mean"]
        over = f" (mean over {n_seeds} seeds)" if n_seeds > 1 else ""
        warning = floor_warning(f"{column} on {task}{over}", mean, task_floors[task], split=split)
        if warning:
            warnings.append(warning)
    means = summary["acc"].get("mean", {})
    shown = ", ".join(f"{r} {means[r]['mean']:.3f}" for r in regimes if means.get(r, {}).get("mean") is not None)
    floor_mean = float(np.mean([f["highest_floor_acc"] for f in task_floors.values()])) if task_floors else 0.0
    cells = [b for b in below if b.split(":")[0] in regimes]
    seeds = "1 seed" if n_seeds == 1 else f"{n_seeds} seeds"
    verdict = (f"mint ({split}, {seeds}): mean ACC over {len(task_floors)} tasks {shown}; mean highest chance floor "
               f"{floor_mean:.3f}; {len(cells)} of {len(regimes) * len(task_floors)} regime x task cells at or "
               "below their floor")
    return {"warnings": warnings, "verdict": verdict}


def table_markdown(summary: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]],
                   significance: Mapping[str, Mapping[str, Mapping[str, Any]]], regimes: Sequence[str], *,
                   seeds: Sequence[int] = (), flagged: Sequence[str] = ()) -> str:
    """Table 2 style Markdown: per task the regimes' and baselines' accuracy and macro-F1 in % (mean ± std
    over seeds), the p-value of each column vs. ``single`` (accuracy), ``≤maj`` on regimes at or below the
    majority class, then the p-values vs. the majority class. A missing value is "–"."""
    columns = [c for c in next(iter(summary["acc"].values()))]
    head = {c: c for c in columns} | {UTTERANCE: "utterance only", CONTEXT: "context only"}
    flags = set(flagged)

    def cell(stat: Mapping[str, Any]) -> str:
        if stat["mean"] is None:
            return "–"
        return f"{100 * stat['mean']:.2f}" + (f" ± {100 * stat['std']:.2f}" if stat["std"] is not None else "")

    def p_of(task: str, column: str, key: str) -> str:
        test = significance.get(task, {}).get(column, {}).get(key)
        return "" if test is None else f" (p={test['p_value']:.3g})"

    seeds_text = f" over seeds {', '.join(map(str, seeds))}" if seeds else ""
    lines = []
    for metric, title in (("acc", "Accuracy"), ("macro_f1", "Macro-F1")):
        lines += [f"### {title} (%), mean ± std{seeds_text}"
                  + ("; (p=…): paired permutation test vs. single over test items (accuracy averaged over "
                     "seeds)" if metric == "acc" else ""), "",
                  "| task | " + " | ".join(head[c] for c in columns) + " |", "|---|" + "---|" * len(columns)]
        for task, stats in summary[metric].items():
            cells = []
            for c in columns:
                text = cell(stats[c])
                if metric == "acc":
                    text += p_of(task, c, "vs_single")
                    if c in regimes and f"{c}:{task}" in flags:
                        text += " ≤floor"
                cells.append(text)
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        lines.append("")
    tested = [c for c in columns if c != "majority"]
    lines += ["### p-values vs. the majority class (accuracy, paired permutation test over test items; '–': "
              "none, e.g. at or below the chance floor)", "",
              "| task | " + " | ".join(head[c] for c in tested) + " |", "|---|" + "---|" * len(tested)]
    for task in significance:
        lines.append(f"| {task} | " + " | ".join(
            f"{significance[task][c]['vs_majority']['p_value']:.3g}" if "vs_majority" in significance[task].get(c, {})
            else "–" for c in tested) + " |")
    if flags:
        lines += ["", "At or below the chance floor (mean accuracy <= the higher of the eval-split prior and "
                  "the train majority): " + ", ".join(sorted(flags))]
    return "\n".join(lines) + "\n"


def radar_plot(values: Mapping[str, Mapping[str, float | None]], path: str | os.PathLike, *,
               title: str = "") -> Path:
    """Fig. 4 style radar: one axis per task (the ``mean`` row is left out), one line per regime.
    A missing value (None / NaN) is a gap in the line and its axis label says "(missing)"."""
    from ..report.plots import pyplot

    plt = pyplot()

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
