"""Benchmark: vectorised ``categorize`` vs. a plain per-sample Python loop (MMoE Algorithm 1).

Run: ``.venv/bin/python benchmarks/bench_categorize.py [--n 1000000] [--loop-n 100000] [--out PATH]``.
The loop is timed on a ``--loop-n`` subset and extrapolated linearly to ``--n``; both are checked to
give identical categories on that subset. Results are printed and written (atomically) as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from interlens.interactions import categorize
from interlens.io import write_json

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "categorize.json"


def loop_categorize(y1: list[int], y2: list[int], ref: list[int]) -> list[str]:
    """The obvious per-sample implementation (reference for speed and correctness)."""
    out = []
    for a, b, r in zip(y1, y2, ref, strict=True):
        if a == -1 or b == -1 or r == -1:
            out.append("missing")
        elif a == r and b == r:
            out.append("R")
        elif a == r:
            out.append("U1")
        elif b == r:
            out.append("U2")
        else:
            out.append("S")
    return out


def best_of(repeats: int, func, *args) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="samples for the vectorised run")
    parser.add_argument("--loop-n", type=int, default=100_000, help="subset timed with the Python loop")
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    # labels 0..k-1 with ~2 % missing (-1)
    y1, y2, ref = (np.where(rng.random(args.n) < 0.02, -1, rng.integers(0, args.classes, args.n))
                   for _ in range(3))
    vec_s, cats = best_of(args.repeats, categorize, y1, y2, ref)
    m = min(args.loop_n, args.n)
    lists = [y1[:m].tolist(), y2[:m].tolist(), ref[:m].tolist()]
    loop_s, loop_cats = best_of(args.repeats, loop_categorize, *lists)
    identical = bool(np.array_equal(np.asarray(loop_cats), cats[:m]))
    loop_extrapolated = loop_s * args.n / m
    # the same loop fed numpy arrays directly (no .tolist()): what naive code usually does
    numpy_loop_s, _ = best_of(1, loop_categorize, y1[:m], y2[:m], ref[:m])
    result = {
        "benchmark": "categorize (MMoE Algorithm 1, k classes)",
        "n": args.n, "classes": args.classes, "missing_share": 0.02, "seed": args.seed, "repeats": args.repeats,
        "vectorised_seconds": vec_s,
        "loop_subset_n": m, "loop_subset_seconds": loop_s,
        "loop_extrapolated_seconds": loop_extrapolated,
        "speedup": loop_extrapolated / vec_s,
        "loop_over_numpy_arrays_subset_seconds": numpy_loop_s,
        "loop_over_numpy_arrays_extrapolated_seconds": numpy_loop_s * args.n / m,
        "identical_on_subset": identical,
        "counts": {str(k): int(v) for k, v in zip(*np.unique(cats, return_counts=True), strict=True)},
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    print(f"categorize, n = {args.n:,} samples, {args.classes} classes (best of {args.repeats})")
    print(f"  vectorised numpy        : {vec_s * 1e3:9.1f} ms")
    print(f"  Python loop, lists {m:,}: {loop_s * 1e3:9.1f} ms -> {loop_extrapolated * 1e3:9.1f} ms for {args.n:,}"
          " (extrapolated)")
    print(f"  same loop over np arrays: {numpy_loop_s * 1e3:9.1f} ms -> {numpy_loop_s * args.n / m * 1e3:9.1f} ms"
          " (extrapolated)")
    print(f"  speed-up vs list loop   : {result['speedup']:9.1f} x   identical on subset: {identical}")
    write_json(args.out, result)
    print(f"wrote {args.out}")
    if not identical:
        raise SystemExit("vectorised and loop categories differ")
    return result


if __name__ == "__main__":
    main()
