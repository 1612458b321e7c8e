"""Train-only confidence filter and rebalancing (MMoE Sec. 6.1, App. F.3)."""

from __future__ import annotations

import numpy as np
import pytest

from interlens.errors import DataError
from interlens.interactions import (
    TRAIN_ONLY,
    TrainOnlyError,
    categorize_split,
    confidence_mask,
    margin,
    rebalance,
)
from interlens.predictions import Predictions

NAN = np.nan


def binary(p1):
    """Two-column probabilities from p(class 1)."""
    p1 = np.asarray(p1, dtype=float)
    return np.column_stack([1 - p1, p1])


def test_margin_and_mask_binary():
    probs = binary([0.56, 0.54, 0.9, 0.1, 0.5])
    assert margin(probs) == pytest.approx([0.12, 0.08, 0.8, 0.8, 0.0])
    assert confidence_mask(probs).tolist() == [True, False, True, True, False]
    assert confidence_mask(probs, delta=0.0).tolist() == [True, True, True, True, False]
    assert confidence_mask(probs, delta=0.2).tolist() == [False, False, True, True, False]


def test_mask_renormalises_and_handles_k3_and_missing():
    probs = np.array([[2.0, 1.0, 0.0], [1.05, 0.95, 0.0], [0.5, 0.3, 0.2], [0.4, 0.35, 0.25],
                      [NAN, NAN, NAN]])
    got = margin(probs)
    assert got[:4] == pytest.approx([1 / 3, 0.05, 0.2, 0.05])
    assert np.isnan(got[4])
    assert confidence_mask(probs).tolist() == [True, False, True, False, False]


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (np.array([[0.5, NAN]]), "partly NaN"),
        (np.array([[1.2, -0.2]]), "negative probability"),
        (np.array([[0.0, 0.0]]), "sum to 0"),
        (np.array([0.5, 0.5]), "shape"),
    ],
)
def test_bad_probabilities(probs, message):
    with pytest.raises(DataError, match=message):
        confidence_mask(probs)


def test_bad_delta():
    with pytest.raises(DataError, match="delta"):
        confidence_mask(binary([0.7]), delta=1.5)


P1 = [0.9, 0.2, 0.3, 0.1, 0.4, 0.45, 0.35, 0.05, 0.15, 0.25]


def test_rebalance_rethresholds_minority_to_20_percent():
    result = rebalance(binary(P1))
    assert result.minority == 1
    assert result.threshold == pytest.approx(0.45)
    assert result.pred.tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert result.changed.tolist() == [False] * 5 + [True] + [False] * 4
    assert result.shares_before == pytest.approx((0.9, 0.1))
    assert result.shares_after == pytest.approx((0.8, 0.2))
    assert result.n_changed == 1


def test_rebalance_larger_share_and_minority_class_zero():
    result = rebalance(binary(P1), min_share=0.35)
    assert np.flatnonzero(result.pred == 1).tolist() == [0, 4, 5, 6]
    flipped = rebalance(binary(1 - np.array(P1)))  # mirror: class 0 is now the minority
    assert flipped.minority == 0
    assert np.flatnonzero(flipped.pred == 0).tolist() == [0, 5]


def test_rebalance_ties_included_and_noop_and_missing():
    tied = rebalance(binary([0.9, 0.3, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]))
    assert tied.pred.tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]  # both rows at the threshold flip
    noop = rebalance(binary([0.9, 0.8, 0.7, 0.1, 0.1]))
    assert noop.n_changed == 0 and noop.threshold is None and "no-op" in noop.note
    missing = rebalance(binary([0.9, NAN, 0.2, 0.1, 0.1, 0.3]), mask=np.array([1, 1, 1, 1, 1, 0], bool))
    assert missing.pred.tolist() == [1, -1, 0, 0, 0, -1]  # 1 of 4 = 25 %: nothing to do
    assert missing.shares_before == pytest.approx((0.75, 0.25))


def test_rebalance_multiclass_left_as_is_with_warning():
    probs = np.array([[0.8, 0.1, 0.1]] * 9 + [[0.1, 0.1, 0.8]])
    with pytest.warns(UserWarning, match="3 classes left as predicted"):
        result = rebalance(probs)
    assert result.pred.tolist() == [0] * 9 + [2]
    assert result.n_changed == 0


