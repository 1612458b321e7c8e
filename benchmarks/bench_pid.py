"""Benchmark: the PID solver (certified dual interior-point, issue 31) side by side with the authors'
formulation solved by cvxpy + Clarabel, and solve time vs. support size.

Run: ``.venv/bin/python benchmarks/bench_pid.py [--repeats 5] [--out PATH] [--sweep-out PATH]``
(needs the ``bench`` extra for the peer: ``pip install cvxpy clarabel``; without cvxpy it says so and
records only interlens's own solvers).

**Side by side** (``benchmarks/results/pid_speed.json``), per shape (|X1|, |X2|, |Y|) = 10x10x5, 30x30x10
and 50x50x10, on one random full-support Dirichlet(1) table (seeded), in one process, interleaved
repeat by repeat (so both sides see the same machine load), median of ``--repeats`` of the wall time
(``speedup_vs_cvxpy_clarabel``) and of this process's CPU time (``speedup_vs_cvxpy_clarabel_cpu_time``,
less sensitive to other jobs on a shared machine):

- the peer: Liang et al.'s formulation as in their ``solve_Q_new`` (one (|X1|, |X2|) variable per y, the
  marginal constraints, ``q(x1, x2) / |Y|`` as auxiliary variables, ``sum rel_entr(Q_y, Q_x1x2)``),
  written with vectorised cvxpy constraints (the strongest form of it; the authors' scalar loops are
  slower to build) and solved by ``prob.solve(solver=cp.CLARABEL)`` with default settings -- timed as
  a user pays it (build + canonicalisation + solve); the solver-only time is recorded too;
- ours: :func:`interlens.interactions.pid.solve_q` (``solver="ipm"``, certified gap <= 1e-8 bits);
- both q's are turned into R, U1, U2, S by the same function (I_q from q, the I(Xi; Y) of p), and
  ``max_abs_diff_bits`` is the largest difference over the four terms.

Also: the Clarabel reference path of interlens (:func:`solve_q` with ``solver="clarabel"``) on the same
tables, warm vs. cold starts over bootstrap resamples of an empirical 30x30x10 table, and (``--sweep-out``,
``benchmarks/results/pid_solve_time.json``) the whole :func:`pid_from_distribution` call vs. support size.
BLAS is pinned to one thread (set before numpy loads): on the shared 2-core machine a multi-threaded
OpenBLAS Cholesky of a 600 x 600 matrix took 0.5 s instead of 9 ms; Clarabel runs single-threaded.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from interlens.interactions.pid import (  # noqa: E402
    TERMS,
    _mi_pair_y,
    mutual_information,
    objective_nats,
    pid_from_distribution,
    round_to_marginals,
    solve_q,
)
from interlens.io import write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SPEED_SHAPES = ((10, 10, 5), (30, 30, 10), (50, 50, 10))
SWEEP_SHAPES = ((2, 2, 2), (5, 5, 3), (10, 10, 5), (15, 15, 10), (20, 20, 10), (30, 30, 10), (50, 50, 10))


def cvxpy_missing() -> str | None:
    """Why the peer cannot run, or None."""
    try:
        import clarabel  # noqa: F401
        import cvxpy  # noqa: F401
    except ImportError as err:
        return (f"cvxpy / clarabel not installed ({err}); the side-by-side comparison needs the bench extra: "
                "pip install 'interlens[bench]'")
    return None


def authors_cvxpy(p: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Liang et al.'s ``solve_Q_new`` (pliang279/PID), vectorised constraints, solved by cvxpy + Clarabel."""
    import cvxpy as cp

    n1, n2, ny = p.shape
    p1, p2 = p.sum(1), p.sum(0)
    q = [cp.Variable((n1, n2), nonneg=True) for _ in range(ny)]
    q_x1x2 = [cp.Variable((n1, n2), nonneg=True) for _ in range(ny)]
    constraints = [cp.sum([cp.sum(v) for v in q]) == 1]
    constraints += [cp.sum(q[y], axis=1) == p1[:, y] for y in range(ny)]
    constraints += [cp.sum(q[y], axis=0) == p2[:, y] for y in range(ny)]
    total = cp.sum(q)  # elementwise sum over y: q(x1, x2)
    constraints += [total / ny == q_x1x2[y] for y in range(ny)]
    objective = cp.Minimize(cp.sum([cp.sum(cp.rel_entr(q[y], q_x1x2[y])) for y in range(ny)]))
    problem = cp.Problem(objective, constraints)
    problem.solve(solver=cp.CLARABEL)
    stats = problem.solver_stats
    return np.stack([v.value for v in q], axis=2), {"status": problem.status, "iterations": stats.num_iters,
                                                    "solve_seconds": stats.solve_time}


