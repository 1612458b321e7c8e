"""Dataset-level interaction score and task grouping (MINT, Sec. 3.1 Definition 1 and Sec. 3.3).

MINT Eq. (1): the MI score of a dataset D is

    Δ̄_{1,2}(D) = 1/S Σ_s ( 1/C Σ_j [ δ(y_{1,j}, y_{m,j}) + δ(y_{2,j}, y_{m,j}) ] ),

the mean over S draws of C samples of how well each unimodal prediction agrees with the multimodal
model's prediction y_m; δ ∈ [0, 1] is a similarity. The score lies in [0, 2]: ≈ 2 redundancy-,
≈ 1 uniqueness-, ≈ 0 synergy-dominant (Sec. 3.3 Step 1). MINT Eq. (2): the distance between
two datasets is |Δ̄(D_A) − Δ̄(D_B)|; tasks with small distances are grouped (Sec. 3.3 Step 2).

δ here: ``"exact"`` = 1 if the predicted labels match, else 0; ``"soft"`` = 1 − total-variation
distance between the two probability vectors (= p_m-weighted agreement; against a one-hot gold
label it is the probability given to the gold class). ``reference="gold"`` replaces y_m by the
gold label (our option; MINT uses the multimodal model's prediction). MINT gives no values for S
and C; the defaults here are ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from ..errors import DataError
from ..predictions import PROB_TOL, Predictions, check_same_ids

PROTOTYPES: dict[str, float] = {"R": 2.0, "U": 1.0, "S": 0.0}  # MINT Sec. 3.3, Step 1
SCORE_TOL = 1e-9  # rounding slack on the [0, 2] range


@dataclass(frozen=True)
class InteractionScore:
    """MINT Eq. (1) score with a percentile-bootstrap confidence interval."""

    score: float
    ci_low: float
    ci_high: float
    S: int
    C: int
    delta: str
    n: int
    reference: str = "multimodal"
    mean_all: float = float("nan")
    confidence: float = 0.95
    n_boot: int = 1000
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def align_inputs(values: Sequence[Any], *, ids: Sequence[str] | None = None,
                 labels: Sequence[str] | None = None) -> tuple[list[Any], list[str] | None, tuple[str, ...] | None]:
    """Replace every :class:`Predictions` in ``values`` by its probabilities aligned BY NAME.

    Rows follow ``ids`` (default: the first Predictions' ids; then every Predictions must hold the
    same id set) and columns follow ``labels`` (default: the first Predictions' labels; another file
    with the same label names in another order is reordered, different names are refused). Arrays
    have no names: they are taken as already in that row and column order. Returns
    ``(values, ids, labels)``; ids/labels are None when no input is a Predictions.
    """
    preds = [v for v in values if isinstance(v, Predictions)]
    if not preds:
        return list(values), (list(ids) if ids is not None else None), (tuple(labels) if labels else None)
    if ids is None:
        check_same_ids(*preds)
        ids = preds[0].ids
    labels = tuple(labels) if labels is not None else preds[0].labels
    out = [v.align_to(ids, labels).probs if isinstance(v, Predictions) else v for v in values]
    return out, list(ids), labels


def _check_prob_rows(arr: np.ndarray, name: str) -> np.ndarray:
    """Probabilities finite, in [0, 1] and rows summing to 1 (± PROB_TOL); all-NaN rows are missing."""
    nan = np.isnan(arr)
    has = ~nan.all(axis=1)
    bad_rows = (nan.any(axis=1) & has) | (has & np.isinf(arr).any(axis=1))
    filled = np.where(nan, 0.5, arr)
    bad_rows |= has & ((filled < -PROB_TOL) | (filled > 1 + PROB_TOL)).any(axis=1)
    bad_rows |= has & (np.abs(np.where(nan, 0.0, arr).sum(axis=1) - 1) > PROB_TOL)
    if bad_rows.any():
        i = int(np.argmax(bad_rows))
        raise DataError(f"not a probability row: {arr[i].tolist()} (each value in [0, 1], summing to 1 "
                        f"± {PROB_TOL}; all-NaN = no prediction)", record=i, field=name)
    return arr


def _as_probs(values: Any, k: int | None, name: str) -> np.ndarray:
    """(N, K) probabilities from probabilities or class indices (-1 = missing -> NaN row)."""
    arr = values.probs if isinstance(values, Predictions) else np.asarray(values)
    if arr.ndim == 2:
        return _check_prob_rows(arr.astype(np.float64), name)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise DataError(f"expected class indices (N,) or probabilities (N, K), got {arr.dtype} {arr.shape}",
                        field=name)
    if k is None:
        raise DataError("give probabilities for at least one input, or n_classes", field=name)
    if (arr >= k).any() or (arr < -1).any():
        raise DataError(f"class index outside -1..{k - 1}", field=name)
    out = np.zeros((arr.size, k))
    ok = arr >= 0
    out[np.flatnonzero(ok), arr[ok]] = 1.0
    out[~ok] = np.nan
    return out


def _labels(values: Any, name: str, k: int | None = None) -> np.ndarray:
    """Class indices (-1 = missing) from indices or probabilities (argmax)."""
    arr = values.probs if isinstance(values, Predictions) else np.asarray(values)
    if arr.ndim == 2:
        arr = _check_prob_rows(arr.astype(np.float64), name)
        nan = np.isnan(arr).all(axis=1)
        return np.where(nan, -1, np.argmax(np.where(np.isnan(arr), -np.inf, arr), axis=1))
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise DataError(f"expected class indices (N,) or probabilities (N, K), got {arr.dtype} {arr.shape}",
                        field=name)
    if (arr < -1).any() or (k is not None and (arr >= k).any()):
        raise DataError(f"class index outside -1..{'K-1' if k is None else k - 1}", field=name)
    return arr.astype(np.int64)


def agreement(y1: Any, y2: Any, ym: Any, *, delta: Literal["exact", "soft"] = "exact",
              n_classes: int | None = None, ids: Sequence[str] | None = None,
              labels: Sequence[str] | None = None) -> np.ndarray:
    """Per-sample δ(y1, ym) + δ(y2, ym) ∈ [0, 2] (the summand of MINT Eq. 1); NaN where any is missing.

    Inputs are class indices (N,), probabilities (N, K) or :class:`Predictions`; Predictions are
    aligned by sample id and label name (:func:`align_inputs`; ``ids``/``labels`` give the order,
    arrays must already follow it). ``"exact"`` compares argmax labels; ``"soft"`` uses
    1 − TV(p_a, p_b) = 1 − ½ Σ_k |p_a(k) − p_b(k)| (indices count as one-hot).
    """
    (y1, y2, ym), _, labels = align_inputs([y1, y2, ym], ids=ids, labels=labels)
    if n_classes is None and labels is not None:
        n_classes = len(labels)
    if delta == "exact":
        arrays = [np.asarray(v) for v in (y1, y2, ym)]
        k = n_classes or next((a.shape[1] for a in arrays if a.ndim == 2), None)
        a, b, m = _labels(y1, "y1", k), _labels(y2, "y2", k), _labels(ym, "ym", k)
        if not (a.shape == b.shape == m.shape):
            raise DataError(f"length mismatch: {a.shape}, {b.shape}, {m.shape}", field="ym")
        out = (a == m).astype(np.float64) + (b == m)
        out[(a < 0) | (b < 0) | (m < 0)] = np.nan
        return out
    if delta == "soft":
        arrays = [np.asarray(v) for v in (y1, y2, ym)]
        k = n_classes or next((a.shape[1] for a in arrays if a.ndim == 2), None)
        a, b, m = _as_probs(y1, k, "y1"), _as_probs(y2, k, "y2"), _as_probs(ym, k, "ym")
        if not (a.shape == b.shape == m.shape):
            raise DataError(f"shape mismatch: {a.shape}, {b.shape}, {m.shape}", field="ym")
        return (1 - 0.5 * np.abs(a - m).sum(axis=1)) + (1 - 0.5 * np.abs(b - m).sum(axis=1))
    raise DataError(f"unknown delta {delta!r}; use 'exact' or 'soft'", field="delta")


def interaction_score(y1: Any, y2: Any, ym: Any = None, *, y_gold: Any = None,
                      reference: Literal["multimodal", "gold"] = "multimodal",
                      delta: Literal["exact", "soft"] = "exact", S: int = 100, C: int | None = None,
                      n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                      n_classes: int | None = None, drop_missing: bool = True,
                      ids: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> InteractionScore:
    """MINT Eq. (1): mean over ``S`` draws of ``C`` samples (without replacement within a draw).

    ``reference="multimodal"`` (MINT) compares with ``ym``; ``"gold"`` compares with ``y_gold``.
    ``C`` defaults to min(N, 500). Samples with a missing prediction are dropped (and ``n`` counts
    only the rest) or, with ``drop_missing=False``, raise. The CI is a percentile bootstrap
    (``n_boot`` resamples of the N samples) of the dataset-mean agreement that Eq. (1) estimates;
    ``mean_all`` is that mean on all N samples. Deterministic for a given ``seed``.
    :class:`Predictions` inputs are aligned by sample id and label name (see :func:`agreement`);
    arrays are positional. Probabilities must be valid (finite, in [0, 1], rows summing to 1) and
    the score is checked to lie in [0, 2].
    """
    if reference == "multimodal":
        if ym is None:
            raise DataError("reference='multimodal' needs ym (the multimodal model's predictions)",
                            field="ym")
        ref = ym
    elif reference == "gold":
        if y_gold is None:
            raise DataError("reference='gold' needs y_gold", field="y_gold")
        ref = y_gold
    else:
        raise DataError(f"unknown reference {reference!r}; use 'multimodal' or 'gold'", field="reference")
    values = agreement(y1, y2, ref, delta=delta, n_classes=n_classes, ids=ids, labels=labels)
    missing = np.isnan(values)
    if missing.any() and not drop_missing:
        raise DataError(f"{int(missing.sum())} samples lack a prediction", record=int(np.argmax(missing)),
                        field="y1")
    values = values[~missing]
    n = values.size
    if n == 0:
        raise DataError("no sample has all three predictions", field="y1")
    if S < 1 or n_boot < 1 or not 0 < confidence < 1:
        raise DataError(f"need S >= 1, n_boot >= 1, 0 < confidence < 1; got {S}, {n_boot}, {confidence}",
                        field="S")
    C = min(n, 500) if C is None else int(C)
    if not 1 <= C <= n:
        raise DataError(f"C must be in 1..{n} (samples available), got {C}", field="C")
    rng = np.random.default_rng(seed)
    draws = [values[rng.choice(n, size=C, replace=False)].mean() for _ in range(S)]
    score = float(np.mean(draws))
    boot = np.empty(n_boot)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        boot[start:start + size] = values[rng.integers(0, n, size=(size, n))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    check_score_range(score, "interaction score")
    return InteractionScore(score, float(low), float(high), S, C, delta, n, reference, float(values.mean()),
                            confidence, n_boot, seed)


def check_score_range(score: float, name: str, *, file: str | None = None) -> float:
    """Refuse an interaction score outside MINT's range [0, 2] (or NaN)."""
    if not (isinstance(score, int | float | np.floating) and not isinstance(score, bool)):
        raise DataError(f"score of {name!r} is not a number: {score!r}", file=file, field="score")
    if not -SCORE_TOL <= float(score) <= 2 + SCORE_TOL:  # NaN fails both comparisons
        raise DataError(f"score of {name!r} is {score}; an interaction score lies in [0, 2] (MINT Eq. 1)",
                        file=file, field="score")
    return float(score)