SPLIT_P1 = binary([0.9, 0.52, 0.2, 0.8, NAN])
SPLIT_P2 = binary([0.7, 0.9, 0.1, 0.3, 0.6])
SPLIT_REF = [1, 1, 0, 0, 1]


def test_categorize_split_train_filters():
    out = categorize_split(SPLIT_P1, SPLIT_P2, SPLIT_REF, split="train", ids=list("abcde"),
                           apply_rebalance=False)
    assert out.categories.tolist() == ["R", "filtered", "R", "U2", "missing"]
    assert out.report["low_confidence"] == {"modality1": 1, "modality2": 0}
    assert out.report["filtered"] == 1
    assert out.report["missing"]["total"] == 1 and out.report["missing"]["modality1"] == 1
    assert out.report["counts"] == {"R": 2, "U1": 0, "U2": 1, "S": 0, "missing": 1, "filtered": 1}
    assert out.ids_of("R") == ["a", "c"]


def test_categorize_split_test_never_filters_and_refuses():
    out = categorize_split(SPLIT_P1, SPLIT_P2, SPLIT_REF, split="test")
    assert out.categories.tolist() == ["R", "R", "R", "U2", "missing"]
    assert out.report["steps"]["filter"] is False and out.report["steps"]["rebalance"] is False
    assert set(TRAIN_ONLY) == {"confidence_mask", "rebalance"}
    for kwargs in ({"apply_filter": True}, {"apply_rebalance": True}):
        with pytest.raises(TrainOnlyError, match="train-only.*'test'"):
            categorize_split(SPLIT_P1, SPLIT_P2, SPLIT_REF, split="test", **kwargs)
    with pytest.raises(TrainOnlyError, match="'val'"):
        categorize_split(SPLIT_P1, SPLIT_P2, SPLIT_REF, split="val", apply_filter=True)


def test_categorize_split_rebalance_changes_categories():
    ref = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    p2 = binary(ref)
    plain = categorize_split(binary(P1), p2, ref, split="train", apply_filter=False, apply_rebalance=False)
    balanced = categorize_split(binary(P1), p2, ref, split="train", apply_filter=False)
    assert plain.categories.tolist() == ["R", "U2"] + ["R"] * 8
    assert balanced.categories.tolist() == ["R", "U2", "R", "R", "R", "U2", "R", "R", "R", "R"]
    assert balanced.report["rebalanced"] == {"modality1": 1, "modality2": 0}
    mmoe = categorize_split(binary(P1), p2, ref, split="train", apply_filter=False, scheme="mmoe")
    assert mmoe.report["counts"] == {"R": 8, "U": 2, "AS": 0, "missing": 0, "filtered": 0}


def test_categorize_split_accepts_predictions_and_checks_ids():
    labels = ("0", "1")
    a = Predictions(["x", "y"], labels, binary([0.9, 0.1]), "text")
    b = Predictions(["y", "x"], labels, binary([0.2, 0.8]), "image")
    out = categorize_split(a, b, [1, 0], split="test")
    assert out.ids == ["x", "y"] and out.categories.tolist() == ["R", "R"]
    c = Predictions(["x", "z"], labels, binary([0.9, 0.1]), "image")
    with pytest.raises(DataError, match="id sets differ"):
        categorize_split(a, c, [1, 0], split="test")


def test_categorize_split_matches_labels_by_name():
    a = Predictions(["x", "y"], ("0", "1"), binary([0.9, 0.1]), "text")
    b = Predictions(["y", "x"], ("1", "0"), binary([0.2, 0.8])[:, ::-1], "image")  # same as above, labels permuted
    out = categorize_split(a, b, [1, 0], split="test")
    assert out.categories.tolist() == ["R", "R"]
    # y_ref given in another label order: the Predictions follow it by name
    assert categorize_split(a, b, [0, 1], split="test", labels=("1", "0")).categories.tolist() == ["R", "R"]
    renamed = Predictions(["x", "y"], ("no", "yes"), binary([0.9, 0.1]), "image", meta={"source": "img.json"})
    with pytest.raises(DataError, match=r"file img\.json, field 'labels': prediction labels \['no', 'yes'\]"):
        categorize_split(a, renamed, [1, 0], split="test")
