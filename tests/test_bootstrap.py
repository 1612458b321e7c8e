"""Vectorised bootstrap intervals: the same resamples and intervals as resampling scikit-learn's
metrics one by one, agreement with scipy.stats.bootstrap, and hand-checked confusion-matrix metrics."""

import numpy as np
import pytest
from scipy import stats

from interlens.bench.results import task_report
from interlens.metrics import (
    VECTOR_METRICS,
    bootstrap_ci,
    bootstrap_metric_ci,
    classification_metrics,
    metrics_from_confusion,
)


def _confusion(y_true, y_pred, k):
    conf = np.zeros((k, k + 1), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        conf[t, p if p >= 0 else k] += 1
    return conf


@pytest.mark.parametrize(("k", "y_true", "y_pred"), [
    (3, [0, 0, 1, 1, 2, 2, 2], [0, 1, 1, -1, 2, 0, 2]),  # a failure (-1)
    (4, [0, 0, 1, 1, 1, 2], [0, 2, 1, 1, -1, 2]),  # label 3: neither gold nor predicted -> 0 for P/R/F1
    (2, [0, 1, 1, 1, 0], [0, 1, 0, -1, 1]),  # binary: f1/precision/recall of the positive class
])
def test_confusion_metrics_equal_sklearn(k, y_true, y_pred):
    expected = classification_metrics(np.array(y_true), np.array(y_pred), k)
    got = metrics_from_confusion(_confusion(y_true, y_pred, k))
    for name in VECTOR_METRICS:
        assert got[name] == pytest.approx(expected[name], abs=1e-12), name


def test_hand_case_values():
    # gold 0,0,1,1 / predicted 0,1,1,fail: acc 2/4; F1(0) = 2/3, F1(1) = 2*1/(2+1+1) = 1/2
    got = metrics_from_confusion(_confusion([0, 0, 1, 1], [0, 1, 1, -1], 2), ["acc", "macro_f1", "f1"])
    assert got["acc"] == 0.5
    assert got["macro_f1"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert got["f1"] == pytest.approx(0.5)


def test_vectorised_equals_per_resample_sklearn_same_seed():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 3, 80)
    y_pred = np.where(rng.random(80) < 0.6, y_true, rng.integers(-1, 3, 80))
    fast = bootstrap_metric_ci(y_true, y_pred, 3, ["acc", "macro_f1", "weighted_f1"], n_boot=60, seed=3)
    for name, bounds in fast.items():
        slow = bootstrap_ci(lambda idx, n=name: classification_metrics(y_true[idx], y_pred[idx], 3)[n], 80,
                            n_boot=60, seed=3)
        assert bounds == pytest.approx(slow, abs=1e-12), name


def test_vectorised_statistic_and_chunking_are_identical():
    values = np.arange(50, dtype=float)
    loop = bootstrap_ci(lambda idx: values[idx].mean(), 50, n_boot=200, seed=1)
    vec = bootstrap_ci(lambda idx: values[idx].mean(axis=1), 50, n_boot=200, seed=1, vectorized=True)
    assert vec == loop
    y = np.array([0, 1, 2, 1, 0, 2, 2, 1] * 5)
    p = np.roll(y, 1)
    assert bootstrap_metric_ci(y, p, 3, n_boot=200, chunk=97) == bootstrap_metric_ci(y, p, 3, n_boot=200)


def test_agrees_with_scipy_percentile_bootstrap():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 400)
    y_pred = np.where(rng.random(400) < 0.55, y_true, rng.integers(0, 4, 400))
    ours = bootstrap_metric_ci(y_true, y_pred, 4, ["acc"], n_boot=2000, seed=0)["acc"]
    correct = (y_true == y_pred).astype(float)
    ref = stats.bootstrap((correct,), np.mean, n_resamples=2000, method="percentile",
                          rng=np.random.default_rng(1)).confidence_interval
    # different resamples: the same interval within resampling error (SE of a 2.5% quantile ~ 0.005 here)
    assert ours[0] == pytest.approx(ref.low, abs=0.015)
    assert ours[1] == pytest.approx(ref.high, abs=0.015)
    assert ours[0] < correct.mean() < ours[1]


def test_task_report_intervals_and_edge_cases():
    y = np.array([0, 1, 1, 0, 1, 1])
    probs = np.eye(2)[[0, 1, 0, 0, 1, 1]].astype(float)
    probs[2] = np.nan  # a failed prediction counts as wrong
    report = task_report(y, probs, 2, n_boot=100, seed=0)
    low, high = report["ci95"]["acc"]
    assert 0 <= low <= report["acc"] <= high <= 1
    assert report["n_failed"] == 1
    assert task_report(y, probs, 2, n_boot=0)["ci95"] == {}
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        bootstrap_metric_ci(y, y, 2, ["auc"], n_boot=10)