def _score_values(scores: Mapping[str, float | InteractionScore]) -> tuple[list[str], np.ndarray]:
    names = list(scores)
    if not names:
        raise DataError("no scores given", field="score")
    vals = np.array([check_score_range(s.score if isinstance(s, InteractionScore) else s, n)
                     for n, s in scores.items()])
    return names, vals


def distance_matrix(scores: Mapping[str, float | InteractionScore]) -> tuple[list[str], np.ndarray]:
    """MINT Eq. (2): d(A, B) = |Δ̄(A) − Δ̄(B)| for every pair; names in the mapping's order."""
    names, vals = _score_values(scores)
    return names, np.abs(vals[:, None] - vals[None, :])


def group_by_prototype(scores: Mapping[str, float | InteractionScore]) -> dict[str, str]:
    """MINT Sec. 3.3 Step 1: the nearest prototype score, 2 -> "R", 1 -> "U", 0 -> "S".

    Ties (exactly 1.5 or 0.5) go to the first of R, U, S.
    """
    names, vals = _score_values(scores)
    protos = np.array(list(PROTOTYPES.values()))
    nearest = np.argmin(np.abs(vals[:, None] - protos[None, :]), axis=1)
    keys = list(PROTOTYPES)
    return {name: keys[i] for name, i in zip(names, nearest, strict=True)}


