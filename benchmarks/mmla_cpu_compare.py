"""The CPU default vs. the plain single model on the same test samples: paired tests per task and seed.

Reads two ``bench_mmla_cpu.py`` run folders (their per-sample predictions, ``samples/sft__<task>__seed<k>.jsonl``)
and writes, per task and seed, the majority class, both models' ACC and macro-F1 and the paired test of
the default against the plain model (:func:`interlens.baselines.comparison_table`: exact / Monte-Carlo
sign-flip permutation test on ACC), plus the training wall time of each unit, to ``--results``.

    .venv/bin/python benchmarks/mmla_cpu_compare.py --default runs/bench-mmla-final --plain runs/bench-mmla-plain
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from interlens.baselines import comparison_table
from interlens.bench import parse_tasks
from interlens.io import write_json
from interlens.metrics import classification_metrics


def load_unit(folder: Path, task: str, seed: int, labels: tuple[str, ...]) -> tuple[dict, np.ndarray, np.ndarray]:
    lines = (folder / "samples" / f"sft__{task}__seed{seed}.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    index = {label: i for i, label in enumerate(labels)}
    gold = np.array([index[r["gold"]] for r in rows])
    pred = np.array([index[r["pred"]] if r["pred"] is not None else -1 for r in rows])
    unit = json.loads((folder / "units" / f"sft__{task}__seed{seed}.json").read_text())
    return unit, gold, pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default", type=Path, required=True, help="run folder of the CPU default")
    parser.add_argument("--plain", type=Path, required=True, help="run folder of the plain single model")
    parser.add_argument("--tasks", default="mintrec,mintrec2,meld-emotion")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--names", default="CPU default,plain single model",
                        help="what to call the --default and the --plain run in the JSON and the table")
    parser.add_argument("--results", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "mmla_cpu_vs_plain.json")
    args = parser.parse_args()
    new, old = args.names.split(",")
    out = []
    for task in parse_tasks(args.tasks):
        for seed in range(args.seeds):
            try:
                d_unit, gold, d_pred = load_unit(args.default, task.name, seed, task.labels)
                p_unit, gold_p, p_pred = load_unit(args.plain, task.name, seed, task.labels)
            except FileNotFoundError as exc:
                print(f"skip {task.name} seed {seed}: {exc.filename} missing")
                continue
            assert (gold == gold_p).all()  # noqa: S101 - the same test samples in the same order
            majority = d_unit["metrics"]["majority"]["label"]
            table = comparison_table(gold, {old: p_pred, new: d_pred}, old,
                                     task.labels.index(majority), n_labels=len(task.labels), seed=seed)
            out.append({"task": task.name, "seed": seed, "majority_label": majority,
                        "rows": [{k: r[k] for k in ("name", "acc", "delta", "p_value", "test",
                                                    "at_or_below_majority")} for r in table],
                        "macro_f1": {old: classification_metrics(gold, p_pred, len(task.labels))["macro_f1"],
                                     new: classification_metrics(gold, d_pred, len(task.labels))["macro_f1"]},
                        "wall_s": {old: p_unit["wall_s"], new: d_unit["wall_s"]},
                        # every fit behind the model (restored / prefitted ensemble members included); None
                        # for units recorded before units kept it
                        "fit_s_total": {old: p_unit.get("fit_s_total"), new: d_unit.get("fit_s_total")}})
    write_json(args.results, {"benchmark": "mmla_cpu_vs_plain", "default_run": str(args.default),
                              "plain_run": str(args.plain), "names": {"default": new, "plain": old},
                              "split": "test (official)", "units": out})
    print(f"| task | seed | majority | {old} ACC | {new} ACC | Δ | p (paired) | {old} s | {new} s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for u in out:
        r = {row["name"]: row for row in u["rows"]}
        d = r[new]
        print(f"| {u['task']} | {u['seed']} | {100 * r['majority class']['acc']:.2f} | "
              f"{100 * r[old]['acc']:.2f} | {100 * d['acc']:.2f} | {100 * d['delta']:+.2f} | "
              f"{d['p_value']:.3g} | {u['wall_s'][old]:.0f} | {u['wall_s'][new]:.0f} |")


if __name__ == "__main__":
    main()