def terms_from_q(p: np.ndarray, q: np.ndarray) -> dict[str, float]:
    """R, U1, U2, S (bits) from a solver's q, the same way for every solver: I_q*(X1,X2;Y) from q, the rest from p."""
    mi = _mi_pair_y(p)
    i1, i2 = mutual_information(p.sum(1)), mutual_information(p.sum(0))
    iq = _mi_pair_y(np.maximum(q, 0.0) / np.maximum(q, 0.0).sum())
    return {"R": i1 + i2 - iq, "U1": iq - i2, "U2": iq - i1, "S": mi - iq}


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    versions = {}
    for name in ("numpy", "scipy", "clarabel", "cvxpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "versions": versions,
            "load_average_at_start": list(os.getloadavg())}


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def _timed2(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """Wall and CPU (this process) seconds: the CPU time is the less load-sensitive figure on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def speed(shapes: tuple[tuple[int, int, int], ...], repeats: int, seed: int) -> list[dict[str, Any]]:
    """Ours vs the cvxpy + Clarabel peer (and interlens's Clarabel path), interleaved, per shape."""
    rng = np.random.default_rng(seed)
    peer_missing = cvxpy_missing()
    rows = []
    for shape in shapes:
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        ours_t, peer_t, peer_solve_t, ref_t, ours_c, peer_c = [], [], [], [], [], []
        q_ours = q_peer = q_ref = None
        info: dict[str, Any] = {}
        peer_info: dict[str, Any] = {}
        for _ in range(repeats):
            t, c, (q_ours, info) = _timed2(solve_q, p, solver="ipm")
            ours_t.append(t)
            ours_c.append(c)
            if peer_missing is None:
                t, c, (q_peer, peer_info) = _timed2(authors_cvxpy, p)
                peer_t.append(t)
                peer_c.append(c)
                peer_solve_t.append(peer_info["solve_seconds"])
            t, (q_ref, _) = _timed(solve_q, p, solver="clarabel")
            ref_t.append(t)
        assert q_ours is not None and q_ref is not None
        ours = terms_from_q(p, q_ours)
        ref = terms_from_q(p, q_ref)
        row: dict[str, Any] = {
            "shape": list(shape), "support": info["cells"], "repeats": repeats,
            "ours": {"solver": "interlens dual-ipm", "seconds_median": float(np.median(ours_t)), "seconds_all": ours_t,
                     "cpu_seconds_median": float(np.median(ours_c)),
                     "iterations": info["iterations"], "certified_gap_bits": info["gap_bits"], "terms_bits": ours,
                     "max_marginal_error": float(max(np.abs(q_ours.sum(1) - p.sum(1)).max(),
                                                     np.abs(q_ours.sum(0) - p.sum(0)).max()))},
            "interlens_clarabel_reference": {"seconds_median": float(np.median(ref_t)), "seconds_all": ref_t,
                                             "terms_bits": ref},
            "speedup_vs_interlens_clarabel": float(np.median(ref_t) / np.median(ours_t)),
            "max_abs_diff_bits_vs_interlens_clarabel": max(abs(ours[t] - ref[t]) for t in TERMS),
        }
        if peer_missing is None:
            assert q_peer is not None
            peer = terms_from_q(p, q_peer)
            row["cvxpy_clarabel"] = {"formulation": "Liang et al. solve_Q_new (vectorised constraints)",
                                     "seconds_median": float(np.median(peer_t)), "seconds_all": peer_t,
                                     "cpu_seconds_median": float(np.median(peer_c)),
                                     "solver_only_seconds_median": float(np.median(peer_solve_t)),
                                     "status": peer_info["status"], "iterations": peer_info["iterations"],
                                     "terms_bits": peer,
                                     "max_marginal_error": float(max(np.abs(q_peer.sum(1) - p.sum(1)).max(),
                                                                     np.abs(q_peer.sum(0) - p.sum(0)).max())),
                                     # how far the peer's objective is above our certified optimum (bits)
                                     "objective_excess_bits": (objective_nats(round_to_marginals(
                                         np.maximum(q_peer, 0), p.sum(1), p.sum(0))) - objective_nats(q_ours))
                                     / np.log(2)}
            row["speedup_vs_cvxpy_clarabel"] = float(np.median(peer_t) / np.median(ours_t))
            row["speedup_vs_cvxpy_clarabel_solver_only"] = float(np.median(peer_solve_t) / np.median(ours_t))
            row["speedup_vs_cvxpy_clarabel_cpu_time"] = float(np.median(peer_c) / np.median(ours_c))
            row["max_abs_diff_bits"] = max(abs(ours[t] - peer[t]) for t in TERMS)
            print(f"{str(shape):>14}  ours {np.median(ours_t):7.3f} s ({info['iterations']} it, gap "
                  f"{info['gap_bits']:.1e} bits)  cvxpy+clarabel {np.median(peer_t):7.3f} s (solver "
                  f"{np.median(peer_solve_t):.3f} s)  speed-up {row['speedup_vs_cvxpy_clarabel']:6.1f}x (CPU time "
                  f"{row['speedup_vs_cvxpy_clarabel_cpu_time']:.1f}x)  "
                  f"max |diff| {row['max_abs_diff_bits']:.1e} bits")
        else:
            print(f"{str(shape):>14}  ours {np.median(ours_t):7.3f} s; cvxpy missing: no side-by-side ratio")
        print(f"{'':>14}  interlens clarabel path {np.median(ref_t):7.3f} s  speed-up "
              f"{row['speedup_vs_interlens_clarabel']:6.1f}x  max |diff| "
              f"{row['max_abs_diff_bits_vs_interlens_clarabel']:.1e} bits")
        rows.append(row)
    return rows


def warm_starts(shape: tuple[int, int, int] = (30, 30, 10), n: int = 20000, n_boot: int = 10, seed: int = 0
                ) -> dict[str, Any]:
    """Cold vs warm-started solves over bootstrap resamples of one empirical table (same resamples)."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
    flat = rng.choice(p.size, size=n, p=p.ravel())
    base = pid_from_distribution(np.bincount(flat, minlength=p.size).reshape(shape), solver="ipm")
    cold_t, warm_t, cold_it, warm_it, diffs = [], [], [], [], []
    for _ in range(n_boot):
        counts = np.bincount(flat[rng.integers(0, n, n)], minlength=p.size).reshape(shape)
        tc, cold = _timed(pid_from_distribution, counts, solver="ipm")
        tw, warm = _timed(pid_from_distribution, counts, solver="ipm", warm=base.warm_start)
        cold_t.append(tc)
        warm_t.append(tw)
        cold_it.append(cold.solver["iterations"])
        warm_it.append(warm.solver["iterations"])
        diffs.append(max(abs(cold[t] - warm[t]) for t in TERMS))
    print(f"warm starts ({shape}, n = {n}, {n_boot} resamples): cold {np.median(cold_t):.3f} s / "
          f"{np.median(cold_it)} it, warm {np.median(warm_t):.3f} s / {np.median(warm_it)} it, max |diff| "
          f"{max(diffs):.1e} bits")
    return {"shape": list(shape), "n_samples": n, "resamples": n_boot, "cold_seconds_median": float(np.median(cold_t)),
            "warm_seconds_median": float(np.median(warm_t)), "cold_iterations": cold_it, "warm_iterations": warm_it,
            "speedup_warm_vs_cold": float(np.median(cold_t) / np.median(warm_t)), "max_abs_diff_bits": max(diffs)}


def sweep(shapes: tuple[tuple[int, int, int], ...], repeats: int, seed: int) -> dict[str, Any]:
    """The whole pid_from_distribution call vs. support size, for both interlens solvers."""
    rng = np.random.default_rng(seed)
    rows = []
    for shape in shapes:
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        row: dict[str, Any] = {"shape": list(shape)}
        for solver in ("ipm", "clarabel"):
            times, result = [], None
            for _ in range(repeats):
                t, result = _timed(pid_from_distribution, p, solver=solver)
                times.append(t)
            assert result is not None
            row["support"] = result.support
            row[solver] = {"seconds_median": float(np.median(times)), "seconds_all": times,
                           "iterations": result.solver["iterations"], "status": result.solver["status"],
                           "gap_bits": result.solver.get("gap_bits"), "terms_bits": result.terms,
                           "sum_minus_mi": sum(result.terms.values()) - result.mi}
        print(f"{str(shape):>14}  support {row['support']:>6}  ipm {row['ipm']['seconds_median']:8.3f} s  "
              f"clarabel {row['clarabel']['seconds_median']:8.3f} s")
        rows.append(row)
    return {"benchmark": "pid_from_distribution time vs support size (issue 31)",
            "solvers": {"ipm": "certified dual interior-point (default)", "clarabel": "exponential cones (reference)"},
            "distribution": "Dirichlet(1) random joint table, full support", "seed": seed, "repeats": repeats,
            "machine": machine(), "results": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "pid_speed.json")
    parser.add_argument("--sweep-out", type=Path, default=None,
                        help="also time the whole call vs support size (e.g. benchmarks/results/pid_solve_time.json)")
    args = parser.parse_args()
    missing = cvxpy_missing()
    if missing:
        print(f"NOTE: {missing}")
    report: dict[str, Any] = {
        "benchmark": "PID solver vs the authors' formulation in cvxpy + Clarabel (issue 31 goal 4)",
        "distribution": "Dirichlet(1) random joint table, full support", "seed": args.seed,
        "peer": None if missing else "cvxpy + Clarabel (default settings), Liang et al. solve_Q_new formulation",
        "peer_missing": missing, "machine": machine(),
        "results": speed(SPEED_SHAPES, args.repeats, args.seed),
        # sparse support (9 000 cells, 20 000 samples: cells come and go between resamples) and stable support
        "warm_start": [warm_starts((30, 30, 10), seed=args.seed), warm_starts((10, 10, 5), seed=args.seed)]}
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    print(f"written: {write_json(args.out, report)}")
    if args.sweep_out is not None:
        print(f"written: {write_json(args.sweep_out, sweep(SWEEP_SHAPES, 3, args.seed))}")


if __name__ == "__main__":
    main()
