"""Dev-set selection for the CPU default on MMLA (issue 13, goal 1): which view, which extra training data,
which loss -- chosen on the **dev** split only; the test split is never read here.

Each candidate is fitted on the task's train split (plus, for ``+aux``, the sister task's training samples
whose label is one of this task's labels, :func:`interlens.bench.pooling.with_auxiliary_training`), its
epoch is chosen on dev macro-F1 (as in the benchmark) and its dev ACC / macro-F1 at that epoch are stored.
Each run stores its dev probabilities, so a seed ensemble (the ``ensemble`` scorer: members with seeds
s, s + 1000, s + 2000, ... and their mean probability; 2, 3 and 5 members) is evaluated from the member runs
without refitting (``--collect``). One run per process (``--task``, ``--config``, ``--seed``) so candidates
can run side by side on one thread each; every run is a file ``<out>/<task>__<config>__seed<k>.json``
(skipped when present), and ``--collect`` merges them into ``benchmarks/results/mmla_dev_selection.json``.

    .venv/bin/python benchmarks/mmla_dev_select.py --task mintrec --config utt --threads 1
    .venv/bin/python benchmarks/mmla_dev_select.py --collect
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from interlens.bench import parse_tasks
from interlens.bench.pooling import SISTER_TASKS, with_auxiliary_training, with_data_options
from interlens.io import write_json
from interlens.logs import configure
from interlens.metrics import classification_metrics
from interlens.scoring.registry import make_scorer

#: seed ensembles evaluated from the stored member runs
ENSEMBLE_SIZES = (2, 3, 5)

#: the benchmark's recorded settings (benchmarks/bench_mmla_cpu.py)
BASE = {"epochs": 3, "max_length": 96, "batch_size": 16, "lr": 1e-4, "min_steps": 700, "precision": "bf16"}
#: candidate -> (view: "default" = the scorer's default view of the task | "text" = the utterance only,
#:               auxiliary training data: None | "sisters" (SISTER_TASKS) | task names, extra scorer params)
CONFIGS: dict[str, tuple[str, str | None, dict]] = {
    "base": ("default", None, {}),
    "utt": ("text", None, {}),
    "utt+aux": ("text", "sisters", {}),
    "ctx+aux": ("default", "sisters", {}),
    "utt+balanced": ("text", None, {"class_weight": "balanced"}),
    "utt+lr5e-5": ("text", None, {"lr": 5e-5}),
    "utt+aux+5ep": ("text", "sisters", {"epochs": 5}),
    # MELD: IEMOCAP's emotions under MELD's names (LABEL_SYNONYMS), label smoothing
    "utt+iemocap": ("text", "iemocap-emotion", {}),
    "utt+ls0.1": ("text", None, {"label_smoothing": 0.1}),
    # MELD: the 3 previous turns and the next one (offline ERC, as EmoBERTa reads past and future turns)
    "ctx+next1": ("default", None, {}),
    # MELD: every member picked its last epoch (dev macro-F1 still rising): one more
    "ctx+4ep": ("default", None, {"epochs": 4}),
    # MELD: the epoch picked on dev ACC (the benchmark's metric) instead of macro-F1
    "ctx+selacc": ("default", None, {"select_metric": "acc"}),
    # MELD: the utterance as "Speaker: text", as its context lines are
    "ctx+speaker": ("default", None, {}),
    # MELD: multi-task with MELD's own sentiment labels (a second head, weight 0.5, dropped after training)
    "ctx+sentiment": ("default", None, {"aux_target": "sentiment"}),
}
#: candidate -> loader options merged into the task's (interlens.bench.pooling.with_data_options)
DATA_OPTIONS: dict[str, dict] = {"ctx+next1": {"turns_after": 1}, "ctx+speaker": {"speaker_prefix": True}}


def run_one(task_name: str, config: str, seed: int, threads: int | None, checkpoints: Path | None = None) -> dict:
    """One candidate fitted and scored on dev; with ``checkpoints``, the fitted model is filed there under its
    fingerprint (or restored from it), as the ``ensemble`` scorer files its members
    (:func:`interlens.checkpoints.fit_or_restore`): a bench run given the folder reuses it."""
    from interlens.checkpoints import fit_or_restore

    task = with_data_options(parse_tasks(task_name), {task_name: DATA_OPTIONS.get(config, {})})[0]
    data = task.load()
    view_kind, aux, extra = CONFIGS[config]
    train, dev = data.split(task.splits["fit"]), data.split(task.splits["val"])
    view = "+".join(data.modalities) if view_kind == "default" else "text"
    if aux:
        train = train.with_modalities(view.split("+"))
        train = with_auxiliary_training(train, [t.load().split(t.splits["fit"]) for t in
                                                parse_tasks(SISTER_TASKS[task.name] if aux == "sisters" else aux)])
    scorer = make_scorer("minilm-ft", **{**BASE, **extra, "seed": seed, "threads": threads, "progress": False})
    started = time.perf_counter()
    planned = scorer.planned_fingerprint(train, [view], dev) if checkpoints else None
    how = fit_or_restore(scorer, train, [view], dev, fingerprint=planned, directory=checkpoints)
    fit_s = time.perf_counter() - started
    probs = scorer.predict_proba(dev, view).probs
    pred = probs.argmax(1)
    metrics = classification_metrics(dev.y, pred, len(dev.labels))
    return {"task": task.name, "config": config, "seed": seed, "view": view, "auxiliary": aux,
            "params": {**BASE, **extra}, "n_train": len(train), "n_dev": len(dev),
            "dev_acc": metrics["acc"], "dev_macro_f1": metrics["macro_f1"], "fit_s": round(fit_s, 1),
            "best_epoch": scorer.best_epoch_[view], "epochs_log": scorer.train_log_[view], "threads": threads,
            "dev_probs": probs.round(6).tolist(),
            **({"data_options": DATA_OPTIONS[config]} if config in DATA_OPTIONS else {}),
            **({"checkpoint": how, "fingerprint": planned} if checkpoints else {})}


def collect(out: Path, results: Path) -> None:
    runs = [json.loads(p.read_text()) for p in sorted(out.glob("*__seed*.json"))]
    table: dict[str, dict[str, dict]] = {}
    gold: dict[str, np.ndarray] = {}
    for r in runs:
        cell = table.setdefault(r["task"], {}).setdefault(r["config"], {"dev_acc": {}, "dev_macro_f1": {}})
        cell["dev_acc"][str(r["seed"])] = round(100 * r["dev_acc"], 2)
        cell["dev_macro_f1"][str(r["seed"])] = round(100 * r["dev_macro_f1"], 2)
        cell["fit_s"] = r["fit_s"]
        cell["n_train"] = r["n_train"]
    by_key = {(r["task"], r["config"], r["seed"]): r for r in runs if "dev_probs" in r}
    for (task_name, config, seed), size in itertools.product(sorted(by_key), ENSEMBLE_SIZES):
        members = [by_key.get((task_name, config, seed + 1000 * k)) for k in range(size)]
        if seed >= 1000 or any(m is None for m in members):
            continue
        if task_name not in gold:
            task = parse_tasks(task_name)[0]
            gold[task_name] = task.load().split(task.splits["val"]).y
        probs = np.mean([np.asarray(m["dev_probs"]) for m in members], axis=0)
        metrics = classification_metrics(gold[task_name], probs.argmax(1), probs.shape[1])
        cell = table[task_name][config].setdefault(f"ensemble{size}", {"dev_acc": {}, "dev_macro_f1": {}})
        cell["dev_acc"][str(seed)] = round(100 * metrics["acc"], 2)
        cell["dev_macro_f1"][str(seed)] = round(100 * metrics["macro_f1"], 2)
    mixes = mixed_ensembles(by_key, gold)
    write_json(results, {"benchmark": "mmla_dev_selection", "split_used": "dev only (test never read)",
                         "base_params": BASE, "configs": {k: {"view": v[0], "auxiliary": v[1], "params": v[2],
                                                              **({"data_options": DATA_OPTIONS[k]}
                                                                 if k in DATA_OPTIONS else {})}
                                                          for k, v in CONFIGS.items()},
                         "ensembleN": "mean dev probability of the runs with seeds s, s+1000, ..., "
                                      "s+1000(N-1) (= the ensemble scorer with N members and seed s)",
                         "mixed_ensembles": mixes,
                         "mixed_ensembles_note": "every 3-member ensemble of distinct runs with j members from config "
                                                 "a and 3 - j from config b: mean / min / max dev ACC over them "
                                                 "(seed-robust: no single seed triple decides)",
                         "table": table, "runs": [{k: v for k, v in r.items() if k != "dev_probs"} for r in runs]})
    print(json.dumps(table, indent=1))


def mixed_ensembles(by_key: dict[tuple[str, str, int], dict], gold: dict[str, np.ndarray]) -> dict[str, dict]:
    """For each task and pair of its configs with at least 3 stored runs each: dev ACC of every 3-member
    ensemble with j members of the first and 3 - j of the second (mean, min, max, count per j)."""
    out: dict[str, dict] = {}
    tasks = sorted({t for t, _, _ in by_key})
    for task_name in tasks:
        if task_name not in gold:
            task = parse_tasks(task_name)[0]
            gold[task_name] = task.load().split(task.splits["val"]).y
        runs: dict[str, list[np.ndarray]] = {}
        for (t, config, _seed), r in sorted(by_key.items()):
            if t == task_name:
                runs.setdefault(config, []).append(np.asarray(r["dev_probs"]))
        for a, b in itertools.combinations(sorted(c for c, v in runs.items() if len(v) >= 3), 2):
            cell = {}
            for j in range(4):
                accs = [100 * float((np.mean([*x, *z], axis=0).argmax(1) == gold[task_name]).mean())
                        for x in itertools.combinations(runs[a], j) for z in itertools.combinations(runs[b], 3 - j)]
                cell[f"{j} {a} + {3 - j} {b}"] = {"mean": round(float(np.mean(accs)), 2), "min": round(min(accs), 2),
                                                  "max": round(max(accs), 2), "n": len(accs)}
            out.setdefault(task_name, {})[f"{a} / {b}"] = cell
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mintrec")
    parser.add_argument("--config", default="utt", choices=sorted(CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/mmla-dev"))
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--checkpoints", type=Path, default=None,
                        help="file the fitted model here under its fingerprint (reused by a bench run given it)")
    parser.add_argument("--results", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "mmla_dev_selection.json")
    args = parser.parse_args()
    configure()  # one line per epoch with dev macro-F1 and ETA
    if args.collect:
        collect(args.out, args.results)
        return
    path = args.out / f"{args.task}__{args.config}__seed{args.seed}.json"
    if path.exists():
        print(f"done already: {path}")
        return
    result = run_one(args.task, args.config, args.seed, args.threads, args.checkpoints)
    write_json(path, result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("epochs_log", "dev_probs")}))


if __name__ == "__main__":
    main()
