"""Train-only clean-up of unimodal predictions before categorisation (MMoE Sec. 6.1, App. F.3).

* **Filtering** (Sec. 6.1 / App. F.3 "Filtering"): drop a sample whose unimodal prediction is not
  confident: kept iff the margin between the two largest renormalised probabilities is > δ
  (δ = 0.1; for two labels this is |p(Yes) − p(No)| > 0.1, i.e. max prob > 0.55).
* **Rebalancing** (App. F.3 "Rebalancing"): when one predicted class has less than 20 % of the
  samples, the unimodal classifier is *re-thresholded* on its ranked probabilities so that the
  minority class reaches 20 %. No sample is removed or duplicated (the paper's wording says
  "undersampling"; the authors' code re-thresholds, and so do we).

Both are declared **train-only** (:data:`TRAIN_ONLY`): on validation/test the categories must come
from the raw predictions, or the evaluation would be tuned on its own labels.
:func:`categorize_split` applies them on ``split == "train"`` only and refuses otherwise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import DataError, InterlensError
from ..predictions import Predictions
from .categorize import CATEGORIES, MISSING, categorize, category_counts, missing_mask, to_mmoe_groups
from .score import align_inputs

#: Steps that may only ever be applied to a training split.
TRAIN_ONLY: tuple[str, ...] = ("confidence_mask", "rebalance")
FILTERED = "filtered"


class TrainOnlyError(InterlensError, ValueError):
    """A train-only step was requested on a non-training split."""


def _check_probs(probs: Any, name: str = "probs") -> tuple[np.ndarray, np.ndarray]:
    """``(renormalised probs, has_prediction mask)``; all-NaN rows are missing (left NaN)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError(f"expected probabilities of shape (N, K>=2), got {p.shape}", field=name)
    nan = np.isnan(p)
    has = ~nan.all(axis=1)
    partial = nan.any(axis=1) & has
    if partial.any():
        raise DataError(f"row {int(np.argmax(partial))} is partly NaN (a row is all-NaN or all numbers)",
                        record=int(np.argmax(partial)), field=name)
    if (p[has] < 0).any():
        row = int(np.flatnonzero(has & (np.nan_to_num(p, nan=0.0) < 0).any(axis=1))[0])
        raise DataError("negative probability", record=row, field=name)
    total = p.sum(axis=1, keepdims=True)
    zero = has & (total[:, 0] <= 0)
    if zero.any():
        raise DataError("probabilities sum to 0", record=int(np.argmax(zero)), field=name)
    return p / np.where(has[:, None], total, 1.0), has


def margin(probs: Any) -> np.ndarray:
    """Top-1 minus top-2 of the renormalised probabilities per row (NaN where no prediction)."""
    p, has = _check_probs(probs)
    top2 = np.sort(np.where(has[:, None], p, 0.0), axis=1)[:, -2:]
    out = top2[:, 1] - top2[:, 0]
    out[~has] = np.nan
    return out


def confidence_mask(probs: Any, delta: float = 0.1) -> np.ndarray:
    """MMoE Sec. 6.1 / App. F.3 filter: True where top-1 − top-2 renormalised probability > ``delta``.

    Two labels: |p(a) − p(b)| > δ, i.e. max prob > (1 + δ)/2 = 0.55 at δ = 0.1. Rows with no
    prediction (all NaN) are False. The paper says "filter out |p(Yes) − p(No)| < δ" and "remove
    confidence below 0.55"; the exact tie (= δ) is measure-zero and is dropped here.
    """
    if not 0 <= delta < 1:
        raise DataError(f"delta must be in [0, 1), got {delta}", field="delta")
    m = margin(probs)
    return np.nan_to_num(m, nan=-1.0) > delta


@dataclass(frozen=True)
class Rebalanced:
    """Result of :func:`rebalance`: new predicted class indices (-1 = no prediction) and what changed."""

    pred: np.ndarray
    changed: np.ndarray
    minority: int | None
    threshold: float | None
    shares_before: tuple[float, ...]
    shares_after: tuple[float, ...]
    note: str

    @property
    def n_changed(self) -> int:
        return int(self.changed.sum())


