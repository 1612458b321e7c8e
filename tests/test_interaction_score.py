"""MINT Eq. (1) interaction score, Eq. (2) dataset distance and grouping (Sec. 3.3)."""

from __future__ import annotations

import numpy as np
import pytest

from interlens.errors import DataError
from interlens.interactions import (
    InteractionScore,
    agreement,
    distance_matrix,
    group_by_clustering,
    group_by_prototype,
    interaction_score,
)
from interlens.predictions import Predictions

Y1, Y2, YM = [0, 1, 2, 1], [0, 0, 2, 1], [0, 1, 1, 1]
P1 = np.array([[0.8, 0.2], [0.5, 0.5]])
P2 = np.array([[0.6, 0.4], [0.0, 1.0]])
PM = np.array([[0.7, 0.3], [0.2, 0.8]])


def test_exact_delta_per_sample_and_score():
    assert agreement(Y1, Y2, YM).tolist() == [2.0, 1.0, 0.0, 2.0]
    result = interaction_score(Y1, Y2, YM, S=5, C=4)  # C = N: every draw is the whole set
    assert result.score == pytest.approx(1.25)
    assert result.mean_all == pytest.approx(1.25)
    assert (result.S, result.C, result.n, result.delta, result.reference) == (5, 4, 4, "exact", "multimodal")


def test_soft_delta_is_one_minus_total_variation():
    # row 0: TV(P1, PM) = 0.1, TV(P2, PM) = 0.1 -> 1.8; row 1: 0.3 and 0.2 -> 1.5
    assert agreement(P1, P2, PM, delta="soft") == pytest.approx([1.8, 1.5])
    assert interaction_score(P1, P2, PM, delta="soft", C=2).score == pytest.approx(1.65)
    # against gold (one-hot) the soft delta is the probability of the gold class: .8+.6, .5+1
    gold = interaction_score(P1, P2, y_gold=[0, 1], reference="gold", delta="soft", C=2)
    assert gold.score == pytest.approx(1.45) and gold.reference == "gold"
    # exact delta on probabilities uses the argmax (row 1 of P1 is a tie -> class 0)
    assert agreement(P1, P2, PM).tolist() == [2.0, 1.0]
    as_pred = [Predictions(["a", "b"], ("x", "y"), p, v) for p, v in ((P1, "text"), (P2, "image"), (PM, "both"))]
    assert agreement(*as_pred, delta="soft") == pytest.approx([1.8, 1.5])


def test_missing_dropped_or_refused():
    y1 = [0, 1, 2, -1]
    assert np.isnan(agreement(y1, Y2, YM)[3])
    result = interaction_score(y1, Y2, YM, C=3)
    assert result.n == 3 and result.score == pytest.approx(1.0)
    with pytest.raises(DataError, match="1 samples lack a prediction"):
        interaction_score(y1, Y2, YM, drop_missing=False)


def test_subsampled_score_is_seeded_and_ci_contains_it():
    rng = np.random.default_rng(7)
    n = 400
    truth = rng.integers(0, 3, n)
    y1 = np.where(rng.random(n) < 0.7, truth, rng.integers(0, 3, n))
    y2 = np.where(rng.random(n) < 0.4, truth, rng.integers(0, 3, n))
    first = interaction_score(y1, y2, truth, S=50, C=100, seed=3)
    again = interaction_score(y1, y2, truth, S=50, C=100, seed=3)
    assert first == again
    assert first.ci_low < first.score < first.ci_high
    assert first.ci_low < first.mean_all < first.ci_high
    assert first.ci_high - first.ci_low < 0.3
    assert abs(first.score - first.mean_all) < 0.05
    assert set(first.to_dict()) >= {"score", "ci_low", "ci_high", "S", "C", "delta", "n"}


