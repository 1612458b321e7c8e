"""CPU default on MMLA: fine-tuned MiniLM (``minilm-ft``), SFT, on MIntRec, MIntRec2.0 and MELD emotion.

Writes a JSON with test ACC (mean +- std over seeds) per task next to MMLA Table 3's text-only SFT
numbers (Qwen2-0.5B / Qwen2-7B), and the wall time. Resumable: re-running with the same --out skips
finished task x seed units.

    .venv/bin/python benchmarks/bench_mmla_cpu.py --seeds 3 --out runs/bench-mmla-cpu
    .venv/bin/python benchmarks/bench_mmla_cpu.py --seeds 1 --epochs 2 --max-train 3000   # quick look
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from interlens.bench import parse_tasks, run_benchmark
from interlens.bench.reference import reference_acc
from interlens.io import write_json

TASKS = "mintrec,mintrec2,meld-emotion"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--max-train", type=int, default=None, help="cap training samples per task")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5, help="encoder learning rate")
    parser.add_argument("--min-steps", type=int, default=None, help="more epochs for small training sets")
    parser.add_argument("--class-weight", default=None, choices=[None, "balanced"])
    parser.add_argument("--tasks", default=TASKS)
    parser.add_argument("--out", type=Path, default=Path("runs/bench-mmla-cpu"))
    args = parser.parse_args()
    params = {"epochs": args.epochs, "max_length": args.max_length, "max_train": args.max_train,
              "batch_size": args.batch_size, "class_weight": args.class_weight, "lr": args.lr,
              "min_steps": args.min_steps}
    started = time.perf_counter()
    results = run_benchmark(parse_tasks(args.tasks), "minilm-ft", "sft", list(range(args.seeds)), args.out,
                            scorer_params=params, n_boot=200, log=lambda m: print(m, flush=True))
    rows = []
    for task in results.tasks:
        acc = task.summary["acc"]
        rows.append({"task": task.task, "acc_mean": round(100 * acc["mean"], 2), "acc_std": round(100 * acc["std"], 2),
                     "macro_f1_mean": round(100 * task.summary["macro_f1"]["mean"], 2),
                     "evaluation_split": task.evaluation_split, "seeds": task.seeds,
                     "mmla_qwen2_0.5b_sft": reference_acc(task.task, "Qwen2-0.5B"),
                     "mmla_qwen2_7b_sft": reference_acc(task.task, "Qwen2-7B")})
    report = {"scorer": "minilm-ft", "method": "sft", "params": params, "seeds": args.seeds, "tasks": rows,
              "wall_s": round(time.perf_counter() - started, 1), "versions": results.versions,
              "git_revision": results.git_revision, "reference": "MMLA (Zhang et al., 2025) Table 3, text-only SFT ACC"}
    write_json(args.out / "bench_mmla_cpu.json", report)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
