import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from interlens.metrics import bootstrap_ci, classification_metrics, expected_calibration_error


def test_multiclass_matches_sklearn_with_a_never_predicted_label():
    y_true = np.array([0, 1, 2, 2, 1, 0, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 0, 0])  # label 2 is never predicted
    m = classification_metrics(y_true, y_pred, 3)
    assert m["acc"] == accuracy_score(y_true, y_pred)
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert m["weighted_p"] == pytest.approx(precision_score(y_true, y_pred, average="weighted", zero_division=0))
    assert m["macro_r"] == pytest.approx(recall_score(y_true, y_pred, average="macro", zero_division=0))
    assert m["f1_average"] == "macro" and m["f1"] == m["macro_f1"]


def test_binary_f1_is_the_positive_class_and_failures_are_errors():
    y_true = np.array([1, 1, 0, 0, 1])
    y_pred = np.array([1, -1, 0, 1, 1])  # -1 = no prediction / parse failure
    m = classification_metrics(y_true, y_pred, 2)
    # positives: tp=2, fp=1, fn=1 (the failure) -> P = R = F1 = 2/3; accuracy 3/5
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert m["acc"] == pytest.approx(0.6) and m["n_failed"] == 1 and m["f1_average"] == "binary"
    no_fail = classification_metrics(y_true[[0, 2, 3, 4]], y_pred[[0, 2, 3, 4]], 2)
    assert no_fail["f1"] == pytest.approx(f1_score([1, 0, 0, 1], [1, 0, 1, 1]))


def test_failures_never_become_a_class_in_macro_scores():
    m = classification_metrics(np.array([0, 1, 2]), np.array([0, 1, -1]), 3)
    # class 2 has recall 0 and no predictions; macro averages run over the 3 gold labels only
    assert m["macro_r"] == pytest.approx(2 / 3) and m["macro_p"] == pytest.approx(2 / 3)


def test_ece_hand_case_and_bootstrap():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    y = np.array([0, 1, 0, 0])  # bin 0.9: acc 0.5 vs conf 0.9; bin 0.6: acc 1.0 vs conf 0.6
    assert expected_calibration_error(y, probs) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    values = np.arange(100, dtype=float)
    low, high = bootstrap_ci(lambda idx: values[idx].mean(), 100, n_boot=300)
    assert low < 49.5 < high
