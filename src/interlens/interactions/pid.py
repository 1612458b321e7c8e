"""Partial information decomposition (PID) of I(X1, X2; Y) into redundancy, uniqueness and synergy.

The CVX estimator of Liang et al. (NeurIPS 2023, "Quantifying & Modeling Multimodal Interactions",
Sec. 2.2 / Eq. 4) with the BROJA definitions (Bertschinger et al., 2014): over the set
``Delta_P`` of joint distributions ``q(x1, x2, y)`` that keep both pairwise marginals
``q(x1, y) = p(x1, y)`` and ``q(x2, y) = p(x2, y)``, find

    q* = argmin_{q in Delta_P} I_q(X1, X2; Y)      (= argmax H_q(Y | X1, X2), since q(y) = p(y) is fixed)

and, with I(Xi; Y) the same under p and q*,

    U1 = I_q*(X1; Y | X2),   U2 = I_q*(X2; Y | X1),   R = I(X1; Y) - U1 = I(X1; Y) + I(X2; Y) - I_q*(X1, X2; Y),
    S  = I_p(X1, X2; Y) - I_q*(X1, X2; Y),

so ``R + U1 + U2 + S = I_p(X1, X2; Y)`` exactly. Every value is in **bits**.

The convex problem ``min sum_c q_c log(q_c / q(x1_c, x2_c))`` is written in exponential-cone form
(one cone ``(-t_c, q_c, q(x1_c, x2_c))`` per cell of the support) with all constraints as one sparse
matrix, and solved by the open-source interior-point solver Clarabel. Only cells with
``p(x1, y) > 0`` and ``p(x2, y) > 0`` can carry mass, so the problem lives on that support.

Continuous inputs (Liang et al. Sec. 2.3, "clustering" of each modality) are discretised per modality
by k-means (:func:`discretize`); :func:`pid_bootstrap` adds percentile bootstrap intervals and
:func:`measure_pid` runs the whole pipeline on a dataset + scorer beside the MINT score.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from ..errors import DataError, InterlensError

TERMS = ("R", "U1", "U2", "S")
#: slack (bits) within which solver error is projected back into the exact bounds of I_q*(X1,X2;Y)
BOUND_SLACK = 1e-6
LN2 = float(np.log(2.0))


class SolverError(InterlensError):
    """The convex solver failed (status other than solved)."""


@dataclass
class PIDResult:
    """R, U1, U2, S in bits (``R + U1 + U2 + S == mi``), the mutual informations they split, and how."""

    R: float
    U1: float
    U2: float
    S: float
    mi: float  # I_p(X1, X2; Y)
    mi_x1: float  # I(X1; Y)
    mi_x2: float  # I(X2; Y)
    h_y: float  # H(Y)
    shape: tuple[int, int, int]  # (|X1|, |X2|, |Y|)
    support: int  # cells of the optimisation problem
    n: int | None = None  # samples behind the empirical distribution
    solver: dict[str, Any] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        if key not in TERMS:
            raise KeyError(key)
        return float(getattr(self, key))

    @property
    def terms(self) -> dict[str, float]:
        return {t: float(getattr(self, t)) for t in TERMS}

    @property
    def dominant(self) -> str:
        """The largest of R, U1, U2, S."""
        terms = self.terms
        return max(terms, key=terms.__getitem__)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.terms, "unit": "bits", "I(X1,X2;Y)": self.mi, "I(X1;Y)": self.mi_x1,
                               "I(X2;Y)": self.mi_x2, "H(Y)": self.h_y, "dominant": self.dominant,
                               "shape": list(self.shape), "support": self.support, "n": self.n,
                               "solver": self.solver}
        if self.ci is not None:
            out["ci"] = {t: [float(lo), float(hi)] for t, (lo, hi) in self.ci.items()}
        return out | self.extra


# -- information quantities (bits) -------------------------------------------------------------------
def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def mutual_information(pxy: np.ndarray) -> float:
    """I(X; Y) in bits of a 2-D joint table (rows X, columns Y)."""
    return max(0.0, _entropy(pxy.sum(1)) + _entropy(pxy.sum(0)) - _entropy(pxy))


def _mi_pair_y(q: np.ndarray) -> float:
    """I(X1, X2; Y) in bits of a (|X1|, |X2|, |Y|) table."""
    return mutual_information(q.reshape(-1, q.shape[2]))


# -- input checks ------------------------------------------------------------------------------------
def _codes(values: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..k-1 and the distinct values of one discrete variable (refuses non-discrete floats)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(f"expected a 1-D array of discrete values, got shape {arr.shape}", field=name)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise DataError(f"values must be discrete (integers or labels); sample {int(np.flatnonzero(bad)[0])} "
                            f"is {arr[bad][0]!r} -- discretise continuous inputs first (interlens.interactions."
                            "discretize)", record=int(np.flatnonzero(bad)[0]), field=name)
    elif arr.dtype.kind == "c":
        raise DataError("complex values are not discrete", field=name)
    try:
        uniq, inv = np.unique(arr, return_inverse=True)
    except TypeError as err:
        raise DataError(f"values cannot be compared ({err})", field=name) from None
    return inv.ravel().astype(np.int64), uniq


def encode(x1: Any, x2: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int]]:
    """Integer codes of three equal-length, non-empty discrete arrays and the table shape."""
    for name, v in (("x1", x1), ("x2", x2), ("y", y)):
        if np.ndim(v) != 1:
            raise DataError(f"expected a 1-D array of discrete values, got shape {np.shape(v)}", field=name)
    lengths = {name: len(v) for name, v in (("x1", x1), ("x2", x2), ("y", y))}
    if len(set(lengths.values())) != 1:
        raise DataError(f"x1, x2 and y must have equal lengths, got {lengths}", field="x1/x2/y")
    if lengths["y"] == 0:
        raise DataError("x1, x2 and y are empty", field="x1/x2/y")
    (a, ua), (b, ub), (c, uc) = _codes(x1, "x1"), _codes(x2, "x2"), _codes(y, "y")
    return a, b, c, (len(ua), len(ub), len(uc))


def joint_distribution(x1: Any, x2: Any, y: Any) -> np.ndarray:
    """The empirical joint p(x1, x2, y), shape (|X1|, |X2|, |Y|), axes in sorted value order."""
    a, b, c, shape = encode(x1, x2, y)
    counts = np.bincount((a * shape[1] + b) * shape[2] + c, minlength=int(np.prod(shape)))
    return counts.reshape(shape) / len(a)


def _check_table(p: Any) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 3 or 0 in arr.shape:
        raise DataError(f"expected a non-empty 3-D table p[x1, x2, y], got shape {arr.shape}", field="p")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise DataError("the table must hold finite, non-negative probabilities (or counts)", field="p")
    total = arr.sum()
    if total <= 0:
        raise DataError("the table sums to zero", field="p")
    return arr / total


# -- the convex problem -----------------------------------------------------------------------------
def _problem(p: np.ndarray) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, int, np.ndarray]:
    """Clarabel data (A, b, c, n_eq, cells) for min_{q in Delta_P} sum q log(q / q(x1, x2)).

    Variables ``[q (n), t (n), m (pairs)]``; rows: the marginal constraints and ``m = q(x1, x2)``
    (ZeroCone), then one exponential cone ``(-t_i, q_i, m_pair(i))`` per support cell, i.e.
    ``t_i >= q_i log(q_i / q(x1_i, x2_i))``
    (Clarabel: ``s = b - A x`` with ``K_exp = {(x, y, z): y exp(x / y) <= z}``).
    """
    p1, p2 = p.sum(1), p.sum(0)  # p(x1, y), p(x2, y)
    cells = np.argwhere((p1[:, None, :] > 0) & (p2[None, :, :] > 0))  # (n, 3): x1, x2, y codes
    n = len(cells)
    a, b, c = cells.T
    _, k2, k3 = p.shape
    # equality rows: every (x1, y) marginal, every (x2, y) marginal but one per y (dependent: both sum to p(y))
    r1, row1 = np.unique(a * k3 + c, return_inverse=True)
    r2, row2 = np.unique(b * k3 + c, return_inverse=True)
    keep = np.ones(len(r2), dtype=bool)
    keep[np.unique(r2 % k3, return_index=True)[1]] = False
    renum = np.cumsum(keep) - 1
    on = keep[row2.ravel()]
    eq_rows = np.concatenate([row1.ravel(), len(r1) + renum[row2.ravel()[on]]])
    eq_cols = np.concatenate([np.arange(n), np.flatnonzero(on)])
    n_marg = len(r1) + int(keep.sum())
    _, pair = np.unique(a * k2 + b, return_inverse=True)  # m_k = q(x1, x2) of pair k: its own variable
    pair = pair.ravel()
    n_pair = int(pair.max()) + 1
    width = 2 * n + n_pair
    eq = sp.vstack([sp.csr_matrix((np.ones(len(eq_rows)), (eq_rows, eq_cols)), shape=(n_marg, width)),
                    sp.csr_matrix((np.concatenate([np.ones(n), -np.ones(n_pair)]),
                                   (np.concatenate([pair, np.arange(n_pair)]),
                                    np.concatenate([np.arange(n), 2 * n + np.arange(n_pair)]))),
                                  shape=(n_pair, width))])
    n_eq = n_marg + n_pair
    b_eq = np.concatenate([p1[r1 // k3, r1 % k3], p2[r2[keep] // k3, r2[keep] % k3], np.zeros(n_pair)])
    # cone rows (x, y, z) = (-t_i, q_i, m_pair(i)), three per cell
    idx = np.arange(n)
    cone = sp.csr_matrix((np.concatenate([np.ones(n), -np.ones(n), -np.ones(n)]),
                          (np.concatenate([3 * idx, 3 * idx + 1, 3 * idx + 2]),
                           np.concatenate([n + idx, idx, 2 * n + pair]))), shape=(3 * n, width))
    A = sp.vstack([eq, cone], format="csc")
    rhs = np.concatenate([b_eq, np.zeros(3 * n)])
    cost = np.concatenate([np.zeros(n), np.ones(n), np.zeros(n_pair)])
    return A, rhs, cost, n_eq, cells


def solve_q(p: Any, *, tol: float = 1e-8, max_iter: int = 500) -> tuple[np.ndarray, dict[str, Any]]:
    """q* = argmin_{q in Delta_P} I_q(X1, X2; Y) for a joint table ``p`` (Liang et al. Eq. 4), with solver info."""
    import clarabel

    p = _check_table(p)
    A, rhs, cost, n_eq, cells = _problem(p)
    n = len(cells)
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.max_iter = max_iter
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = tol
    settings.max_threads = 1
    cones = [clarabel.ZeroConeT(n_eq)] + [clarabel.ExponentialConeT()] * n
    start = time.perf_counter()
    width = A.shape[1]
    solver = clarabel.DefaultSolver(sp.csc_matrix((width, width)), cost, A, rhs, cones, settings)
    sol = solver.solve()
    seconds = time.perf_counter() - start
    status = str(sol.status)
    if "Solved" not in status:  # Solved / AlmostSolved
        raise SolverError(f"PID solver (Clarabel) stopped with status {status} on a {p.shape} table "
                          f"({n} support cells)")
    x = np.maximum(np.asarray(sol.x[:n]), 0.0)
    q = np.zeros_like(p)
    q[tuple(cells.T)] = x
    q /= q.sum()
    return q, {"solver": "clarabel", "status": status, "cells": n, "iterations": int(sol.iterations),
               "seconds": seconds, "objective_bits": float(sol.obj_val) / LN2 if np.isfinite(sol.obj_val) else None}


def pid_from_distribution(p: Any, *, n: int | None = None) -> PIDResult:
    """PID (bits) of a joint table ``p[x1, x2, y]`` (probabilities or counts)."""
    p = _check_table(p)
    mi = _mi_pair_y(p)
    i1, i2 = mutual_information(p.sum(1)), mutual_information(p.sum(0))
    q, info = solve_q(p)
    iq = _mi_pair_y(q)
    lo, hi = max(i1, i2), min(mi, i1 + i2)  # exact bounds of min I_q(X1, X2; Y) (U1, U2, R, S >= 0)
    info["projected"] = 0.0
    if lo - BOUND_SLACK <= iq < lo or hi < iq <= hi + BOUND_SLACK:
        info["projected"] = float(np.clip(iq, lo, hi) - iq)
        iq = float(np.clip(iq, lo, hi))
    r, u1, u2, syn = (0.0 if -1e-12 < v < 0 else v for v in (i1 + i2 - iq, iq - i2, iq - i1, mi - iq))  # rounding
    return PIDResult(R=r, U1=u1, U2=u2, S=syn, mi=mi, mi_x1=i1, mi_x2=i2,
                     h_y=_entropy(p.sum((0, 1))), shape=p.shape, support=info["cells"],
                     n=n, solver=info)


def pid(x1: Any, x2: Any, y: Any) -> PIDResult:
    """PID (bits) of three equal-length discrete arrays: redundancy ``R``, uniqueness ``U1`` / ``U2``
    and synergy ``S`` of (x1, x2) about y, from their empirical joint distribution."""
    return pid_from_distribution(joint_distribution(x1, x2, y), n=len(np.asarray(y)))


def pid_bootstrap(x1: Any, x2: Any, y: Any, *, n_boot: int = 200, alpha: float = 0.05, seed: int = 0
                  ) -> PIDResult:
    """:func:`pid` plus percentile bootstrap intervals (``n_boot`` resamples of the samples, seeded)."""
    if n_boot < 0 or not 0 < alpha < 1:
        raise DataError(f"need n_boot >= 0 and 0 < alpha < 1, got n_boot={n_boot}, alpha={alpha}", field="n_boot")
    a, b, c, shape = encode(x1, x2, y)
    flat = (a * shape[1] + b) * shape[2] + c
    size = int(np.prod(shape))
    result = pid_from_distribution(np.bincount(flat, minlength=size).reshape(shape), n=len(flat))
    if n_boot == 0:
        return result
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, 4))
    for i in range(n_boot):  # one convex problem per resample (the resampling itself is vectorised)
        counts = np.bincount(flat[rng.integers(0, len(flat), len(flat))], minlength=size).reshape(shape)
        draws[i] = list(pid_from_distribution(counts).terms.values())
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    result.ci = {t: (float(lo[j]), float(hi[j])) for j, t in enumerate(TERMS)}
    result.extra["bootstrap"] = {"n_boot": n_boot, "alpha": alpha, "seed": seed,
                                 "std": dict(zip(TERMS, draws.std(0).tolist(), strict=True))}
    return result


# -- continuous inputs --------------------------------------------------------------------------------
def choose_k(features: np.ndarray, candidates: Sequence[int] = (2, 4, 8, 16), *, seed: int = 0,
             max_points: int = 2000) -> int:
    """The k among ``candidates`` with the best silhouette score (seeded k-means on <= max_points rows)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = np.asarray(features, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if len(x) > max_points:
        x = x[rng.choice(len(x), max_points, replace=False)]
    distinct = len(np.unique(x, axis=0))
    ks = [k for k in candidates if 2 <= k < distinct]
    if not ks:
        return max(1, min(distinct, 2))
    scores = {k: silhouette_score(x, KMeans(k, n_init=4, random_state=seed).fit_predict(x)) for k in ks}
    return max(scores, key=scores.__getitem__)


def discretize(features: Any, k: int | Literal["auto"] = 8, *, seed: int = 0, name: str = "features"
               ) -> tuple[np.ndarray, int]:
    """Cluster ids (k-means, seeded) of continuous per-sample ``features`` (n, d) and the k used
    (``"auto"``: :func:`choose_k`; k is capped at the number of distinct rows)."""
    from sklearn.cluster import KMeans

    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise DataError(f"expected (n, d) features with n > 0, got shape {x.shape}", field=name)
    if not np.isfinite(x).all():
        raise DataError("features hold NaN or infinite values", record=int(np.flatnonzero(~np.isfinite(x))[0]
                                                                            // max(1, x.shape[1])), field=name)
    if k == "auto":
        k = choose_k(x, seed=seed)
    if not isinstance(k, int | np.integer) or k < 1:
        raise DataError(f"k must be a positive integer or 'auto', got {k!r}", field="k")
    k = int(min(k, len(np.unique(x, axis=0))))
    if k == 1:
        return np.zeros(len(x), dtype=np.int64), 1
    return KMeans(k, n_init=4, random_state=seed).fit_predict(x).astype(np.int64), k


# -- dataset + scorer -------------------------------------------------------------------------------
Source = Literal["predictions", "features"]


def measure_pid(dataset: Any, scorer: Any, *, modalities: Sequence[str | None] | None = None,
                split: str | None = "test", source: Source = "predictions", k: int | Literal["auto"] = 8,
                target: Literal["gold", "multimodal"] = "gold", reference: Literal["gold", "multimodal"] =
                "multimodal", n_boot: int = 200, alpha: float = 0.05, seed: int = 0, cache: Any = None,
                S: int = 100, C: int | None = None, progress: bool = False) -> tuple[Any, PIDResult]:
    """PID of (x1, x2, y) on ``split`` beside the MINT interaction score of the same run.

    The scorer is fitted and scored by :func:`interlens.measure.measure_interactions` (MINT score,
    MMoE categories). ``source="predictions"``: x_i is the unimodal model's predicted label on
    modality i; ``source="features"``: x_i is the k-means cluster (:func:`discretize`) of the
    ``features`` of a copy of the scorer fitted on modality i alone. ``y`` is the gold label
    (``target="gold"``) or the multimodal model's prediction. Returns ``(report, pid_result)``;
    ``report.extra["pid"]`` holds the PID dict, so ``report.to_dict()`` carries both.
    """
    from ..measure import measure_interactions

    if source not in ("predictions", "features"):
        raise DataError(f"source must be 'predictions' or 'features', got {source!r}", field="source")
    if target not in ("gold", "multimodal"):
        raise DataError(f"target must be 'gold' or 'multimodal', got {target!r}", field="target")
    if source == "features":
        from ..scoring.base import Capability, require

        require(scorer, Capability.FEATURES, "PID on features (k-means per modality)")
    report = measure_interactions(dataset, scorer, modalities=modalities, split=split, reference=reference,
                                  cache=cache, S=S, C=C, seed=seed, progress=progress)
    m1, m2 = report.modalities
    pm = report.predictions.get(f"{m1}+{m2}")
    if target == "multimodal" and pm is None:
        raise DataError(f"target='multimodal' needs the {m1}+{m2} view, which {scorer.name!r} does not score",
                        field="target")
    y = report.y_gold if target == "gold" else pm.argmax()
    info: dict[str, Any] = {"source": source, "target": target, "modality1": m1, "modality2": m2}
    if source == "predictions":
        x1, x2 = report.predictions[m1].argmax(), report.predictions[m2].argmax()
        info["k"] = {m1: len(dataset.labels), m2: len(dataset.labels)}
    else:
        from ..scoring.base import clone

        evaluated = dataset.split(split) if split else dataset
        train = dataset.split("train") if "train" in dataset.splits else evaluated
        val = dataset.split("dev") if "dev" in dataset.splits else None
        xs, info["k"] = [], {}
        for m in (m1, m2):
            own = clone(scorer).fit(train, [m], val=val)
            codes, used = discretize(own.features(evaluated), k, seed=seed, name=f"features[{m}]")
            xs.append(codes)
            info["k"][m] = used
        x1, x2 = xs
    result = pid_bootstrap(x1, x2, y, n_boot=n_boot, alpha=alpha, seed=seed)
    result.extra.update(info)
    report.extra["pid"] = result.to_dict()
    return report, result


def pid_markdown(result: PIDResult, report: Any | None = None) -> str:
    """A Markdown section: the PID terms (with intervals) beside the MINT score and MMoE counts."""
    from ..report import markdown_table

    ci = result.ci or {}
    rows = [{"term": t, "bits": result[t], "CI low": ci.get(t, (None, None))[0], "CI high": ci.get(t, (None, None))[1],
             "share of I(X1,X2;Y)": result[t] / result.mi if result.mi > 0 else None} for t in TERMS]
    lines = ["## Partial information decomposition (Liang et al. 2023, CVX estimator)", "",
             f"I(X1,X2;Y) = {result.mi:.4f} bits (H(Y) = {result.h_y:.4f}); dominant term: **{result.dominant}**; "
             f"x_i from {result.extra.get('source', 'data')} (k = {result.extra.get('k')}).", "",
             markdown_table(rows)]
    if report is not None:
        n = max(1, len(report.ids))
        lines += ["", "### Side by side", "",
                  markdown_table([{"measure": "MINT score (2 = R, 1 = U, 0 = S)", **{d: s.score for d, s in
                                                                                   report.scores.items()}}]), "",
                  markdown_table([{"type": c, "MMoE share": report.counts.get(c, 0) / n,
                                   "PID share": result[c] / result.mi if result.mi > 0 else None} for c in TERMS])]
    return "\n".join(lines) + "\n"


def write_pid_report(report: Any, result: PIDResult, out: Any) -> dict[str, Any]:
    """results.json (the MINT schema plus ``pid``) and report.md (the MINT report plus a PID section)."""
    from pathlib import Path

    from ..io import atomic_write_text, write_json
    from ..measure import write_report

    report.extra["pid"] = result.to_dict()
    paths = write_report(report, out, title="Interaction score and PID")
    text = Path(paths["report"]).read_text()
    paths["report"] = atomic_write_text(Path(paths["report"]), text + "\n" + pid_markdown(result, report))
    paths["results"] = write_json(Path(out) / "results.json", report.to_dict())  # last: marks a finished run
    return paths