def test_degenerate_ci():
    result = interaction_score([1, 1, 1], [1, 1, 1], [1, 1, 1], C=2)
    assert (result.score, result.ci_low, result.ci_high) == (2.0, 2.0, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ym": None}, "needs ym"),
        ({"reference": "gold"}, "needs y_gold"),
        ({"reference": "other"}, "unknown reference"),
        ({"C": 9}, "C must be in 1..4"),
        ({"delta": "cosine"}, "unknown delta"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"ym": YM, **kwargs}
    with pytest.raises(DataError, match=message):
        interaction_score(Y1, Y2, **args)


def test_distance_matrix_eq2():
    third = InteractionScore(0.25, 0.2, 0.3, 1, 1, "exact", 9)
    names, dist = distance_matrix({"a": 2.0, "b": 1.5, "c": third})
    assert names == ["a", "b", "c"]
    np.testing.assert_allclose(dist, [[0, 0.5, 1.75], [0.5, 0, 1.25], [1.75, 1.25, 0]])


def test_group_by_prototype():
    got = group_by_prototype({"a": 1.9, "b": 1.5, "c": 1.2, "d": 0.5, "e": 0.3})
    assert got == {"a": "R", "b": "R", "c": "U", "d": "U", "e": "S"}


def test_group_by_clustering():
    scores = {"vqa": 1.9, "gqa": 1.85, "mosi": 1.0, "urfunny": 1.1, "memecap": 0.2, "hateful": 0.3}
    assert group_by_clustering(scores) == {"vqa": "R", "gqa": "R", "mosi": "U", "urfunny": "U",
                                           "memecap": "S", "hateful": "S"}
    two = group_by_clustering(scores, n_groups=2)
    # U-S average distance (0.80) < R-U (0.825): uniqueness joins synergy
    assert two == {"vqa": "G1", "gqa": "G1", "mosi": "G2", "urfunny": "G2", "memecap": "G2", "hateful": "G2"}
    with pytest.raises(DataError, match="n_groups must be in 1..6"):
        group_by_clustering(scores, n_groups=7)


# -- alignment by sample id and label name (issue 10 scope 8) ----------------------------------------
def _pred(ids, labels, probs, view):
    return Predictions(list(ids), tuple(labels), np.array(probs, dtype=float), view, meta={"source": f"{view}.json"})


def test_predictions_aligned_by_id_and_label_name():
    ordered = [_pred(["a", "b"], ("x", "y"), p, v) for p, v in ((P1, "text"), (P2, "image"), (PM, "both"))]
    # the image file lists its rows in another order and its labels as (y, x)
    shuffled = _pred(["b", "a"], ("y", "x"), P2[::-1, ::-1], "image")
    assert agreement(ordered[0], shuffled, ordered[2], delta="soft") == pytest.approx([1.8, 1.5])
    same = interaction_score(ordered[0], shuffled, ordered[2], delta="soft", C=2)
    assert same == interaction_score(*ordered, delta="soft", C=2)
    assert same.score == pytest.approx(1.65)
    # explicit order: rows follow ids, columns follow labels; arrays must already follow them
    assert agreement(*ordered, ids=["b", "a"]).tolist() == [1.0, 2.0]
    assert agreement(*ordered, ids=["b", "a"], labels=("y", "x"), delta="soft") == pytest.approx([1.5, 1.8])


def test_predictions_with_other_label_names_refused():
    text = _pred(["a", "b"], ("x", "y"), P1, "text")
    yes_no = _pred(["a", "b"], ("yes", "no"), P2, "image")
    with pytest.raises(DataError, match=r"file image\.json, field 'labels': prediction labels \['yes', 'no'\] do not "
                                        r"match the dataset's \['x', 'y'\]"):
        interaction_score(text, yes_no, text)
    with pytest.raises(DataError, match="id sets differ"):
        agreement(text, _pred(["a", "c"], ("x", "y"), P2, "image"), text)


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (np.array([[1.5, -0.5], [0.5, 0.5]]), r"record 0, field 'y2': not a probability row: \[1.5, -0.5\]"),
        (np.array([[0.5, 0.5], [0.9, 0.9]]), r"record 1, field 'y2': not a probability row"),
        (np.array([[0.5, np.nan], [0.5, 0.5]]), r"record 0, field 'y2': not a probability row"),
        (np.array([[np.inf, 0.0], [0.5, 0.5]]), r"record 0, field 'y2': not a probability row"),
    ],
)
def test_invalid_probabilities_refused(probs, message):
    """Negative 'probabilities' once gave an interaction score of -2.38 (range 0..2)."""
    for delta in ("soft", "exact"):
        with pytest.raises(DataError, match=message):
            interaction_score(P1, probs, PM, delta=delta, C=2)


@pytest.mark.parametrize("bad", [-2.38, 2.5, float("nan"), "high"])
def test_out_of_range_scores_refused(bad):
    with pytest.raises(DataError, match="field 'score': score of 'b' is"):
        group_by_prototype({"a": 1.0, "b": bad})
    with pytest.raises(DataError, match="field 'score'"):
        distance_matrix({"a": 1.0, "b": bad})
    with pytest.raises(DataError, match="lies in \\[0, 2\\]|not a number"):
        group_by_clustering({"a": 1.0, "b": bad, "c": 0.0})
