"""Classification metrics, all delegated to scikit-learn over the *gold label set only*.

MMLA's six metrics (ACC, weighted F1, weighted P, macro F1, macro R, macro P; MMLA Sec. 4) plus the
"task F1" used by MMoE (binary F1 of the positive class for two-class tasks, macro F1 otherwise),
expected calibration error and bootstrap confidence intervals. Predictions of ``-1`` (no prediction /
parse failure) count as errors: they are mapped to a sentinel that matches no gold label, and the
averages still run over the gold labels only, so failures never become extra classes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score


def _prepare(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64).copy()
    y_pred[y_pred < 0] = n_labels  # a failure: an index outside the gold label set
    return y_true, y_pred, list(range(n_labels))


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> dict[str, float]:
    """ACC, WF1, WP, macro F1/R/P (MMLA) and ``f1`` = binary F1 (K=2, positive = index 1) or macro F1."""
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


def bootstrap_ci(statistic: Callable[[np.ndarray], float], n: int, *, n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` samples."""
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(n_boot)])
    return float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2))
