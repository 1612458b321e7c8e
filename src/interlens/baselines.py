"""Honest baselines for every comparison table: the majority class, each unimodal view, and a paired
significance test for each "method vs. baseline" difference (issue 12, item 4).

* :func:`majority_class` is fitted on the *training* labels and evaluated on the test labels;
* :func:`unimodal_predictions` fits a scorer on each unimodal view (``clone`` of an unfitted scorer);
* :func:`permutation_test`: the paired sign-flip permutation test on per-sample correctness (the
  accuracy difference). Only discordant pairs change the statistic, so the exact null distribution
  is binomial and the exact p-value is computed in closed form for any n (it equals
  ``scipy.stats.permutation_test(..., permutation_type="samples")`` with all 2**n sign flips, and the
  exact McNemar test); ``n_resamples`` switches to a seeded Monte Carlo version;
* :func:`paired_bootstrap`: the paired bootstrap over test samples for any metric (macro-F1 ...);
* :func:`comparison_table` puts them together, one row per model, with the flag
  ``at_or_below_majority`` (accuracy not above the majority class's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import DataError

TABLE_METRICS = ("acc", "macro_f1", "f1", "weighted_f1")
MAJORITY = "majority class"


def _labels(y: Any, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or len(a) == 0:
        raise DataError(f"{name} must be a non-empty 1-D array of label indices, got shape {a.shape}", field=name)
    return a.astype(np.int64)


def majority_class(y_train: Sequence[int] | np.ndarray) -> int:
    """The most frequent training label index (ties: the smallest index)."""
    y = _labels(y_train, "y_train")
    if (y < 0).any():
        raise DataError("training labels must be label indices >= 0", field="y_train")
    return int(np.bincount(y).argmax())


def majority_predictions(y_train: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """``n`` predictions of the training majority class."""
    return np.full(int(n), majority_class(y_train), dtype=np.int64)


def _confusions(y_true: np.ndarray, y_pred: np.ndarray, k: int, idx: np.ndarray) -> np.ndarray:
    """Confusion counts ``[B, K, K+1]`` of the resamples ``idx[B, n]`` (column K: failed predictions)."""
    t, p = y_true[idx], np.where((y_pred < 0) | (y_pred >= k), k, y_pred)[idx]
    b = np.arange(idx.shape[0])[:, None]
    flat = (b * k * (k + 1) + t * (k + 1) + p).ravel()
    return np.bincount(flat, minlength=idx.shape[0] * k * (k + 1)).reshape(idx.shape[0], k, k + 1)


def _metric_from_confusion(c: np.ndarray, metric: str) -> np.ndarray:
    """Vectorised metric per resample from ``[B, K, K+1]`` counts (same definitions as
    :func:`interlens.metrics.classification_metrics`: over the gold labels only)."""
    k = c.shape[1]
    tp = np.stack([c[:, i, i] for i in range(k)], axis=1).astype(np.float64)
    support = c.sum(axis=2).astype(np.float64)
    predicted = c[:, :, :k].sum(axis=1).astype(np.float64)
    n = support.sum(axis=1)
    if metric == "acc":
        return tp.sum(axis=1) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
    if metric == "macro_f1" or (metric == "f1" and k != 2):
        return f1.mean(axis=1)
    if metric == "f1":
        return f1[:, 1]
    if metric == "weighted_f1":
        return (f1 * support).sum(axis=1) / n
    raise DataError(f"unknown metric {metric!r}; choose one of {TABLE_METRICS}", field="metric")


def metric_value(y_true: Sequence[int], y_pred: Sequence[int], metric: str = "acc", n_labels: int | None = None
                 ) -> float:
    """``metric`` of one prediction vector (``f1``: positive-class F1 for K = 2, macro otherwise)."""
    y, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    k = int(n_labels or max(y.max(), p.max()) + 1)
    return float(_metric_from_confusion(_confusions(y, p, k, np.arange(len(y))[None, :]), metric)[0])


def _pair(y_true: Any, pred_a: Any, pred_b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, a, b = _labels(y_true, "y_true"), _labels(pred_a, "pred_a"), _labels(pred_b, "pred_b")
    if not len(y) == len(a) == len(b):
        raise DataError(f"paired tests need one prediction per sample: {len(y)} gold, {len(a)} and {len(b)} "
                        "predictions", field="predictions")
    return y, a, b


def permutation_test(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *,
                     n_resamples: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Two-sided paired permutation test of the accuracy difference ``acc(a) - acc(b)``.

    Under H0 the two predictions of a sample are exchangeable: the per-sample difference of
    correctness ``d_i`` in {-1, 0, 1} flips sign with probability 1/2. With ``m`` discordant samples
    and ``S = sum d_i``, ``p = P(|2B - m| >= |S|)`` for ``B ~ Binomial(m, 1/2)`` (exact, default);
    ``n_resamples``: a seeded Monte Carlo estimate ``(1 + #{|T*| >= |S|}) / (1 + n_resamples)``.
    """
    from scipy.stats import binom

    y, a, b = _pair(y_true, pred_a, pred_b)
    d = (a == y).astype(np.int64) - (b == y).astype(np.int64)
    m, s = int(np.count_nonzero(d)), int(d.sum())
    delta = s / len(y)
    if m == 0:
        return {"p_value": 1.0, "delta": 0.0, "discordant": 0, "test": "exact permutation (sign-flip)"}
    if n_resamples is None:
        # |2B - m| >= |s|  <=>  B >= (m + |s|) / 2  or  B <= (m - |s|) / 2
        hi, lo = int(np.ceil((m + abs(s)) / 2)), int(np.floor((m - abs(s)) / 2))
        p = binom.sf(hi - 1, m, 0.5) + binom.cdf(lo, m, 0.5) if hi > lo else 1.0
        return {"p_value": float(min(1.0, p)), "delta": float(delta), "discordant": m,
                "test": "exact permutation (sign-flip)"}
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(int(n_resamples), m)) * 2 - 1
    t = np.abs(signs @ d[d != 0])
    p = (1 + int((t >= abs(s)).sum())) / (1 + int(n_resamples))
    return {"p_value": float(p), "delta": float(delta), "discordant": m,
            "test": f"permutation (sign-flip, {int(n_resamples)} resamples)"}


