"""CPU default on MMLA: fine-tuned MiniLM (``minilm-ft``), SFT, on MIntRec, MIntRec2.0 and MELD emotion.

Writes a JSON with test ACC (mean, std and per seed) per task next to MMLA Table 3's text-only SFT
numbers (Qwen2-0.5B / Qwen2-7B), the settings, the wall time per unit and the split used for every
choice (epoch selection on dev macro-F1; test only for the reported ACC), to ``<out>/bench_mmla_cpu.json``
and ``--results`` (default ``benchmarks/results/mmla_cpu.json``). Resumable: re-running with the same
--out skips finished task x seed units. The defaults are the settings of the recorded run
(batch 16, lr 1e-4, min 700 steps, 3 epochs, 96 tokens) with the bf16 training path (``--precision
fp32`` is the previous float32 path; ``benchmarks/bench_train_speed.py`` compares them).

    .venv/bin/python benchmarks/bench_mmla_cpu.py --seeds 3 --out runs/bench-mmla-cpu   # the full study
    .venv/bin/python benchmarks/bench_mmla_cpu.py --seeds 1 --epochs 2 --max-train 3000 --results /tmp/q.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from interlens.bench import parse_tasks, run_benchmark
from interlens.bench.pooling import parse_auxiliary, restrict_modalities
from interlens.bench.reference import reference_acc
from interlens.io import write_json
from interlens.logs import configure

TASKS = "mintrec,mintrec2,meld-emotion"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--max-train", type=int, default=None, help="cap training samples per task")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate")
    parser.add_argument("--min-steps", type=int, default=700, help="more epochs for small training sets")
    parser.add_argument("--class-weight", default=None, choices=[None, "balanced"])
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"], help="minilm-ft training path")
    parser.add_argument("--members", type=int, default=1,
                        help="seed ensemble of N minilm-ft models per unit (the `ensemble` scorer; one model, N fits)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per model (default: torch's); 1 lets two processes share two cores")
    parser.add_argument("--tasks", default=TASKS)
    parser.add_argument("--modalities", action="append", default=None,
                        help="'a,b' (every task) or TASK=a,b (repeatable): the modalities a task shows the model "
                             "(e.g. 'text' = the utterance only); default: all of each task's")
    parser.add_argument("--auxiliary", action="append", default=None,
                        help="TASK=AUX[,AUX] or 'sisters' (mintrec <-> mintrec2): pool AUX's training samples with "
                             "TASK's labels into TASK's training split (dev/test stay TASK's own)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-mmla-cpu"))
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results" / "mmla_cpu.json")
    args = parser.parse_args()
    configure()  # INFO: one line per epoch (loss, dev macro-F1, ETA) inside every unit
    params = {"epochs": args.epochs, "max_length": args.max_length, "max_train": args.max_train,
              "batch_size": args.batch_size, "class_weight": args.class_weight, "lr": args.lr,
              "min_steps": args.min_steps, "precision": args.precision,
              **({"threads": args.threads} if args.threads else {})}
    scorer, scorer_params = "minilm-ft", params
    if args.members > 1:
        scorer, scorer_params = "ensemble", {"base": "minilm-ft", "members": args.members, "base_params": params}
    started = time.perf_counter()
    tasks = restrict_modalities(parse_tasks(args.tasks), args.modalities)
    auxiliary = parse_auxiliary(args.auxiliary, tasks)
    results = run_benchmark(tasks, scorer, "sft", list(range(args.seeds)), args.out, scorer_params=scorer_params,
                            n_boot=200, log=lambda m: print(m, flush=True), auxiliary=auxiliary)
    rows = []
    for task in results.tasks:
        acc = task.summary["acc"]
        units = {seed: json.loads((args.out / "units" / f"sft__{task.task}__seed{seed}.json").read_text())
                 for seed in task.seeds if (args.out / "units" / f"sft__{task.task}__seed{seed}.json").exists()}
        rows.append({"task": task.task, "acc_mean": round(100 * acc["mean"], 2), "acc_std": round(100 * acc["std"], 2),
                     "acc_per_seed": {str(s): round(100 * m["acc"], 2) for s, m in task.per_seed.items()},
                     "macro_f1_mean": round(100 * task.summary["macro_f1"]["mean"], 2),
                     "wall_s_per_unit": {str(s): round(u.get("wall_s", 0.0), 1) for s, u in units.items()},
                     "fit_s_per_unit": {str(s): round(u.get("fit_s", 0.0), 1) for s, u in units.items()},
                     "selection_split": "dev (epoch with the best dev macro-F1)",
                     "evaluation_split": task.evaluation_split, "seeds": task.seeds,
                     "mmla_qwen2_0.5b_sft": reference_acc(task.task, "Qwen2-0.5B"),
                     "mmla_qwen2_7b_sft": reference_acc(task.task, "Qwen2-7B")})
    report = {"scorer": scorer, "method": "sft", "params": scorer_params, "seeds": args.seeds, "tasks": rows,
              "modalities": {t.name: list(t.modalities) if t.modalities else "all" for t in tasks},
              "auxiliary": {name: [a.name for a in aux] for name, aux in auxiliary.items()},
              "wall_s": round(time.perf_counter() - started, 1), "versions": results.versions,
              "git_revision": results.git_revision, "reference": "MMLA (Zhang et al., 2025) Table 3, text-only SFT ACC",
              "choices": "settings fixed before the run (no search); epoch selection on dev only; test used only "
                         "for the reported ACC"}
    write_json(args.out / "bench_mmla_cpu.json", report)
    write_json(args.results, report)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
