"""Per-sample categories: MMoE Algorithm 1 generalised to k classes, the authors' code variant."""

from __future__ import annotations

import numpy as np
import pytest

import interlens
from interlens.errors import DataError
from interlens.interactions import (
    categorize,
    categorize_mmoe_code,
    category_counts,
    missing_mask,
    to_mmoe_groups,
)


def _algorithm1(y1, y2, y):
    """MMoE App. F.3 Algorithm 1, literally, with U split by which modality is right."""
    if y1 is None or y2 is None or y is None or -1 in (y1, y2, y):
        return "missing"
    if y1 == y2 and y1 == y:
        return "R"
    if y1 == y2:
        return "S"
    if y1 == y:
        return "U1"
    if y2 == y:
        return "U2"
    return "S"


def _code(y1, y2, y):
    if -1 in (y1, y2, y):
        return "missing"
    if y1 == y2:
        return "R" if y1 == y else "AS"
    return "U"


def test_binary_cases_exact():
    y1 = [1, 1, 0, 0, 1, 0, 0, 1]
    y2 = [1, 0, 1, 0, 1, 1, 0, 0]
    ref = [1, 1, 1, 1, 0, 0, 0, 0]
    assert categorize(y1, y2, ref).tolist() == ["R", "U1", "U2", "S", "S", "U1", "R", "U2"]


def test_k_classes_both_wrong_disagreeing_is_synergy():
    # k = 3: y1=2, y2=1, ref=0 -> both wrong and disagreeing: S in Algorithm 1, U in the authors' code
    y1, y2, ref = [0, 2, 2, 1, 0], [0, 1, 2, 1, 2], [0, 0, 0, 2, 2]
    assert categorize(y1, y2, ref).tolist() == ["R", "S", "S", "S", "U2"]
    assert categorize_mmoe_code(y1, y2, ref).tolist() == ["R", "U", "AS", "AS", "U"]
    assert to_mmoe_groups(categorize(y1, y2, ref)).tolist() == ["R", "AS", "AS", "AS", "U"]


def test_string_labels_and_none_missing():
    y1 = ["yes", "no", None, "maybe", "no"]
    y2 = ["yes", "yes", "no", "no", "no"]
    ref = ["yes", "yes", "no", "yes", None]
    assert categorize(y1, y2, ref).tolist() == ["R", "U2", "missing", "S", "missing"]


def test_missing_int_and_nan_and_counts():
    cats = categorize([1, -1, 0, 1], np.array([1.0, 0.0, np.nan, 0.0]), [1, 1, 0, 1])
    assert cats.tolist() == ["R", "missing", "missing", "U1"]
    assert category_counts(cats) == {"R": 1, "U1": 1, "U2": 0, "S": 0, "missing": 2}
    assert missing_mask([3, -1, 0]).tolist() == [False, True, False]


def test_all_missing_column_with_string_labels():
    assert categorize([None, None], ["a", "b"], ["a", "a"]).tolist() == ["missing", "missing"]


def test_top_level_export():
    assert interlens.categorize is categorize


@pytest.mark.parametrize(
    ("y1", "y2", "ref", "message"),
    [
        ([0, 1], [0], [0, 1], "length mismatch"),
        ([0, 1], ["a", "b"], [0, 1], "label types differ"),
        ([0, "a"], [0, 1], [0, 1], "mix types"),
        ([0.5, 1.0], [0, 1], [0, 1], "whole numbers"),
        ([[0, 1]], [[0, 1]], [[0, 1]], "one-dimensional"),
    ],
)
def test_bad_inputs(y1, y2, ref, message):
    with pytest.raises(DataError, match=message):
        categorize(y1, y2, ref)


def test_unknown_category_in_mapping():
    with pytest.raises(DataError, match="unknown category 'X'"):
        to_mmoe_groups(["R", "X"])


@pytest.mark.parametrize("k", [2, 3, 7])
def test_vectorised_equals_python_loop(k):
    rng = np.random.default_rng(k)
    n = 5000
    y1, y2, ref = (rng.integers(-1, k, n) for _ in range(3))
    expected = [_algorithm1(a, b, c) for a, b, c in zip(y1.tolist(), y2.tolist(), ref.tolist(), strict=True)]
    assert categorize(y1, y2, ref).tolist() == expected
    code = [_code(a, b, c) for a, b, c in zip(y1.tolist(), y2.tolist(), ref.tolist(), strict=True)]
    assert categorize_mmoe_code(y1, y2, ref).tolist() == code
    # as strings with None for missing: same answer
    names = np.array([f"c{i}" for i in range(k)], dtype=object)

    def as_str(y):
        out = names[np.clip(y, 0, None)]
        out[y == -1] = None
        return out

    assert categorize(as_str(y1), as_str(y2), as_str(ref)).tolist() == expected
    if k == 2:  # binary: the authors' code and Algorithm 1 give the same sets
        assert to_mmoe_groups(categorize(y1, y2, ref)).tolist() == code


def test_predictions_aligned_by_id_and_label_name():
    from interlens.predictions import Predictions

    def pred(ids, labels, rows):
        return Predictions(ids, labels, np.array(rows, dtype=float), "v", meta={"source": "v.json"})

    p1 = pred(["a", "b", "c"], ("no", "yes"), [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    p2 = pred(["c", "b", "a"], ("yes", "no"), [[0.1, 0.9], [0.6, 0.4], [0.8, 0.2]])  # shuffled rows, permuted labels
    assert categorize(p1, p2, [0, 1, 0]).tolist() == ["U1", "R", "U2"]
    assert categorize(p1, p2, ["no", "yes", "no"]).tolist() == ["U1", "R", "U2"]  # reference by name
    assert categorize(p1, p2, [0, 1, 0], ids=["c", "b", "a"]).tolist() == ["U2", "R", "U1"]
    assert categorize_mmoe_code(p1, p2, [0, 1, 0]).tolist() == ["U", "R", "U"]
    with pytest.raises(DataError, match=r"v\.json, field 'labels': prediction labels \['true', 'false'\] do not match"):
        categorize(p1, pred(["a", "b", "c"], ("true", "false"), [[0.5, 0.5]] * 3), [0, 1, 0])
