"""Chance floors and statistics with the right unit (issue 26, items 1-2): the constant (eval-split
prior) floor and the train majority on a hand-made split with a shifted prior, the per-item paired
test against scipy on a hand-made case with seeds, and the test-item bootstrap against a reference."""

import numpy as np
import pytest
from scipy import stats

from interlens.baselines import (
    bootstrap_vs_reference,
    constant_floor,
    floor_warning,
    floors,
    paired_over_items,
    permutation_test,
)
from interlens.errors import DataError

# train: 6 x 'yes' (1), 2 x 'no' (0) -> train majority 'yes'; test: 7 x 'no', 3 x 'yes' -> prior 'no' 0.7
Y_TRAIN = [1, 1, 1, 1, 1, 1, 0, 0]
Y_TEST = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]


def test_floors_on_a_split_with_a_shifted_prior():
    assert constant_floor(Y_TEST) == {"name": "constant floor (eval-split prior, oracle)", "index": 0,
                                      "acc": pytest.approx(0.7)}
    assert constant_floor([2, 1, 2, 1], n_labels=4) == {"name": "constant floor (eval-split prior, oracle)",
                                                         "index": 1, "acc": 0.5}  # tie: smallest index
    f = floors(Y_TRAIN, Y_TEST, labels=["no", "yes"])
    assert f["constant_floor"]["acc"] == pytest.approx(0.7) and f["constant_floor"]["label"] == "no"
    assert f["train_majority"] == {"index": 1, "label": "yes", "acc": pytest.approx(0.3), "fit_on": "train"}
    assert f["highest_floor_acc"] == pytest.approx(0.7)
    # a model at 0.6 beats the train majority (0.3) but not the oracle floor (0.7): flagged
    assert floor_warning("router", 0.6, f) == ("router: test ACC 0.600 <= constant floor 0.700 (always 'no'): "
                                               "not better than chance")
    assert floor_warning("router", 0.7, f) is not None and floor_warning("router", 0.8, f) is None
    assert floors(None, Y_TEST)["highest_floor_acc"] == pytest.approx(0.7)
    with pytest.raises(DataError, match="non-empty"):
        constant_floor([])


# 12 items x 3 seeds of 0/1 correctness for two methods (hand-made; b is a at some items, worse at others)
A = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0], [1, 0, 1], [1, 1, 1],
              [1, 1, 1], [0, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 1]])
B = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1],
              [0, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 1, 0]])


def test_paired_over_items_agrees_with_scipy_on_items_with_seeds():
    ma, mb = A.mean(axis=1), B.mean(axis=1)
    ref = stats.permutation_test((ma, mb), lambda u, v, axis: np.mean(u - v, axis=axis),
                                 permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
    r = paired_over_items(A, B, n_boot=2000)
    assert r["p_value"] == pytest.approx(ref.pvalue, abs=1e-12)
    assert r["delta"] == pytest.approx((A.sum() - B.sum()) / 36) and r["n_items"] == 12 and r["n_seeds"] == 3
    d = ma - mb
    assert r["effect_size"]["mean_difference"] == pytest.approx(d.mean())
    assert r["effect_size"]["cohens_dz"] == pytest.approx(d.mean() / d.std(ddof=1))
    ranks = stats.rankdata(np.abs(d[d != 0]))
    nz = d[d != 0]
    assert r["effect_size"]["rank_biserial"] == pytest.approx(
        (ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum())
    assert r["ci95"][0] < r["delta"] < r["ci95"][1]
    assert r["test"].startswith("exact permutation over items")
    # seeded Monte Carlo agrees; pooling (item, seed) pairs as samples claims more than the data hold
    mc = paired_over_items(A, B, n_resamples=20000, seed=1, n_boot=200)
    assert mc["p_value"] == pytest.approx(ref.pvalue, abs=0.02)
    y = np.zeros(36, int)
    pooled = permutation_test(y, np.where(A.ravel() == 1, 0, 1), np.where(B.ravel() == 1, 0, 1))["p_value"]
    assert pooled < r["p_value"]
    # identical methods: p = 1, no difference
    same = paired_over_items(A, A, n_boot=100)
    assert same["p_value"] == 1.0 and same["delta"] == 0.0 and same["ci95"] == [0.0, 0.0]
    with pytest.raises(DataError, match="same test items"):
        paired_over_items(A, B[:5])
    with pytest.raises(DataError, match="0/1"):
        paired_over_items(A * 2, B)


def test_bootstrap_vs_reference_uses_test_items():
    # 3 seeds, 20 items: items 0-13 always right, 14-15 right in 2 of 3 seeds, 16-19 never -> 0.7333
    c = np.zeros((20, 3), int)
    c[:14] = 1
    c[14:16, :2] = 1
    r = bootstrap_vs_reference(c, 0.70, n_boot=5000, seed=0)
    assert r["ours"] == pytest.approx((14 + 4 / 3) / 20) and r["diff"] == pytest.approx(r["ours"] - 0.70)
    assert r["reference_binomial_se"] == pytest.approx(np.sqrt(0.7 * 0.3 / 20))
    assert r["verdict"] == "not distinguishable" and r["diff_ci95"][0] < 0 < r["diff_ci95"][1]
    assert r["diff_ci95"] == pytest.approx([r["ours_ci95"][0] - 0.7, r["ours_ci95"][1] - 0.7])
    per_item = c.mean(axis=1)
    sp = stats.bootstrap((per_item,), np.mean, n_resamples=5000, method="percentile", random_state=0)
    assert r["ours_ci95"] == pytest.approx([sp.confidence_interval.low, sp.confidence_interval.high], abs=0.03)
    # every item always right -> above any reference below 1, CI of a single point
    top = bootstrap_vs_reference(np.ones((30, 2)), 0.9, n_boot=500)
    assert top["ours_ci95"] == [1.0, 1.0] and top["verdict"] == "above"
    assert bootstrap_vs_reference(np.zeros(30), 0.5, n_boot=500)["verdict"] == "below"
    with pytest.raises(DataError, match="fraction"):
        bootstrap_vs_reference(c, 70.0)
