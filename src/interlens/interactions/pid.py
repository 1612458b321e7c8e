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

Two solvers of that convex problem (issue 31):

- ``solver="ipm"`` (the default, via ``"auto"``): a primal-dual interior-point method (Mehrotra) on the
  Lagrange dual -- ``max sum alpha p(x1, y) + sum beta p(x2, y)`` subject to one smooth constraint
  ``logsumexp_y(alpha(x1, y) + beta(x2, y)) <= 0`` per pair (x1, x2), whose multipliers are the pair
  masses q*(x1, x2). It has |X1||Y| + |X2||Y| variables instead of one exponential cone per cell, and it
  stops on a **certified duality gap**: the primal point is rounded exactly onto Delta_P
  (:func:`round_to_marginals`), the dual point is shifted to feasibility, and their objective difference
  bounds the error of I_q*(X1, X2; Y) -- hence of every term -- by ``tol_bits`` (default 1e-8 bits).
  A table it cannot certify falls back to the reference solver (``"auto"``).
- ``solver="clarabel"`` (the reference path): the primal in exponential-cone form (one cone
  ``(-t_c, q_c, q(x1_c, x2_c))`` per support cell, all constraints as one sparse matrix), solved by the
  open-source interior-point solver Clarabel.

Only cells with ``p(x1, y) > 0`` and ``p(x2, y) > 0`` can carry mass, so both live on that support.
Continuous inputs (Liang et al. Sec. 2.3, "clustering" of each modality) are discretised per modality
by k-means (:func:`discretize`); :func:`pid_bootstrap` adds percentile bootstrap intervals (each
resample optionally warm-started from the full-sample solution). This module is pure maths (issue 29): the
dataset + scorer pipeline is :func:`interlens.methods.pid.measure_pid`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

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
    #: the dual solution, to warm-start a nearby table (``"ipm"`` only; never serialised)
    warm_start: WarmStart | None = field(default=None, repr=False, compare=False)

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
def _problem(p: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, int, np.ndarray]:
    """Clarabel data (A, b, c, n_eq, cells) for min_{q in Delta_P} sum q log(q / q(x1, x2)).

    Variables ``[q (n), t (n), m (pairs)]``; rows: the marginal constraints and ``m = q(x1, x2)``
    (ZeroCone), then one exponential cone ``(-t_i, q_i, m_pair(i))`` per support cell, i.e.
    ``t_i >= q_i log(q_i / q(x1_i, x2_i))``
    (Clarabel: ``s = b - A x`` with ``K_exp = {(x, y, z): y exp(x / y) <= z}``).
    """
    import scipy.sparse as sp

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


# -- the fast solver: a primal-dual interior-point method on the dual ----------------------------------
#: default certified duality gap (bits) at which the dual interior-point solver stops
GAP_TOL_BITS = 1e-8
#: a warm start is the previous dual point, shifted WARM_MARGIN inside the constraints, blended with the cold start
WARM_BLEND, WARM_MARGIN = 0.1, 1e-3
#: Mehrotra's centring sigma is kept >= SIGMA_MIN while the marginal residual exceeds SIGMA_RES * mu (otherwise
#: mu can run to 1e-18 on a degenerate optimal face while the marginals stall at 1e-8)
SIGMA_RES, SIGMA_MIN = 100.0, 0.1


@dataclass
class WarmStart:
    """The dual point ``(alpha, beta)`` and pair masses ``lam`` of a solved table, to start a nearby one
    (e.g. the next bootstrap resample of the same shape) from; see :func:`solve_q`'s ``warm``."""

    alpha: np.ndarray  # (|X1|, |Y|)
    beta: np.ndarray  # (|X2|, |Y|)
    lam: np.ndarray  # (|X1|, |X2|): q*(x1, x2)


def objective_nats(q: np.ndarray) -> float:
    """``sum q log(q / q(x1, x2)) = -H_q(Y | X1, X2)`` in nats, the function minimised over Delta_P."""
    m = q.sum(2, keepdims=True)
    pos = q > 0
    return float((q[pos] * np.log(q[pos] / np.broadcast_to(m, q.shape)[pos])).sum())


