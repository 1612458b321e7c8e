"""Start-up overhead: ``import interlens``, ``import interlens.cli`` and ``interlens --help`` in fresh
processes (best and median of --repeats), which heavy libraries each one loads, and the bootstrap CI
time of one benchmark unit (vectorised vs the previous per-resample scikit-learn loop).

Targets (issue 13): ``import interlens`` and ``interlens --help`` under 0.5 s; bootstrap under 1 s per
unit. Wall time depends on machine load (recorded); process CPU time (user + sys) is reported too.

    .venv/bin/python benchmarks/bench_import.py [--repeats 5] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "import.json"
HEAVY = ("torch", "transformers", "pandas", "matplotlib", "sklearn", "scipy")
CLI = [str(Path(sys.executable).with_name("interlens"))]


def _run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and child CPU seconds of one fresh process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def startup(name: str, cmd: list[str], repeats: int) -> dict[str, Any]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu, _ = _run(cmd)
        walls.append(wall), cpus.append(cpu)
    row = {"command": " ".join(cmd[-2:]) if cmd[0] == sys.executable else "interlens --help",
           "wall_s_best": min(walls), "wall_s_median": float(np.median(walls)),
           "cpu_s_best": min(cpus), "cpu_s_median": float(np.median(cpus)), "target_s": 0.5}
    row["target_met"] = row["wall_s_best"] < 0.5
    print(f"{name:22s} wall best {row['wall_s_best']:.3f}s median {row['wall_s_median']:.3f}s | cpu best "
          f"{row['cpu_s_best']:.3f}s", flush=True)
    return row


def heavy_modules(module: str) -> list[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    return json.loads(_run([sys.executable, "-c", code])[2])


def bootstrap_unit(n: int, k: int, n_boot: int) -> dict[str, Any]:
    """One unit's CIs (acc, macro F1) at MELD test size: vectorised vs the previous loop (sklearn per resample)."""
    from interlens.metrics import bootstrap_ci, bootstrap_metric_ci, classification_metrics

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    start = time.perf_counter()
    fast = bootstrap_metric_ci(y_true, y_pred, k, ("acc", "macro_f1"), n_boot=n_boot, seed=0)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    slow = {name: bootstrap_ci(lambda idx, m=name: classification_metrics(y_true[idx], y_pred[idx], k)[m], n,
                               n_boot=n_boot, seed=0) for name in ("acc", "macro_f1")}
    slow_s = time.perf_counter() - start
    diff = max(abs(a - b) for name in fast for a, b in zip(fast[name], slow[name], strict=True))
    print(f"bootstrap n={n} K={k} B={n_boot}: vectorised {fast_s:.3f}s, per-resample sklearn {slow_s:.1f}s "
          f"({slow_s / fast_s:.0f}x), max |interval difference| {diff:.1e}", flush=True)
    return {"n": n, "k": k, "n_boot": n_boot, "vectorised_s": fast_s, "previous_s": slow_s,
            "speedup": slow_s / fast_s, "max_abs_interval_diff": diff, "vectorised": fast, "previous": slow,
            "target_s": 1.0, "target_met": fast_s < 1.0}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    _run([sys.executable, "-c", "import interlens.cli"])  # warm the file cache
    report = {
        "benchmark": "import_overhead", "repeats": args.repeats, "load_average_before": load,
        "startup": {
            "python": startup("python -c pass", [sys.executable, "-c", "pass"], args.repeats),
            "import interlens": startup("import interlens", [sys.executable, "-c", "import interlens"],
                                        args.repeats),
            "import interlens.cli": startup("import interlens.cli", [sys.executable, "-c", "import interlens.cli"],
                                            args.repeats),
            "interlens --help": startup("interlens --help", [*CLI, "--help"], args.repeats),
        },
        "heavy_modules_loaded": {m: heavy_modules(m) for m in ("interlens", "interlens.cli")},
        "bootstrap": bootstrap_unit(2610, 7, args.n_boot),  # MELD emotion test size, 7 labels
        "load_average_after": os.getloadavg(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(f"heavy modules loaded: {report['heavy_modules_loaded']}")
    from interlens.io import write_json

    print(f"written: {write_json(args.out, report)}")
    return report


if __name__ == "__main__":
    main()
