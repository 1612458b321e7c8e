"""Bench task report: equals scikit-learn, counts failures apart, schema round-trips."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from interlens.bench.results import RunResults, TaskSummary, task_report


def _onehot(pred: list[int], k: int) -> np.ndarray:
    probs = np.full((len(pred), k), 0.1 / (k - 1))
    for i, p in enumerate(pred):
        if p < 0:
            probs[i] = np.nan
        else:
            probs[i, p] = 0.9
    return probs


def test_report_matches_sklearn_with_a_never_predicted_label():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    y_pred = [0, 1, 1, 1, 0, 0, 1, 0]  # label 2 is never predicted
    report = task_report(y_true, _onehot(y_pred, 3), 3, n_boot=50)
    kw = {"labels": [0, 1, 2], "zero_division": 0}
    assert report["acc"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert report["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro", **kw))
    assert report["weighted_f1"] == pytest.approx(f1_score(y_true, y_pred, average="weighted", **kw))
    assert report["macro_p"] == pytest.approx(precision_score(y_true, y_pred, average="macro", **kw))
    assert report["macro_r"] == pytest.approx(recall_score(y_true, y_pred, average="macro", **kw))
    assert report["weighted_p"] == pytest.approx(precision_score(y_true, y_pred, average="weighted", **kw))
    assert report["n_failed"] == 0 and report["ece"] == pytest.approx(abs(0.9 - 4 / 8))
    lo, hi = report["ci95"]["acc"]
    assert lo <= report["acc"] <= hi


def test_failures_are_wrong_not_an_extra_class():
    y_true = np.array([0, 1, 1, 0])
    report = task_report(y_true, _onehot([0, -1, 1, -1], 2), 2, n_boot=0)
    assert report["n_failed"] == 2 and report["failure_rate"] == 0.5
    assert report["acc"] == 0.5
    # failures count as misses of the gold class: recall of each class = 1/2
    assert report["macro_r"] == pytest.approx(0.5)
    assert report["macro_p"] == pytest.approx(1.0)  # precision only over real predictions, no "unknown" class
    assert report["ci95"] == {}
    pos = f1_score(y_true, [0, 2, 1, 2], labels=[1], average="macro", zero_division=0)
    assert report["f1"] == pytest.approx(pos) and report["f1_average"] == "binary"


def test_results_schema_roundtrip():
    summary = TaskSummary("t", "T", "intent", "test", True, [0], {"0": {"acc": 1.0}}, {"acc": {"mean": 1.0}})
    run = RunResults("sft", "minilm-ft", {}, {"t/seed0": "abc"}, [0], [summary], {"t": "fp"})
    again = RunResults.from_dict(run.to_dict())
    assert again == run
    assert {"torch", "transformers", "interlens"} <= set(run.versions)
