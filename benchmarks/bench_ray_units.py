"""Benchmark: benchmark units (task x seed, ``bench run`` SFT with the embedding scorer) on a local Ray
runtime with 1 worker vs 2 workers, in one run (issue 14). Each unit declares one CPU and its worker
runs one torch thread, so the 2-worker run uses both cores without oversubscription.

Tasks are small dataset files written to a temporary folder (label words in the text, like the tests).
Each configuration starts a fresh Ray runtime (``num_cpus`` = workers), runs every unit once to warm the
workers (model load, imports) into a scratch folder, then times a full run into a fresh folder.

Run: ``.venv/bin/python benchmarks/bench_ray_units.py [--tasks 2] [--seeds 4] [--n 40] [--out PATH]``.
Prints and writes JSON (default ``benchmarks/results/ray_units.json``) with both wall times and the ratio.
The machine may be shared: the load average before and after is recorded with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = {"a": "great lovely wonderful", "b": "awful terrible bad", "c": "table chair window",
         "x": "yes sure agree", "y": "no never refuse"}
LABELS = [("a", "b", "c"), ("x", "y")]


def task_file(folder: Path, name: str, labels: tuple[str, ...], n: int) -> Path:
    rows = [{"uid": f"{split}{i}", "utt": f"{WORDS[labels[i % len(labels)]]} number {i} in {name}",
             "tag": labels[i % len(labels)], "part": split} for split in ("train", "dev", "test") for i in range(n)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"name": name, "path": f"{name}.jsonl", "id": "uid", "label": "tag", "labels": list(labels),
            "modalities": {"utterance": "utt"}, "split": "part", "dimension": "intent"}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def timed_run(workers: int, tasks: list[Any], seeds: int, root: Path, params: dict[str, Any]) -> dict[str, Any]:
    import ray

    from interlens.bench import Runner
    from interlens.execution import RayExecutor

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        executor = RayExecutor()
        t0 = time.perf_counter()
        Runner(tasks, "embedding", "sft", range(seeds), root / f"warm{workers}", scorer_params=params,
               n_boot=0).run(executor)
        warm = time.perf_counter() - t0
        runner = Runner(tasks, "embedding", "sft", range(seeds), root / f"run{workers}", scorer_params=params,
                        n_boot=0)
        t0 = time.perf_counter()
        runner.run(executor)
        seconds = time.perf_counter() - t0
    finally:
        ray.shutdown()
    return {"workers": workers, "units": len(runner.computed), "seconds": seconds, "warmup_seconds": warm,
            "units_per_s": len(runner.computed) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--n", type=int, default=40, help="rows per split and task")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ray_units.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from interlens.bench import task_from_file

    params = {"epochs": args.epochs, "hidden": 32, "rank": 4}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tasks = [task_from_file(task_file(root / "data", f"task{k}", LABELS[k % 2], args.n))
                 for k in range(args.tasks)]
        runs = [timed_run(w, tasks, args.seeds, root, params) for w in (1, 2)]
        same = all(json.loads((root / "run1" / "units" / p.name).read_text())["metrics"]
                   == json.loads(p.read_text())["metrics"] for p in (root / "run2" / "units").iterdir())
    result = {"benchmark": "ray_units", "cpu_count": os.cpu_count(), "platform": platform.platform(),
              "scorer": "embedding", "scorer_params": params, "tasks": args.tasks, "seeds": args.seeds,
              "rows_per_split": args.n, "runs": runs, "speedup_2_vs_1": runs[0]["seconds"] / runs[1]["seconds"],
              "goal": 1.7, "metrics_identical_1_vs_2_workers": same,
              "load_average_before": load_before, "load_average_after": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("runs", "speedup_2_vs_1", "metrics_identical_1_vs_2_workers",
                                             "load_average_before", "load_average_after")}, indent=2))


if __name__ == "__main__":
    main()
