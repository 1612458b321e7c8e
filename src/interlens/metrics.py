"""Classification metrics, all delegated to scikit-learn over the *gold label set only*.

MMLA's six metrics (ACC, weighted F1, weighted P, macro F1, macro R, macro P; MMLA Sec. 4) plus the
"task F1" used by MMoE (binary F1 of the positive class for two-class tasks, macro F1 otherwise),
expected calibration error and bootstrap confidence intervals. Predictions of ``-1`` (no prediction /
parse failure) count as errors: they are mapped to a sentinel that matches no gold label, and the
averages still run over the gold labels only, so failures never become extra classes.

Bootstrap intervals of these metrics are vectorised (:func:`bootstrap_metric_ci`): all resamples are
drawn at once and each one's confusion matrix is one ``bincount``, so 1,000 resamples of a few thousand
predictions take milliseconds instead of seconds (scikit-learn per resample), with the same resamples
and therefore the same percentile interval as :func:`bootstrap_ci` for the same seed. scikit-learn is
imported lazily (only :func:`classification_metrics` needs it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# metrics that bootstrap_metric_ci computes from confusion matrices (the names of classification_metrics)
VECTOR_METRICS = ("acc", "weighted_f1", "weighted_p", "macro_f1", "macro_r", "macro_p", "f1", "precision", "recall")


def _prepare(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64).copy()
    y_pred[y_pred < 0] = n_labels  # a failure: an index outside the gold label set
    return y_true, y_pred, list(range(n_labels))


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> dict[str, float]:
    """ACC, WF1, WP, macro F1/R/P (MMLA) and ``f1`` = binary F1 (K=2, positive = index 1) or macro F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    y_true, y_pred, labels = _prepare(y_true, y_pred, n_labels)
    kw = {"labels": labels, "zero_division": 0}
    out = {
        "acc": accuracy_score(y_true, y_pred),
        "weighted_f1": f1_score(y_true, y_pred, average="weighted", **kw),
        "weighted_p": precision_score(y_true, y_pred, average="weighted", **kw),
        "macro_f1": f1_score(y_true, y_pred, average="macro", **kw),
        "macro_r": recall_score(y_true, y_pred, average="macro", **kw),
        "macro_p": precision_score(y_true, y_pred, average="macro", **kw),
        "n_failed": int((y_pred == n_labels).sum()),
    }
    if n_labels == 2:
        # positive class only; labels=[1] (not average="binary") so that failures (index 2) are errors,
        # not a third class that scikit-learn would refuse in binary mode
        positive = {"labels": [1], "average": "macro", "zero_division": 0}
        out["f1"] = f1_score(y_true, y_pred, **positive)
        out["precision"] = precision_score(y_true, y_pred, **positive)
        out["recall"] = recall_score(y_true, y_pred, **positive)
        out["f1_average"] = "binary"
    else:
        out["f1"], out["precision"], out["recall"] = out["macro_f1"], out["macro_p"], out["macro_r"]
        out["f1_average"] = "macro"
    return {k: (float(v) if not isinstance(v, str) else v) for k, v in out.items()}


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins (Guo et al., 2017)."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) resample indices; the same stream as ``n_boot`` calls of ``rng.integers(0, n, size=n)``."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _percentile(values: np.ndarray, alpha: float) -> tuple[float, float]:
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))


def bootstrap_ci(statistic: Callable[[np.ndarray], float], n: int, *, n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0, vectorized: bool = False) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` samples (Efron & Tibshirani,
    1993, ch. 13). With ``vectorized=True`` the statistic takes the whole (n_boot, n) index matrix and
    returns n_boot values (one call instead of n_boot)."""
    idx = _resamples(n, n_boot, seed)
    if vectorized:
        values = np.asarray(statistic(idx), dtype=np.float64).reshape(n_boot)
    else:
        values = np.array([statistic(row) for row in idx])
    return _percentile(values, alpha)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's ``zero_division=0``)."""
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def metrics_from_confusion(conf: np.ndarray, names: Sequence[str] = VECTOR_METRICS) -> dict[str, np.ndarray]:
    """Metrics of ``classification_metrics`` from stacked confusion matrices ``conf`` (..., K, K+1):
    rows = gold label, columns = predicted label, the last column = failed prediction (counts as wrong,
    never as a class). Same definitions as scikit-learn with ``labels=range(K)``, ``zero_division=0``."""
    conf = np.asarray(conf, dtype=np.float64)
    k = conf.shape[-2]
    tp = np.diagonal(conf[..., :k], axis1=-2, axis2=-1)
    support = conf.sum(-1)  # gold count per label
    predicted = conf[..., :k].sum(-2)  # predicted count per label (failures predict no label)
    total = support.sum(-1)
    precision, recall = _safe_div(tp, predicted), _safe_div(tp, support)
    f1 = _safe_div(2 * tp, support + predicted)
    weights = _safe_div(support, total[..., None])
    table = {"acc": lambda: _safe_div(tp.sum(-1), total),
             "weighted_f1": lambda: (weights * f1).sum(-1), "weighted_p": lambda: (weights * precision).sum(-1),
             "macro_f1": lambda: f1.mean(-1), "macro_r": lambda: recall.mean(-1), "macro_p": lambda: precision.mean(-1)}
    positive = {"f1": f1, "precision": precision, "recall": recall}
    out = {}
    for name in names:
        if name in table:
            out[name] = table[name]()
        elif name in positive:  # binary: the positive class (index 1); else macro, as classification_metrics
            out[name] = positive[name][..., 1] if k == 2 else positive[name].mean(-1)
        else:
            raise ValueError(f"unknown metric {name!r}; vectorised metrics: {', '.join(VECTOR_METRICS)}")
    return out


def bootstrap_metric_ci(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int,
                        names: Sequence[str] = ("acc", "macro_f1"), *, n_boot: int = 1000, alpha: float = 0.05,
                        seed: int = 0, chunk: int = 2_000_000) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of classification metrics, vectorised: the resamples of
    :func:`bootstrap_ci` with the same seed (so the same interval as resampling ``classification_metrics``),
    each resample's confusion matrix built by one ``bincount``. ``y_pred = -1`` is a failure (wrong)."""
    y_true, y_pred, _ = _prepare(y_true, y_pred, n_labels)
    n, width = len(y_true), n_labels + 1
    if n == 0 or n_boot <= 0:
        return {}
    codes = y_true * width + y_pred
    idx = _resamples(n, n_boot, seed)
    cells = n_labels * width
    conf = np.empty((n_boot, n_labels, width), dtype=np.int64)
    step = max(1, chunk // n)  # resamples per block: bounds the (step, n) index block's memory
    for start in range(0, n_boot, step):
        block = codes[idx[start:start + step]]
        block = block + (np.arange(len(block)) * cells)[:, None]  # each resample its own confusion matrix
        conf[start:start + len(block)] = np.bincount(block.ravel(), minlength=len(block) * cells).reshape(
            len(block), n_labels, width)
    values = metrics_from_confusion(conf, names)
    return {name: _percentile(values[name], alpha) for name in names}