def _shares(pred: np.ndarray, k: int) -> tuple[float, ...]:
    valid = pred[pred >= 0]
    if not valid.size:
        return tuple(0.0 for _ in range(k))
    return tuple(float(x) for x in np.bincount(valid, minlength=k) / valid.size)


def _argmax(p: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Argmax class index per row, -1 outside ``rows`` (NaN-safe)."""
    return np.where(rows, np.argmax(np.where(np.isnan(p), -np.inf, p), axis=1), -1)


def rebalance(probs: Any, min_share: float = 0.2, *, mask: np.ndarray | None = None) -> Rebalanced:
    """MMoE App. F.3 rebalancing by re-thresholding (no resampling), binary labels.

    Predictions are the argmax of ``probs`` (-1 for all-NaN rows and rows outside ``mask``). If
    the smaller predicted class holds less than ``min_share`` of those, the samples are ranked by
    their probability of that class and the threshold is moved to the value of the
    ``ceil(min_share * n)``-th one: every sample at or above it is predicted as the minority class
    (ties included, so the share becomes >= ``min_share``). Samples already predicted as the
    minority keep that prediction.

    k > 2 classes: MMoE defines this only for Yes/No, and a 20 % floor cannot hold for more than 5
    classes; predictions are returned unchanged with a ``UserWarning`` (``note`` says so).
    """
    if not 0 <= min_share <= 0.5:
        raise DataError(f"min_share must be in [0, 0.5], got {min_share}", field="min_share")
    p, has = _check_probs(probs)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != has.shape:
            raise DataError(f"mask has shape {mask.shape}, expected {has.shape}", field="mask")
        has = has & mask
    k = p.shape[1]
    pred = _argmax(p, has)
    before = _shares(pred, k)
    unchanged = np.zeros(pred.shape, dtype=bool)
    if k != 2:
        warnings.warn(f"rebalance: defined for 2 classes (MMoE App. F.3); {k} classes left as predicted",
                      UserWarning, stacklevel=2)
        return Rebalanced(pred, unchanged, None, None, before, before, f"k={k}: left as predicted")
    n = int(has.sum())
    minority = int(np.argmin(before))
    if n == 0 or before[minority] >= min_share:
        note = f"no-op: smaller predicted class share {before[minority]:.3f} >= {min_share}"
        return Rebalanced(pred, unchanged, None, None, before, before, note)
    need = math.ceil(min_share * n - 1e-9)
    scores = p[has, minority]
    threshold = float(np.sort(scores)[::-1][need - 1])
    new = pred.copy()
    flip = has & (p[:, minority] >= threshold)
    new[flip] = minority
    after = _shares(new, k)
    note = (f"class {minority} raised from {before[minority]:.3f} to {after[minority]:.3f} "
            f"(threshold {threshold:.6g})")
    return Rebalanced(new, new != pred, minority, threshold, before, after, note)


@dataclass
class SplitCategories:
    """Output of :func:`categorize_split`: one category per input sample plus a report."""

    categories: np.ndarray
    ids: list[str] | None
    report: dict[str, Any] = field(default_factory=dict)

    def ids_of(self, category: str) -> list[str]:
        if self.ids is None:
            raise DataError("no ids were given to categorize_split", field="ids")
        return [i for i, c in zip(self.ids, self.categories, strict=True) if c == category]


def _resolve(step: str, requested: bool | None, split: str) -> bool:
    is_train = split == "train"
    if requested is None:
        return is_train
    if requested and not is_train:
        raise TrainOnlyError(f"{step} is train-only (MMoE App. F.3); refusing to apply it to split "
                             f"{split!r}. Pass {step}=None (auto) or False.")
    return bool(requested)


def categorize_split(
    probs1: Predictions | np.ndarray,
    probs2: Predictions | np.ndarray,
    y_ref: Any,
    *,
    split: str,
    ids: list[str] | None = None,
    apply_filter: bool | None = None,
    apply_rebalance: bool | None = None,
    delta: float = 0.1,
    min_share: float = 0.2,
    scheme: Literal["paper", "mmoe"] = "paper",
    labels: Sequence[str] | None = None,
) -> SplitCategories:
    """Filter (Sec. 6.1), rebalance (App. F.3) and categorise (Algorithm 1) one split.

    ``probs1``/``probs2``: unimodal probabilities (N, K) or :class:`Predictions`. Predictions are
    aligned BY NAME: rows to ``ids`` (default: probs1's ids; then the id sets must match) and
    columns to ``labels`` (default: probs1's labels; other names are refused). ``y_ref``: reference
    class indices into ``labels`` (-1 = missing), in ``ids`` order.
    ``apply_filter``/``apply_rebalance``: ``None`` = apply on ``split == "train"`` only; ``True`` on any
    other split raises :class:`TrainOnlyError`. A sample is filtered when *either* unimodal
    prediction fails :func:`confidence_mask`; its category is ``"filtered"``. ``scheme="mmoe"``
    returns the authors' names R/U/AS (with k=2 identical to the paper's sets).
    """
    (p1, p2), aligned_ids, _ = align_inputs([probs1, probs2], ids=ids, labels=labels)
    ids = aligned_ids if aligned_ids is not None else ids
    p1, p2 = np.asarray(p1, dtype=np.float64), np.asarray(p2, dtype=np.float64)
    ref = np.asarray(y_ref)
    if not (p1.shape[0] == p2.shape[0] == ref.shape[0]) or p1.shape[1] != p2.shape[1]:
        raise DataError(f"shapes differ: probs1 {p1.shape}, probs2 {p2.shape}, y_ref {ref.shape}",
                        field="y_ref")
    if ids is not None and len(ids) != len(ref):
        raise DataError(f"{len(ids)} ids for {len(ref)} samples", field="ids")
    do_filter = _resolve("apply_filter", apply_filter, split)
    do_rebalance = _resolve("apply_rebalance", apply_rebalance, split)

    ref_missing = missing_mask(ref)
    _, has1 = _check_probs(p1, "probs1")
    _, has2 = _check_probs(p2, "probs2")
    keep = np.ones(len(ref), dtype=bool)
    n_low = {"modality1": 0, "modality2": 0}
    if do_filter:
        c1, c2 = confidence_mask(p1, delta), confidence_mask(p2, delta)
        both = has1 & has2 & ~ref_missing
        n_low = {"modality1": int((both & ~c1).sum()), "modality2": int((both & ~c2).sum())}
        keep = (c1 | ~has1) & (c2 | ~has2)  # missing rows are reported as missing, not as filtered
    present = has1 & has2
    y1, y2 = _argmax(p1, present), _argmax(p2, present)
    rebalanced: dict[str, int] = {"modality1": 0, "modality2": 0}
    notes: dict[str, str] = {}
    if do_rebalance:  # re-threshold on the samples that survive filtering and have both predictions
        used = keep & present
        for name, p, y in (("modality1", p1, y1), ("modality2", p2, y2)):
            result = rebalance(p, min_share, mask=used)
            y[used] = result.pred[used]
            rebalanced[name], notes[name] = result.n_changed, result.note
    cats = categorize(y1, y2, ref)
    cats[(cats != MISSING) & ~keep] = FILTERED
    if scheme == "mmoe":
        cats = to_mmoe_groups(cats)
        order: list[str] = ["R", "U", "AS", MISSING, FILTERED]
    elif scheme == "paper":
        order = [*CATEGORIES, FILTERED]
    else:
        raise DataError(f"unknown scheme {scheme!r}; use 'paper' or 'mmoe'", field="scheme")
    report = {
        "split": split, "n": int(len(ref)), "scheme": scheme,
        "steps": {"filter": do_filter, "rebalance": do_rebalance, "train_only": list(TRAIN_ONLY)},
        "delta": delta if do_filter else None, "min_share": min_share if do_rebalance else None,
        "missing": {"modality1": int((~has1).sum()), "modality2": int((~has2).sum()),
                    "reference": int(ref_missing.sum()),
                    "total": int((cats == MISSING).sum())},
        "low_confidence": n_low, "filtered": int((cats == FILTERED).sum()),
        "rebalanced": rebalanced, "rebalance_notes": notes,
        "counts": category_counts(cats, order),
    }
    return SplitCategories(cats, ids, report)