def group_by_clustering(scores: Mapping[str, float | InteractionScore], n_groups: int = 3, *,
                        linkage: Literal["average", "complete", "single"] = "average") -> dict[str, str]:
    """MINT Sec. 3.3 Step 2: agglomerative clustering on the Eq. (2) distance matrix.

    Uses scikit-learn ``AgglomerativeClustering(metric="precomputed", linkage=...)``
    (deterministic). Groups are named by their mean score: with 3 groups, highest -> "R",
    middle -> "U", lowest -> "S"; otherwise "G1" (highest) ... "Gk".
    """
    from sklearn.cluster import AgglomerativeClustering

    names, dist = distance_matrix(scores)
    _, vals = _score_values(scores)
    if not 1 <= n_groups <= len(names):
        raise DataError(f"n_groups must be in 1..{len(names)} (datasets given), got {n_groups}",
                        field="n_groups")
    if n_groups == 1:
        return dict.fromkeys(names, "G1")
    model = AgglomerativeClustering(n_clusters=n_groups, metric="precomputed", linkage=linkage)
    labels = model.fit_predict(dist)
    means = {c: vals[labels == c].mean() for c in np.unique(labels)}
    ranked = sorted(means, key=lambda c: -means[c])
    tags = ["R", "U", "S"] if n_groups == 3 else [f"G{i + 1}" for i in range(n_groups)]
    rename = {c: tags[i] for i, c in enumerate(ranked)}
    return {name: rename[c] for name, c in zip(names, labels, strict=True)}
