"""Benchmark: PID (CVX estimator, Liang et al. 2023) solve time vs. joint support size.

Run: ``.venv/bin/python benchmarks/bench_pid.py [--repeats 3] [--out PATH]``.
For each table shape (|X1|, |X2|, |Y|) a random joint distribution with full support (Dirichlet(1),
seeded) is decomposed; the wall time of the whole :func:`pid_from_distribution` call (problem build,
Clarabel solve, information terms) is recorded (median over ``--repeats``), with the solver's
iterations, status, and the check ``R + U1 + U2 + S = I(X1, X2; Y)``. Written atomically as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from interlens.interactions import pid_from_distribution
from interlens.io import write_json

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pid_solve_time.json"
SHAPES = ((2, 2, 2), (5, 5, 3), (10, 10, 5), (15, 15, 10), (20, 20, 10), (30, 30, 10))


def run(shapes: tuple[tuple[int, int, int], ...] = SHAPES, repeats: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    for shape in shapes:
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        times, result = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            result = pid_from_distribution(p)
            times.append(time.perf_counter() - start)
        assert result is not None
        rows.append({"shape": list(shape), "support": result.support, "seconds_median": float(np.median(times)),
                     "seconds_all": times, "solver_seconds": result.solver["seconds"],
                     "iterations": result.solver["iterations"], "status": result.solver["status"],
                     "terms_bits": result.terms, "I(X1,X2;Y)": result.mi,
                     "sum_minus_mi": sum(result.terms.values()) - result.mi})
        print(f"{str(shape):>14}  support {result.support:>5}  {np.median(times):8.3f} s  "
              f"{result.solver['iterations']:>3} it  {result.solver['status']}")
    return {"benchmark": "pid solve time vs support size", "solver": "clarabel (exponential cones)",
            "distribution": "Dirichlet(1) random joint table, full support", "seed": seed, "repeats": repeats,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
            "results": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    path = write_json(args.out, run(repeats=args.repeats, seed=args.seed))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