def round_to_marginals(q: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """The nearby point of Delta_P: scale rows then columns down to the targets and add the rank-one
    remainder, per y (Altschuler, Weed & Rigollet, NeurIPS 2017, Alg. 2). ``q`` is (|X1|, |X2|, |Y|)
    non-negative; the result matches ``p1 = p(x1, y)`` and ``p2 = p(x2, y)`` up to rounding, and moves
    mass only within the support (rows and columns with positive targets)."""
    q = np.array(q, dtype=np.float64)
    r = q.sum(1)
    q *= np.minimum(1.0, np.divide(p1, r, out=np.zeros_like(r), where=r > 0))[:, None, :]
    c = q.sum(0)
    q *= np.minimum(1.0, np.divide(p2, c, out=np.zeros_like(c), where=c > 0))[None, :, :]
    er, ec = np.maximum(p1 - q.sum(1), 0.0), np.maximum(p2 - q.sum(0), 0.0)
    norm = er.sum(0)
    q += er[:, None, :] * ec[None, :, :] / np.where(norm > 0, norm, 1.0)[None, None, :]
    return q


class _Dual:
    """The Lagrange dual of Liang et al.'s Eq. 4 (issue 31): with ``h(v) = sum_y v_y log(v_y / sum v)``
    (1-homogeneous, conjugate = indicator of ``logsumexp <= 0``),

        max_{alpha, beta}  sum alpha(x1, y) p(x1, y) + sum beta(x2, y) p(x2, y)
        s.t.  g_k = logsumexp_{y in supp(k)} (alpha(x1, y) + beta(x2, y)) <= 0   for every pair k = (x1, x2)

    whose multipliers are the pair masses ``lam_k = q*(x1, x2)``, with ``q*(x1, x2, y) = lam_k softmax_y(...)``.
    Only ``alpha(x1, y)`` with ``p(x1, y) > 0`` and ``beta(x2, y)`` with ``p(x2, y) > 0`` are variables, and
    one ``beta`` per y is pinned to 0 (the dual is invariant under ``alpha(., y) + c_y, beta(., y) - c_y``).
    """

    def __init__(self, p: np.ndarray) -> None:
        self.p1, self.p2 = p.sum(1), p.sum(0)
        n1, n2, ny = p.shape
        self.mask = (self.p1[:, None, :] > 0) & (self.p2[None, :, :] > 0)
        self.on = self.mask.any(2)  # pairs with a constraint
        self.k = int(self.on.sum())
        self.a_on = self.p1 > 0
        self.j0 = self.p2.argmax(0)  # the pinned beta of each y
        self.b_on = self.p2 > 0
        self.b_on[self.j0, np.arange(ny)] = False
        self.shape = (n1, n2, ny)

    def regauge(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same dual point (same ``alpha + beta`` on every cell) with the pinned betas at 0."""
        shift = b[self.j0, np.arange(self.shape[2])]
        return np.where(self.a_on, a + shift, 0.0), np.where(self.b_on, b - shift, 0.0)

    def start(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The product coupling ``p(y) p(x1|y) p(x2|y)`` written as a dual point: exactly feasible, g = log m."""
        py = self.p1.sum(0)
        with np.errstate(divide="ignore"):
            a = np.where(self.a_on, np.log(np.where(self.a_on, self.p1, 1.0)), 0.0)
            b = np.where(self.p2 > 0, np.log(np.where(self.p2 > 0, self.p2, 1.0)) - np.log(np.where(py > 0, py, 1.0)),
                         0.0)
        lam = np.einsum("iy,jy->ij", self.p1, self.p2 / np.where(py > 0, py, 1.0))
        a, b = self.regauge(a, b)
        return a, b, np.where(self.on, lam, 0.0)

    def constraints(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``g`` (|X1|, |X2|; 0 off the constrained pairs) and the softmaxes ``w`` (|X1|, |X2|, |Y|)."""
        s = np.where(self.mask, a[:, None, :] + b[None, :, :], -np.inf)
        top = np.where(self.on, s.max(2), 0.0)
        e = np.exp(s - top[:, :, None])
        z = np.where(self.on, e.sum(2), 1.0)
        return np.where(self.on, top + np.log(z), 0.0), e / z[:, :, None]

    def value(self, a: np.ndarray, b: np.ndarray, g: np.ndarray) -> float:
        """A certified lower bound on the optimum (nats): the dual objective after shifting alpha by
        ``-max g`` so that every constraint holds."""
        return float((a * self.p1).sum() + (b * self.p2).sum() - g[self.on].max())


class _Newton:
    """One Newton system of the slack form ``g + s = 0`` of :class:`_Dual`: the matrix
    ``sum_k lam_k Hess g_k + (lam_k / s_k) grad g_k grad g_k^T`` (per pair a |Y| x |Y| block repeated in the
    four (alpha_x1, beta_x2) quadrants), factored by block Cholesky -- the alpha blocks (one per x1) first,
    then the dense Schur complement over beta (|X2| |Y| square) -- with a relative diagonal regularisation
    of 1e-12 that two steps of iterative refinement against the exact matrix take back out."""

    REG = 1e-12

    def __init__(self, dual: _Dual, lam: np.ndarray, s: np.ndarray, w: np.ndarray,
                 residuals: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        n1, n2, ny = dual.shape
        on, ary = dual.on, np.arange(ny)
        self.dual, self.lam, self.s, self.w, self.residuals = dual, lam, s, w, residuals
        ratio = np.where(on, lam / s, 0.0)
        blocks = (ratio - lam)[:, :, None, None] * w[:, :, :, None] * w[:, :, None, :]
        blocks[:, :, ary, ary] += lam[:, :, None] * w
        self.blocks = blocks
        h_aa, h_bb = blocks.sum(1), blocks.sum(0)  # (n1, ny, ny), (n2, ny, ny)
        # variables: alpha with p(x1, y) > 0 and beta with p(x2, y) > 0 but the pinned one, minus any whose
        # cells all underflowed this step (a zero row: frozen, like the pinned ones)
        self.a_on = dual.a_on & (h_aa[:, ary, ary] > 0)
        self.b_on = dual.b_on & (h_bb[:, ary, ary] > 0)
        h_ab = blocks.transpose(0, 2, 1, 3).copy()  # (n1, ny, n2, ny)
        h_ab[~self.a_on] = 0.0
        h_ab[:, :, ~self.b_on] = 0.0
        for h, off in ((h_aa, ~self.a_on), (h_bb, ~self.b_on)):  # a pinned / absent variable: identity row
            h[off] = 0.0
            h.transpose(0, 2, 1)[off] = 0.0
            h[:, ary, ary] = h[:, ary, ary] * (1.0 + self.REG) + off
        from scipy.linalg.lapack import dpotrf  # here: importing interactions stays cheap

        try:  # L_i L_i^T = h_aa[i], V_i = L_i^-1 h_ab[i], Schur = h_bb - sum_i V_i^T V_i
            self.l_inv = np.linalg.inv(np.linalg.cholesky(h_aa))  # (n1, ny, ny), lower triangular
            self.v_ab = self.l_inv @ h_ab.reshape(n1, ny, n2 * ny)
            schur = -self.v_ab.reshape(n1 * ny, -1).T @ self.v_ab.reshape(n1 * ny, -1)
            schur.reshape(n2, ny, n2, ny)[np.arange(n2), :, np.arange(n2), :] += h_bb
            schur[np.diag_indices_from(schur)] += self.REG * h_bb[:, ary, ary].ravel()  # above the cancellation
            self.factor, info = dpotrf(schur, lower=0, clean=0, overwrite_a=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"{info}-th leading minor of the Schur complement is not positive")
        except np.linalg.LinAlgError as err:
            raise SolverError(f"PID dual interior-point: Newton matrix not positive definite ({err})") from None

    def _solve(self, r_a: np.ndarray, r_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The regularised system's solution for right-hand sides (n1, ny), (n2, ny)."""
        from scipy.linalg.lapack import dpotrs

        t_a = np.einsum("iyz,iz->iy", self.l_inv, r_a)  # L^-1 r_a
        d_b = dpotrs(self.factor, r_b.ravel() - np.einsum("iyc,iy->c", self.v_ab, t_a), lower=0)[0]
        d_a = np.einsum("izy,iz->iy", self.l_inv, t_a - self.v_ab @ d_b)  # L^-T (L^-1 r_a - V d_b)
        return d_a, d_b.reshape(r_b.shape)

    def _apply(self, d_a: np.ndarray, d_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The exact (unregularised) matrix times (d_a, d_b), on the free variables."""
        m = np.einsum("ijyz,ijz->ijy", self.blocks, d_a[:, None, :] + d_b[None, :, :])
        return np.where(self.a_on, m.sum(1), 0.0), np.where(self.b_on, m.sum(0), 0.0)

    def direction(self, rc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(d_alpha, d_beta, d_s, d_lam) for the complementarity residual ``rc`` (``lam s - target``)."""
        dual, lam, s, w = self.dual, self.lam, self.s, self.w
        rd_a, rd_b, rp = self.residuals
        on = dual.on
        v = np.where(on, (lam * rp - rc) / s, 0.0)
        r_a = np.where(self.a_on, -rd_a - np.einsum("ij,ijy->iy", v, w), 0.0)
        r_b = np.where(self.b_on, -rd_b - np.einsum("ij,ijy->jy", v, w), 0.0)
        d_a, d_b = self._solve(r_a, r_b)
        scale = max(np.abs(r_a).max(), np.abs(r_b).max())
        for _ in range(2):  # iterative refinement, while the residual is above rounding level
            h_a, h_b = self._apply(d_a, d_b)
            e_a, e_b = r_a - h_a, r_b - h_b
            if max(np.abs(e_a).max(), np.abs(e_b).max()) <= 1e-10 * scale:
                break
            e_a, e_b = self._solve(e_a, e_b)
            d_a, d_b = d_a + e_a, d_b + e_b
        dg = np.einsum("ijy,ijy->ij", w, d_a[:, None, :] + d_b[None, :, :])
        d_s = np.where(on, -rp - dg, 0.0)
        return d_a, d_b, d_s, np.where(on, (-rc - lam * d_s) / s, 0.0)


def _longest(x: np.ndarray, dx: np.ndarray, on: np.ndarray) -> float:
    """The largest step in (0, 1] that keeps ``x + step dx >= 0`` on the constrained pairs."""
    neg = on & (dx < 0)
    return min(1.0, float((-x[neg] / dx[neg]).min())) if neg.any() else 1.0


def _dual_ipm(p: np.ndarray, *, tol_bits: float, max_iter: int, warm: WarmStart | None
              ) -> tuple[np.ndarray, dict[str, Any], WarmStart]:
    """Mehrotra predictor-corrector interior-point method on :class:`_Dual` (slacks ``g + s = 0``).

    Each iteration factors one Newton matrix over the dual variables: the alpha blocks (|Y| x |Y|, one
    per x1) are eliminated and the Schur complement over beta (|X2| |Y| square) is factored by Cholesky,
    so the cost is O(|X1| |X2|^2 |Y|^3) with no sparse factorisation and no cone per cell. It stops when
    the certified gap -- ``f(q) - dual`` between the exactly feasible primal point
    (:func:`round_to_marginals` of ``lam * softmax``) and the shifted dual point -- is at most
    ``tol_bits``, which bounds the error of ``I_q*(X1, X2; Y)`` and so of every PID term.
    """
    dual = _Dual(p)
    on, k = dual.on, dual.k
    a, b, lam = dual.start()
    g, w = dual.constraints(a, b)
    if warm is not None and (warm.alpha.shape, warm.beta.shape) != (a.shape, b.shape):
        warm = None  # another shape: ignored
    if warm is not None:  # a blend with the cold start (feasible for both: g is convex), kept off the boundary
        wa, wb = dual.regauge(warm.alpha, warm.beta)
        wg = dual.constraints(wa, wb)[0]
        shift = max(0.0, float(wg[on].max()) + WARM_MARGIN)
        a = (1 - WARM_BLEND) * np.where(dual.a_on, wa - shift, 0.0) + WARM_BLEND * a
        b = (1 - WARM_BLEND) * wb + WARM_BLEND * b
        lam = np.where(on, (1 - WARM_BLEND) * warm.lam + WARM_BLEND * lam, 0.0)
        g, w = dual.constraints(a, b)
    s = np.where(on, np.maximum(-g, 1e-8), 1.0)
    tol = tol_bits * LN2
    gap, q_best, steps, stalled, newton_steps = np.inf, None, 0, 0, 0
    for steps in range(1, max_iter + 1):
        q = lam[:, :, None] * w
        rd_a = np.where(dual.a_on, q.sum(1) - dual.p1, 0.0)
        rd_b = np.where(dual.b_on, q.sum(0) - dual.p2, 0.0)
        rp = np.where(on, g + s, 0.0)
        mu = float((lam * s)[on].sum()) / k
        if mu * k < 100 * tol or steps >= max_iter - 1:  # the certificate, near the optimum only
            q_feas = round_to_marginals(q, dual.p1, dual.p2)
            this_gap = objective_nats(q_feas) - dual.value(a, b, g)
            stalled = stalled + 1 if this_gap > 0.5 * gap else 0
            if this_gap < gap:
                gap, q_best = this_gap, q_feas
            if gap <= tol or stalled >= 5:  # done, or rounding error dominates (then: not certified)
                break
        newton = _Newton(dual, lam, s, w, (rd_a, rd_b, rp))
        newton_steps += 1
        d_a, d_b, d_s, d_l = newton.direction(np.where(on, lam * s, 0.0))  # predictor (affine scaling)
        step = min(_longest(s, d_s, on), _longest(lam, d_l, on))
        mu_aff = float(((lam + step * d_l) * (s + step * d_s))[on].sum()) / k
        sigma = (mu_aff / mu) ** 3
        if max(np.abs(rd_a).max(), np.abs(rd_b).max()) > SIGMA_RES * mu:  # keep centred while the marginals lag
            sigma = max(sigma, SIGMA_MIN)
        d_a, d_b, d_s, d_l = newton.direction(np.where(on, lam * s + d_s * d_l - sigma * mu, 0.0))  # corrector
        step = min(1.0, 0.99 * min(_longest(s, d_s, on), _longest(lam, d_l, on)))
        a, b, s, lam = a + step * d_a, b + step * d_b, s + step * d_s, lam + step * d_l
        g, w = dual.constraints(a, b)
        if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(lam).all()):
            raise SolverError("PID dual interior-point: the iterates are no longer finite")
    if q_best is None or gap > tol:
        raise SolverError(f"PID dual interior-point: certified gap {gap / LN2:.3g} bits > {tol_bits:g} after "
                          f"{steps} iterations on a {p.shape} table")
    info = {"warm_start": warm is not None, "iterations": newton_steps, "gap_bits": max(0.0, gap / LN2), "pairs": k}
    return q_best, info, WarmStart(alpha=a, beta=b, lam=lam)


def _clarabel(p: np.ndarray, *, tol: float = 1e-8, max_iter: int = 500) -> tuple[np.ndarray, dict[str, Any]]:
    """The reference path: q* by Clarabel on the exponential-cone form (:func:`_problem`), with solver info."""
    import clarabel
    import scipy.sparse as sp

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


Solver = Literal["auto", "ipm", "clarabel"]


def _solve(p: np.ndarray, solver: Solver, tol_bits: float, warm: WarmStart | None
           ) -> tuple[np.ndarray, dict[str, Any], WarmStart | None]:
    if solver not in ("auto", "ipm", "clarabel"):
        raise DataError(f"solver must be 'auto', 'ipm' or 'clarabel', got {solver!r}", field="solver")
    if not tol_bits > 0:
        raise DataError(f"tol_bits must be > 0, got {tol_bits!r}", field="tol_bits")
    fallback = None
    if solver != "clarabel":
        swap = p.shape[0] < p.shape[1]  # the Schur complement is over X2: make X2 the smaller side
        if swap and warm is not None:
            warm = WarmStart(alpha=warm.beta, beta=warm.alpha, lam=warm.lam.T)
        start = time.perf_counter()
        table = p.transpose(1, 0, 2) if swap else p
        try:
            try:
                q, info, state = _dual_ipm(table, tol_bits=tol_bits, max_iter=100, warm=warm)
            except SolverError:
                if warm is None:
                    raise
                warm = None  # a warm start that fails is retried cold
                q, info, state = _dual_ipm(table, tol_bits=tol_bits, max_iter=100, warm=None)
        except SolverError as err:
            if solver == "ipm":
                raise
            fallback = str(err)
        else:
            if swap:
                q, state = q.transpose(1, 0, 2), WarmStart(alpha=state.beta, beta=state.alpha, lam=state.lam.T)
            info = {"solver": "dual-ipm", "status": "Solved", "cells": int(((p.sum(1)[:, None, :] > 0)
                                                                            & (p.sum(0)[None, :, :] > 0)).sum()),
                    **info, "seconds": time.perf_counter() - start,
                    "objective_bits": objective_nats(q) / LN2}
            return q, info, state
    q, info = _clarabel(p)
    if fallback is not None:
        info["fallback_from"] = fallback
    return q, info, None


def solve_q(p: Any, *, solver: Solver = "auto", tol_bits: float = GAP_TOL_BITS, warm: WarmStart | None = None
            ) -> tuple[np.ndarray, dict[str, Any]]:
    """q* = argmin_{q in Delta_P} I_q(X1, X2; Y) for a joint table ``p`` (Liang et al. Eq. 4), with solver
    info (``gap_bits``: the certified bound on the error of I_q*, for ``"ipm"``)."""
    q, info, _ = _solve(_check_table(p), solver, tol_bits, warm)
    return q, info


def pid_from_distribution(p: Any, *, n: int | None = None, solver: Solver = "auto",
                          tol_bits: float = GAP_TOL_BITS, warm: WarmStart | None = None) -> PIDResult:
    """PID (bits) of a joint table ``p[x1, x2, y]`` (probabilities or counts). ``warm``: the
    ``warm_start`` of a solved table of the same shape (the result is the same up to ``tol_bits``)."""
    p = _check_table(p)
    mi = _mi_pair_y(p)
    i1, i2 = mutual_information(p.sum(1)), mutual_information(p.sum(0))
    q, info, state = _solve(p, solver, tol_bits, warm)
    iq = _mi_pair_y(q)
    lo, hi = max(i1, i2), min(mi, i1 + i2)  # exact bounds of min I_q(X1, X2; Y) (U1, U2, R, S >= 0)
    info["projected"] = 0.0
    if lo - BOUND_SLACK <= iq < lo or hi < iq <= hi + BOUND_SLACK:
        info["projected"] = float(np.clip(iq, lo, hi) - iq)
        iq = float(np.clip(iq, lo, hi))
    r, u1, u2, syn = (0.0 if -1e-12 < v < 0 else v for v in (i1 + i2 - iq, iq - i2, iq - i1, mi - iq))  # rounding
    return PIDResult(R=r, U1=u1, U2=u2, S=syn, mi=mi, mi_x1=i1, mi_x2=i2,
                     h_y=_entropy(p.sum((0, 1))), shape=p.shape, support=info["cells"],
                     n=n, solver=info, warm_start=state)


def pid(x1: Any, x2: Any, y: Any, *, solver: Solver = "auto", tol_bits: float = GAP_TOL_BITS) -> PIDResult:
    """PID (bits) of three equal-length discrete arrays: redundancy ``R``, uniqueness ``U1`` / ``U2``
    and synergy ``S`` of (x1, x2) about y, from their empirical joint distribution."""
    return pid_from_distribution(joint_distribution(x1, x2, y), n=len(np.asarray(y)), solver=solver,
                                 tol_bits=tol_bits)


def pid_bootstrap(x1: Any, x2: Any, y: Any, *, n_boot: int = 200, alpha: float = 0.05, seed: int = 0,
                  solver: Solver = "auto", warm: bool = True) -> PIDResult:
    """:func:`pid` plus percentile bootstrap intervals (``n_boot`` resamples of the samples, seeded);
    ``warm``: start each resample's solver from the full-sample solution (same result up to the gap; a few
    per cent fewer iterations in benchmarks/bench_pid.py, never more)."""
    if n_boot < 0 or not 0 < alpha < 1:
        raise DataError(f"need n_boot >= 0 and 0 < alpha < 1, got n_boot={n_boot}, alpha={alpha}", field="n_boot")
    a, b, c, shape = encode(x1, x2, y)
    flat = (a * shape[1] + b) * shape[2] + c
    size = int(np.prod(shape))
    result = pid_from_distribution(np.bincount(flat, minlength=size).reshape(shape), n=len(flat), solver=solver)
    if n_boot == 0:
        return result
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, 4))
    for i in range(n_boot):  # one convex problem per resample (the resampling itself is vectorised)
        counts = np.bincount(flat[rng.integers(0, len(flat), len(flat))], minlength=size).reshape(shape)
        draws[i] = list(pid_from_distribution(counts, solver=solver, warm=result.warm_start if warm else None
                                              ).terms.values())
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