def paired_bootstrap(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *, metric: str = "macro_f1",
                     n_labels: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Paired bootstrap over test samples of ``metric(a) - metric(b)``: the same resampled indices for
    both models. Two-sided p = ``min(1, 2 * min(P*(delta <= 0), P*(delta >= 0)))`` with the +1
    correction of Davison & Hinkley (1997, Sec. 4.2) so a finite resample never reports p = 0; 95 %
    percentile interval of the difference."""
    y, a, b = _pair(y_true, pred_a, pred_b)
    k = int(n_labels or max(y.max(), a.max(), b.max()) + 1)
    idx = np.random.default_rng(seed).integers(0, len(y), size=(int(n_boot), len(y)))
    deltas = _metric_from_confusion(_confusions(y, a, k, idx), metric) - _metric_from_confusion(
        _confusions(y, b, k, idx), metric)
    delta = metric_value(y, a, metric, k) - metric_value(y, b, metric, k)
    n = len(deltas)
    p = min(1.0, 2 * min((float((deltas <= 0).sum()) + 1) / (n + 1), (float((deltas >= 0).sum()) + 1) / (n + 1)))
    return {"p_value": p, "delta": float(delta), "ci95": [float(np.quantile(deltas, 0.025)),
                                                          float(np.quantile(deltas, 0.975))],
            "test": f"paired bootstrap ({int(n_boot)} resamples)"}


def paired_test(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *, metric: str = "acc",
                n_labels: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The exact permutation test for accuracy, the paired bootstrap for any other metric."""
    if metric == "acc":
        return permutation_test(y_true, pred_a, pred_b)
    return paired_bootstrap(y_true, pred_a, pred_b, metric=metric, n_labels=n_labels, n_boot=n_boot, seed=seed)


def comparison_table(y_true: Sequence[int], predictions: Mapping[str, Sequence[int]], baseline: str | None = None,
                     majority: int | Sequence[int] | None = None, *, metric: str = "acc",
                     n_labels: int | None = None, n_boot: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per model: ``metric`` value, ``delta`` and paired ``p_value`` vs. ``baseline`` (a key of
    ``predictions``; None: no comparison), accuracy, and ``at_or_below_majority`` (accuracy <= the
    majority class's; ``p_vs_majority``: exact permutation test against it). ``majority``: the
    training majority label index (see :func:`majority_class`) or its prediction vector; its row
    (``"majority class"``) comes first. Predictions are label indices (-1 = no prediction = wrong).
    """
    if metric not in TABLE_METRICS:
        raise DataError(f"unknown metric {metric!r}; choose one of {TABLE_METRICS}", field="metric")
    y = _labels(y_true, "y_true")
    preds = {str(name): _labels(p, f"predictions[{name!r}]") for name, p in predictions.items()}
    for name, p in preds.items():
        if len(p) != len(y):
            raise DataError(f"model {name!r} has {len(p)} predictions for {len(y)} samples", field="predictions")
    if majority is not None:
        maj = (np.full(len(y), int(majority), dtype=np.int64) if np.ndim(majority) == 0
               else _labels(majority, "majority"))
        preds = {MAJORITY: maj, **{n: p for n, p in preds.items() if n != MAJORITY}}
    if baseline is not None and baseline not in preds:
        raise DataError(f"baseline {baseline!r} is not one of the models {sorted(preds)}", field="baseline")
    k = int(n_labels or max(int(y.max()), *(int(p.max()) for p in preds.values())) + 1)
    values = {n: metric_value(y, p, metric, k) for n, p in preds.items()}
    accs = {n: metric_value(y, p, "acc", k) for n, p in preds.items()}
    rows = []
    for name, p in preds.items():
        row: dict[str, Any] = {"name": name, "metric": metric, "value": values[name], "acc": accs[name],
                               "is_baseline": name == baseline, "delta": None, "p_value": None, "test": None}
        if baseline is not None and name != baseline:
            test = paired_test(y, p, preds[baseline], metric=metric, n_labels=k, n_boot=n_boot, seed=seed)
            row.update(delta=values[name] - values[baseline], p_value=test["p_value"], test=test["test"])
        if majority is not None:
            row["at_or_below_majority"] = bool(accs[name] <= accs[MAJORITY] + 1e-12) if name != MAJORITY else None
            row["p_vs_majority"] = (permutation_test(y, p, preds[MAJORITY])["p_value"] if name != MAJORITY
                                    else None)
        rows.append(row)
    return rows


def baselines_block(y_true: Sequence[int], predictions: Mapping[str, Sequence[int]], *, y_train: Sequence[int],
                    baseline: str | None, labels: Sequence[str] | None = None,
                    metrics: Sequence[str] = ("acc", "macro_f1"), n_boot: int = 2000, seed: int = 0
                    ) -> dict[str, Any]:
    """The ``baselines`` block of a results JSON: the training majority class, one
    :func:`comparison_table` per metric, and the models flagged at or below the majority class."""
    label = majority_class(y_train)
    k = len(labels) if labels is not None else None
    tables = {m: comparison_table(y_true, predictions, baseline, label, metric=m, n_labels=k, n_boot=n_boot,
                                  seed=seed) for m in metrics}
    first = next(iter(tables.values()))
    return {"majority": {"label": labels[label] if labels is not None else label, "index": label,
                         "fit_on": "train", "acc": first[0]["acc"]},
            "baseline": baseline, "tables": tables,
            "at_or_below_majority": [r["name"] for r in first if r.get("at_or_below_majority")]}


def unimodal_predictions(scorer: Any, train: Any, test: Any, modalities: Sequence[str], *,
                         val: Any | None = None) -> dict[str, np.ndarray]:
    """Predicted label indices on ``test`` of one model per unimodal view (a clone of the unfitted
    ``scorer`` fitted on ``train``; any TRAINABLE scorer)."""
    from .scoring.base import Capability, clone, require

    require(scorer, Capability.TRAINABLE, "unimodal baselines")
    fitted = clone(scorer).fit(train, list(modalities), val=val)
    return {m: np.asarray(fitted.predict_proba(test, m).align(test.ids).probs).argmax(axis=1) for m in modalities}


def experts_baselines(per_seed: list[dict[str, Any]], dataset: Any, scorer: Any, modalities: Sequence[str],
                      *, split: str = "test", baseline: str = "baseline", n_boot: int = 2000) -> dict[str, Any]:
    """The ``baselines`` block of an MMoE experts study: per seed, every fusion strategy (the
    ``predictions`` each seed's report carries, removed from it here) against the ``baseline``
    strategy, plus the training majority class and one model per unimodal view (fitted once, on
    train, with the scorer's own seed) as extra rows."""
    test, train = dataset.split(split), dataset.split("train")
    val = dataset.split("dev") if "dev" in dataset.splits else None
    views = {f"unimodal:{m}": p for m, p in
             unimodal_predictions(scorer, train, test, modalities, val=val).items()}
    out: dict[str, Any] = {"modalities": list(modalities), "per_seed": {}}
    for report in per_seed:
        preds = report.pop("predictions", None)
        if preds is None:
            continue
        block = baselines_block(test.y, {**preds, **views}, y_train=train.y, baseline=baseline,
                                labels=list(dataset.labels), n_boot=n_boot, seed=int(report.get("seed", 0)))
        out["majority"] = block.pop("majority")
        out["per_seed"][str(report.get("seed", len(out["per_seed"])))] = block
    flagged = [set(b["at_or_below_majority"]) for b in out["per_seed"].values()]
    out["at_or_below_majority_every_seed"] = sorted(set.intersection(*flagged)) if flagged else []
    return out
